package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the kernel's USER_HZ, the unit of /proc's CPU times: 100 on
// every Linux architecture's user ABI, whatever the kernel's own HZ.
const userHZ = 100

// hostCPU is /proc/stat's aggregate line: jiffies busy and in total.
type hostCPU struct{ busy, total uint64 }

// readHostCPU reads the first line of /proc/stat ("cpu  user nice system
// idle iowait irq softirq steal ..."); idle and iowait count as not busy.
func readHostCPU(stat []byte) (hostCPU, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return hostCPU{}, errors.New("evidence: /proc/stat: no aggregate cpu line")
	}
	var c hostCPU
	for i, s := range f[1:] {
		if i >= 8 { // guest and guest_nice are already inside user and nice
			break
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return hostCPU{}, fmt.Errorf("evidence: /proc/stat: %w", err)
		}
		c.total += v
		if i != 3 && i != 4 { // idle, iowait
			c.busy += v
		}
	}
	return c, nil
}

// busyShare is the share of all cores busy between two readings (0..1).
func busyShare(a, b hostCPU) (float64, bool) {
	if b.total <= a.total || b.busy < a.busy {
		return 0, false
	}
	return float64(b.busy-a.busy) / float64(b.total-a.total), true
}

// procTicks reads utime+stime (clock ticks) from /proc/PID/stat. The
// command name may hold spaces and parentheses: fields are counted after
// the last ')'.
func procTicks(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("evidence: /proc/PID/stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// after ')': state(3) ppid(4) ... utime is field 14, stime 15 (1-based over the whole line)
	if len(f) < 13 {
		return 0, errors.New("evidence: /proc/PID/stat: too few fields")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("evidence: /proc/PID/stat: %w", err)
	}
	return u + s, nil
}

// procName is the command name in /proc/PID/stat, between the parentheses.
func procName(stat []byte) string {
	i, j := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if i < 0 || j < i {
		return ""
	}
	return string(stat[i+1 : j])
}

// cpuReader reads processes' CPU time from a /proc tree (a test points it elsewhere).
type cpuReader struct{ root string }

func (r cpuReader) host() (hostCPU, error) {
	b, err := os.ReadFile(r.root + "/stat")
	if err != nil {
		return hostCPU{}, err
	}
	return readHostCPU(b)
}

// ticks is the CPU time of the processes pids, summed; processes that are
// gone are skipped.
func (r cpuReader) ticks(pids []int) uint64 {
	var sum uint64
	for _, pid := range pids {
		b, err := os.ReadFile(r.root + "/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		if t, err := procTicks(b); err == nil {
			sum += t
		}
	}
	return sum
}

// pidsNamed lists the processes whose command name is name (e.g. the
// postgres server and its backends).
func (r cpuReader) pidsNamed(name string) []int {
	var out []int
	r.eachPID(func(pid int, dir string) {
		if b, err := os.ReadFile(dir + "/stat"); err == nil && procName(b) == name {
			out = append(out, pid)
		}
	})
	return out
}

// eachPID calls fn with every process's pid and /proc folder.
func (r cpuReader) eachPID(fn func(pid int, dir string)) {
	ents, err := os.ReadDir(r.root)
	if err != nil {
		return
	}
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			fn(pid, r.root+"/"+e.Name())
		}
	}
}
