package sqsdispatch

import (
	"os"
	"syscall"
	"time"
)

// watch holds the timers of one running job: its Timeout (SIGTERM, then
// SIGKILL after KillGrace) and its memory sampling against a MaxRSS limit.
type watch struct {
	d     *Dispatcher
	c     *child
	job   Job
	limit int64 // bytes; 0 means no limit

	timeout, kill, sampler *time.Timer
	timedOut, memExceeded  bool
	peak                   int64
}

func (w *watch) timeoutC() <-chan time.Time {
	if w.timeout == nil && w.job.Timeout > 0 && !w.timedOut {
		w.timeout = time.NewTimer(w.job.Timeout)
	}
	return timerC(w.timeout)
}

func (w *watch) onTimeout() {
	w.timedOut, w.timeout = true, nil
	w.c.signalGroup(syscall.SIGTERM)
	w.kill = time.NewTimer(w.d.cfg.KillGrace)
}

func (w *watch) killC() <-chan time.Time { return timerC(w.kill) }

func (w *watch) onKill() {
	w.kill = nil
	w.c.signalGroup(syscall.SIGKILL)
}

func (w *watch) sampleC() <-chan time.Time {
	if w.limit <= 0 || w.memExceeded {
		return nil
	}
	if w.sampler == nil {
		w.sampler = time.NewTimer(w.d.cfg.MemorySampleInterval)
	}
	return w.sampler.C
}

// sample measures the job's process tree and arms the next sample.
func (w *watch) sample() int64 {
	rss := treeRSS(w.c.pid)
	w.peak = max(w.peak, rss)
	w.sampler.Reset(w.d.cfg.MemorySampleInterval)
	return rss
}

func (w *watch) stop() {
	for _, t := range []*time.Timer{w.timeout, w.kill, w.sampler} {
		if t != nil {
			t.Stop()
		}
	}
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

// usage is a finished child's resource use, from its rusage.
type usage struct {
	peakRSS   int64
	user, sys time.Duration
}

func usageOf(state *os.ProcessState) usage {
	ru, ok := state.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}
	}
	return usage{peakRSS: ru.Maxrss * 1024, user: time.Duration(ru.Utime.Nano()), sys: time.Duration(ru.Stime.Nano())}
}
