package evidence

import (
	"bytes"
	"context"
	"encoding/hex"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/stampede-load/stampede/scenarios/rundir"
)

// relookEvery is how often a target process not found (or gone) is
// looked for again: the lookup reads every process's file descriptors.
const relookEvery = 5 * time.Second

// runCPUSampler writes a cpu_sample every SampleEvery, when this machine
// has a /proc to read. Its first reading looks up the target's and the
// database's processes by reading every process's descriptors (tens of
// milliseconds on a busy machine): done in its goroutine, not before the
// run may start.
func (ev *Evidence) runCPUSampler(ctx context.Context, sink engine.Sink) {
	ev.wg.Add(1)
	go func() {
		defer ev.wg.Done()
		c := newCPUSampler(cpuReader{root: "/proc"}, ev.cfg.TargetAddr, ev.cfg.DBAddr)
		if c == nil {
			return
		}
		every(ctx, ev.cfg.SampleEvery, sink, func() rundir.Event {
			s, ok := c.sample(time.Now())
			if !ok {
				return nil
			}
			return s
		})
	}()
}

// cpuSampler turns /proc's cumulative CPU times into cores used over each
// interval: the host's, this process's, the target's process (found by
// the port it listens on, when it listens on this machine) and
// PostgreSQL's (when the database is on this machine).
type cpuSampler struct {
	r    cpuReader
	self int
	// targetPort and dbPort are 0 when that side is not on this machine.
	targetPort, dbPort int

	// target are the processes holding the target's listening socket,
	// dbServer the database server's; each is looked up at the start and
	// again (at most every relookEvery) once none of them is left.
	target, dbServer       []int
	targetLookup, dbLookup time.Time

	lastHost hostCPU
	lastAt   time.Time
	gen      procSet
	tgt      procSet
	db       procSet
}

// newCPUSampler takes its first reading; nil when /proc cannot be read.
func newCPUSampler(r cpuReader, targetAddr, dbAddr string) *cpuSampler {
	host, _, err := r.hostAndCores()
	if err != nil {
		return nil
	}
	c := &cpuSampler{r: r, self: os.Getpid(), targetPort: localPort(targetAddr), dbPort: localPort(dbAddr),
		lastHost: host, lastAt: time.Now()}
	c.gen.update(r, []int{c.self})
	if c.targetPort != 0 {
		c.lookTarget(c.lastAt)
		c.tgt.update(r, c.target)
	}
	if c.dbPort != 0 {
		c.lookDB(c.lastAt)
		c.db.update(r, c.dbPIDs())
	}
	return c
}

// localPort is addr's port when its host is this machine's loopback; 0
// otherwise.
func localPort(addr string) int {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0
	}
	p, _ := strconv.Atoi(port)
	return p
}

func (c *cpuSampler) sample(now time.Time) (rundir.CPUSample, bool) {
	host, cores, err := c.r.hostAndCores()
	secs := now.Sub(c.lastAt).Seconds()
	if err != nil || secs <= 0 {
		return rundir.CPUSample{}, false
	}
	busy, ok := busyShare(c.lastHost, host)
	c.lastHost, c.lastAt = host, now
	if !ok {
		return rundir.CPUSample{}, false
	}
	s := rundir.CPUSample{Cores: cores, HostBusy: round3(busy), GeneratorCores: round3(ticksToCores(c.gen.update(c.r, []int{c.self}), secs))}
	if c.targetPort != 0 {
		if !c.alive(c.target) && now.Sub(c.targetLookup) >= relookEvery {
			c.lookTarget(now)
		}
		d := c.tgt.update(c.r, c.target)
		switch {
		case slices.Contains(c.target, c.self):
			s.TargetInProcess, s.TargetPID = true, c.self
		case len(c.target) > 0:
			s.TargetPID = c.target[0]
			s.TargetCores = ptr(round3(ticksToCores(d, secs)))
		}
	}
	if c.dbPort != 0 {
		if !c.alive(c.dbServer) && now.Sub(c.dbLookup) >= relookEvery {
			c.lookDB(now)
		}
		s.DBCores = ptr(round3(ticksToCores(c.db.update(c.r, c.dbPIDs()), secs)))
	}
	return s, true
}

// alive says whether any of pids is still there.
func (c *cpuSampler) alive(pids []int) bool {
	for _, pid := range pids {
		if _, err := os.Stat(c.r.root + "/" + strconv.Itoa(pid)); err == nil {
			return true
		}
	}
	return false
}

