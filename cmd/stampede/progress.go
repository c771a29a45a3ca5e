package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/scenarios/engine"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// newProgress shows a run while it goes: a bar with the live figures on a
// terminal (mpb), plain periodic lines elsewhere (CI logs); nil (none)
// without a writer. faults, when set, names the faults in force.
// total is the plan's length, the bar's.
func newProgress(w io.Writer, terminal bool, total time.Duration, faults func() string) engine.Progress {
	if w == nil {
		return nil
	}
	if !terminal {
		return &lineProgress{w: w, faults: faults, every: 5 * time.Second}
	}
	return newBarProgress(w, total, faults)
}

// status renders the live figures in one line: a search's state, then the
// faults in force.
func status(l engine.Live, faults func() string) string {
	extra := ""
	if faults != nil {
		extra = faults()
	}
	if l.Note != "" {
		extra = strings.TrimSpace(l.Note + "  " + extra)
	}
	name := l.StageName
	left := l.Planned - l.Elapsed
	if left < 0 {
		left = 0
	}
	s := fmt.Sprintf("%-12s offered %6.1f/s  achieved %6.1f/s  p99 %8s  errors %5.1f%%  left %s",
		name, l.OfferedRPS, l.AchievedRPS, l.P99.Round(100*time.Microsecond), 100*l.ErrorRatio, left.Round(time.Second))
	if extra != "" {
		s += "  " + extra
	}
	return s
}

type lineProgress struct {
	w      io.Writer
	faults func() string
	every  time.Duration
	last   time.Duration
	lastSt int
}

func (p *lineProgress) Update(l engine.Live) {
	if l.Elapsed-p.last < p.every && l.Stage == p.lastSt && p.last > 0 {
		return
	}
	p.last, p.lastSt = l.Elapsed, l.Stage
	fmt.Fprintf(p.w, "[%6s] %s\n", l.Elapsed.Round(time.Second), status(l, p.faults))
}

func (p *lineProgress) Done() {}

type barProgress struct {
	p      *mpb.Progress
	bar    *mpb.Bar
	faults func() string

	mu   sync.Mutex
	line string
}

func newBarProgress(w io.Writer, total time.Duration, faults func() string) *barProgress {
	bp := &barProgress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(24), mpb.WithRefreshRate(250*time.Millisecond)),
		faults: faults}
	bp.bar = bp.p.AddBar(int64(total/time.Millisecond),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			bp.mu.Lock()
			defer bp.mu.Unlock()
			return bp.line
		})),
		mpb.AppendDecorators(decor.Percentage()),
	)
	return bp
}

func (p *barProgress) Update(l engine.Live) {
	p.mu.Lock()
	p.line = status(l, p.faults)
	p.mu.Unlock()
	p.bar.SetCurrent(int64(l.Elapsed / time.Millisecond))
}

func (p *barProgress) Done() {
	p.bar.SetTotal(-1, true)
	p.p.Wait()
}
