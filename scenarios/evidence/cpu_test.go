package evidence

import (
	"os"
	"testing"
)

func TestReadHostCPU(t *testing.T) {
	a, err := readHostCPU([]byte("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n"))
	if err != nil || a.busy != 150 || a.total != 1000 {
		t.Fatalf("%+v %v", a, err)
	}
	b, _ := readHostCPU([]byte("cpu  200 0 100 850 50 0 0 0 0 0\n"))
	if s, ok := busyShare(a, b); !ok || s != 150.0/200 {
		t.Fatalf("busy share %v %v", s, ok)
	}
	if _, ok := busyShare(b, a); ok {
		t.Fatal("a reading going backwards gave a share")
	}
	if _, err := readHostCPU([]byte("intr 1 2\n")); err == nil {
		t.Fatal("no error without a cpu line")
	}
}

func TestProcTicks(t *testing.T) {
	stat := []byte("4242 (post gres) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 1 0 100 0 0\n")
	if n, err := procTicks(stat); err != nil || n != 42 {
		t.Fatalf("%d %v", n, err)
	}
	if name := procName(stat); name != "post gres) (x)" {
		t.Fatalf("%q", name)
	}
}

func TestCPUReaderOnThisMachine(t *testing.T) {
	r := cpuReader{root: "/proc"}
	if _, err := r.host(); err != nil {
		t.Fatal(err)
	}
	before := r.ticks([]int{os.Getpid()})
	x := 0
	for r.ticks([]int{os.Getpid()}) < before+2 { // burn CPU until the kernel has counted some
		for i := 0; i < 1e6; i++ {
			x += i
		}
	}
	if got := r.pidsNamed(procNameOf(t, r)); len(got) == 0 || x == 0 {
		t.Fatalf("this process not found by its name: %v", got)
	}
}

func procNameOf(t *testing.T, r cpuReader) string {
	b, err := os.ReadFile(r.root + "/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	return procName(b)
}