// lookTarget and lookDB find the processes listening on the target's and
// the database's ports. The lookup reads every process's descriptors
// (tens of milliseconds on a busy machine), hence done rarely.
func (c *cpuSampler) lookTarget(now time.Time) {
	c.targetLookup = now
	c.target = c.r.listeners(c.targetPort)
}

func (c *cpuSampler) lookDB(now time.Time) {
	c.dbLookup = now
	c.dbServer = c.r.listeners(c.dbPort)
}

// dbPIDs are the PostgreSQL server listening on dbPort and its children
// (the backends, which come and go: read each sample); when that server
// cannot be found, every process named postgres on this machine.
func (c *cpuSampler) dbPIDs() []int {
	if len(c.dbServer) > 0 {
		return c.r.childrenNamed(c.dbServer, "postgres")
	}
	return c.r.pidsNamed("postgres")
}

func ticksToCores(ticks uint64, secs float64) float64 { return float64(ticks) / userHZ / secs }

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// procSet follows a changing set of processes' CPU times: update returns
// the ticks they used since the previous update. A process that appeared
// since counts whole (it started within the interval); one that exited
// takes its last interval with it.
type procSet struct {
	last map[int]uint64
}

func (p *procSet) update(r cpuReader, pids []int) uint64 {
	cur := make(map[int]uint64, len(pids))
	var d uint64
	for _, pid := range pids {
		t, ok := r.procTicksOf(pid)
		if !ok {
			continue
		}
		cur[pid] = t
		switch prev, seen := p.last[pid]; {
		case seen && t >= prev:
			d += t - prev
		case !seen && p.last != nil:
			d += t
		}
	}
	p.last = cur
	return d
}

func (r cpuReader) procTicksOf(pid int) (uint64, bool) {
	b, err := os.ReadFile(r.root + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	t, err := procTicks(b)
	return t, err == nil
}

// hostAndCores reads /proc/stat: the aggregate CPU line and the number of
// cores (its cpuN lines).
func (r cpuReader) hostAndCores() (hostCPU, int, error) {
	b, err := os.ReadFile(r.root + "/stat")
	if err != nil {
		return hostCPU{}, 0, err
	}
	h, err := readHostCPU(b)
	if err != nil {
		return hostCPU{}, 0, err
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) > 3 && bytes.HasPrefix(line, []byte("cpu")) && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return h, n, nil
}

// listeners are the processes holding a listening TCP socket on port
// (IPv4 or IPv6), sorted: the socket's inode from /proc/net/tcp and tcp6,
// then every /proc/PID/fd entry that links to socket:[inode].
func (r cpuReader) listeners(port int) []int {
	inodes := map[string]bool{}
	for _, f := range []string{"/net/tcp", "/net/tcp6"} {
		b, err := os.ReadFile(r.root + f)
		if err != nil {
			continue
		}
		for _, ino := range listenInodes(b, port) {
			inodes["socket:["+ino+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return nil
	}
	var out []int
	r.eachPID(func(pid int, dir string) {
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			return
		}
		for _, fd := range fds {
			if link, err := os.Readlink(dir + "/fd/" + fd.Name()); err == nil && inodes[link] {
				out = append(out, pid)
				return
			}
		}
	})
	slices.Sort(out)
	return out
}

// tcpListen is the state column's value for a listening socket.
const tcpListen = "0A"

// listenInodes reads a /proc/net/tcp (or tcp6) table: the inodes of the
// sockets in LISTEN state on port, whatever their address.
func listenInodes(table []byte, port int) []string {
	var out []string
	for i, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 10 || f[3] != tcpListen {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		pb, err := hex.DecodeString(hexPort)
		if err != nil || len(pb) != 2 || int(pb[0])<<8|int(pb[1]) != port {
			continue
		}
		if f[9] != "0" {
			out = append(out, f[9])
		}
	}
	return out
}

// childrenNamed is parents and their children named name.
func (r cpuReader) childrenNamed(parents []int, name string) []int {
	out := slices.Clone(parents)
	ents, err := os.ReadDir(r.root)
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || slices.Contains(parents, pid) {
			continue
		}
		b, err := os.ReadFile(r.root + "/" + e.Name() + "/stat")
		if err != nil || procName(b) != name {
			continue
		}
		if pp, ok := procPPID(b); ok && slices.Contains(parents, pp) {
			out = append(out, pid)
		}
	}
	return out
}

// procPPID is the parent pid in /proc/PID/stat (the second field after
// the command name).
func procPPID(stat []byte) (int, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}
