package child_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// fired waits for a timer channel to fire.
func fired(t *testing.T, ch <-chan time.Time, what string) {
	t.Helper()
	if ch == nil {
		t.Fatalf("%s is not armed", what)
	}
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s did not fire", what)
	}
}

func TestWatchTimeoutTerminatesThenKills(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "pid")
	c := spawn(t, job("sleep", jobSpec{File: file}))
	readPIDs(t, file, 1)
	clk := clock.NewFake(time.Unix(0, 0))
	w := child.NewWatch(c, child.Limits{Timeout: time.Hour, KillGrace: time.Second}, clk)
	t.Cleanup(w.Stop)
	if w.SampleC() != nil || w.KillC() != nil {
		t.Fatal("a watch without MaxRSS samples, or arms its kill before a timeout")
	}
	clk.Advance(time.Hour - time.Nanosecond)
	select {
	case <-w.TimeoutC():
		t.Fatal("timeout fired early")
	default:
	}
	clk.Advance(time.Nanosecond)
	fired(t, w.TimeoutC(), "the timeout")
	w.OnTimeout()
	if !w.TimedOut() || w.TimeoutC() != nil {
		t.Fatal("timeout not recorded, or still armed")
	}
	waitDone(t, c)
	if r := c.Result(); r == nil || r.Signal != int(syscall.SIGTERM) || !c.StoppedByUs() {
		t.Fatalf("result %+v, stopped by us %v; want the job stopped by our SIGTERM", r, c.StoppedByUs())
	}
	clk.Advance(time.Second)
	fired(t, w.KillC(), "the kill after the grace")
	w.OnKill() // the group is gone already: no effect, no error
}

func TestWatchKillsAJobOverItsMemoryLimit(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "pid")
	c := spawn(t, job("sleep", jobSpec{File: file}))
	readPIDs(t, file, 1)
	clk := clock.NewFake(time.Unix(0, 0))
	w := child.NewWatch(c, child.Limits{MaxRSS: 1, SampleInterval: time.Second}, clk)
	t.Cleanup(w.Stop)
	if w.TimeoutC() != nil {
		t.Fatal("a watch without Timeout arms one")
	}
	clk.Advance(time.Second)
	fired(t, w.SampleC(), "the memory sample")
	rss, over := w.OnSample()
	if !over || rss <= 1 || w.Peak() != rss || !w.MemExceeded() || w.SampleC() != nil {
		t.Fatalf("sample %d over %v peak %d; want the limit exceeded and sampling stopped", rss, over, w.Peak())
	}
	waitDone(t, c)
	if signaled(c) != syscall.SIGKILL || !c.StoppedByUs() {
		t.Fatalf("job ended by %v (ours: %v); want our SIGKILL", signaled(c), c.StoppedByUs())
	}
}
