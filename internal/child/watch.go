package child

import (
	"cmp"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// SampleIntervalDefault is how often a Watch measures memory when
// Limits.SampleInterval is 0.
const SampleIntervalDefault = time.Second

// Limits bound one running job.
type Limits struct {
	// Timeout is how long the job may run before its group gets SIGTERM;
	// 0 means no limit.
	Timeout time.Duration
	// KillGrace is how long after that SIGTERM the group gets SIGKILL.
	KillGrace time.Duration
	// MaxRSS is the most resident memory, in bytes, the job's process
	// tree may use before it is killed; 0 means no limit.
	MaxRSS int64
	// SampleInterval is how often the memory is measured. Defaults to
	// SampleIntervalDefault.
	SampleInterval time.Duration
}

// Watch holds the timers that enforce a job's Limits. Its owner selects on
// TimeoutC, KillC and SampleC next to the child's Done, and calls the
// matching On method when one fires; a nil channel never fires. A Watch is
// used by one goroutine.
type Watch struct {
	c   *Child
	l   Limits
	clk clock.Clock

	timeout, kill, sampler clock.Timer
	timedOut, memExceeded  bool
	peak                   int64
}

// NewWatch starts watching c against l on clk (nil: the real clock).
func NewWatch(c *Child, l Limits, clk clock.Clock) *Watch {
	if clk == nil {
		clk = clock.Real{}
	}
	l.SampleInterval = cmp.Or(l.SampleInterval, SampleIntervalDefault)
	w := &Watch{c: c, l: l, clk: clk}
	if l.Timeout > 0 {
		w.timeout = clk.NewTimer(l.Timeout)
	}
	if l.MaxRSS > 0 {
		w.sampler = clk.NewTimer(l.SampleInterval)
	}
	return w
}

// TimeoutC fires when the job has run for its Timeout.
func (w *Watch) TimeoutC() <-chan time.Time { return timerC(w.timeout) }

// OnTimeout sends SIGTERM to the job's group and arms KillC.
func (w *Watch) OnTimeout() {
	w.timedOut, w.timeout = true, nil
	w.c.Signal(syscall.SIGTERM)
	w.kill = w.clk.NewTimer(w.l.KillGrace)
}

// KillC fires KillGrace after a timeout's SIGTERM.
func (w *Watch) KillC() <-chan time.Time { return timerC(w.kill) }

// OnKill sends SIGKILL to the job's group.
func (w *Watch) OnKill() {
	w.kill = nil
	w.c.Signal(syscall.SIGKILL)
}

// SampleC fires when the job's memory is due to be measured.
func (w *Watch) SampleC() <-chan time.Time {
	if w.memExceeded {
		return nil
	}
	return timerC(w.sampler)
}

// OnSample measures the job's process tree. Over MaxRSS it kills the
// job's group and reports true; else it arms the next sample.
func (w *Watch) OnSample() (rss int64, exceeded bool) {
	rss = TreesRSS([]int{w.c.PID()})[0]
	w.peak = max(w.peak, rss)
	if rss > w.l.MaxRSS {
		w.memExceeded = true
		w.c.Signal(syscall.SIGKILL)
		return rss, true
	}
	w.sampler.Reset(w.l.SampleInterval)
	return rss, false
}

// TimedOut reports whether the job ran past its Timeout.
func (w *Watch) TimedOut() bool { return w.timedOut }

// MemExceeded reports whether the job was killed for exceeding MaxRSS.
func (w *Watch) MemExceeded() bool { return w.memExceeded }

// Peak returns the largest memory sample, in bytes.
func (w *Watch) Peak() int64 { return w.peak }

// Stop stops the timers.
func (w *Watch) Stop() {
	for _, t := range []clock.Timer{w.timeout, w.kill, w.sampler} {
		if t != nil {
			t.Stop()
		}
	}
}

func timerC(t clock.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}
