package evidence

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"testing"
)

// burnerEnv makes the test binary, re-executed, a tiny HTTP server that
// burns a core: a target in a process of its own for the CPU sampler.
const burnerEnv = "STAMPEDE_EVIDENCE_TEST_BURNER"

func TestMain(m *testing.M) {
	if os.Getenv(burnerEnv) == "1" {
		burn()
		return
	}
	os.Exit(m.Run())
}

// burn listens on a free loopback port, prints the address, serves, and
// spins on every core until its parent closes its stdin.
func burn() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	go http.Serve(ln, http.NotFoundHandler())
	for range runtime.NumCPU() { // a spinner a core: a fair share on a busy machine too
		go func() {
			x := 0
			for {
				x++
			}
		}()
	}
	fmt.Println(ln.Addr().String())
	_, _ = os.Stdin.Read(make([]byte, 1)) // EOF when the test ends
}
