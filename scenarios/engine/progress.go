package engine

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress shows a run while it goes: a bar with the live figures on a
// terminal (mpb), plain periodic lines elsewhere (CI logs).
type progress interface {
	update(l Live, extra string)
	done()
}

func newProgress(w io.Writer, terminal bool, total time.Duration, stages []scenarios.Stage) progress {
	if w == nil {
		return nopProgress{}
	}
	if !terminal {
		return &lineProgress{w: w, total: total, stages: stages, every: 5 * time.Second}
	}
	return newBarProgress(w, total, stages)
}

type nopProgress struct{}

func (nopProgress) update(Live, string) {}
func (nopProgress) done()               {}

// status renders the live figures in one line.
func status(l Live, total time.Duration, stages []scenarios.Stage, extra string) string {
	name := ""
	if l.Stage < len(stages) {
		name = stages[l.Stage].Name
	}
	left := total - l.Elapsed
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
	total  time.Duration
	stages []scenarios.Stage
	every  time.Duration
	last   time.Duration
	lastSt int
}

func (p *lineProgress) update(l Live, extra string) {
	if l.Elapsed-p.last < p.every && l.Stage == p.lastSt && p.last > 0 {
		return
	}
	p.last, p.lastSt = l.Elapsed, l.Stage
	fmt.Fprintf(p.w, "[%6s] %s\n", l.Elapsed.Round(time.Second), status(l, p.total, p.stages, extra))
}

func (p *lineProgress) done() {}

type barProgress struct {
	p      *mpb.Progress
	bar    *mpb.Bar
	total  time.Duration
	stages []scenarios.Stage

	mu   sync.Mutex
	line string
}

func newBarProgress(w io.Writer, total time.Duration, stages []scenarios.Stage) *barProgress {
	bp := &barProgress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(24), mpb.WithRefreshRate(250*time.Millisecond)),
		total: total, stages: stages}
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

func (p *barProgress) update(l Live, extra string) {
	p.mu.Lock()
	p.line = status(l, p.total, p.stages, extra)
	p.mu.Unlock()
	p.bar.SetCurrent(int64(l.Elapsed / time.Millisecond))
}

func (p *barProgress) done() {
	p.bar.SetTotal(-1, true)
	p.p.Wait()
}
