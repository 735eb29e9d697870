package sqsdispatch

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

// waitUntil polls cond until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		<-tick.C
	}
}

func (s *spares) pids() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int
	for _, c := range s.idle {
		pids = append(pids, c.pid)
	}
	return pids
}

func procExists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

func TestStaleSpareIsReplacedAndReaped(t *testing.T) {
	t.Parallel()
	sp := newSpares(1, 400*time.Millisecond, zaptest.NewLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sp.run(ctx); close(done) }()

	waitUntil(t, 10*time.Second, "a spare", func() bool { return len(sp.pids()) == 1 })
	first := sp.pids()[0]
	waitUntil(t, 10*time.Second, "the stale spare to be replaced", func() bool {
		p := sp.pids()
		return len(p) == 1 && p[0] != first
	})
	if procExists(first) {
		t.Fatalf("replaced spare %d was not reaped", first)
	}
	c := sp.take()
	if c == nil || isClosed(c.done) {
		t.Fatal("take returned no live spare")
	}
	c.release()
	waitUntil(t, 10*time.Second, "a new spare after take", func() bool { return len(sp.pids()) == 1 })
	last := sp.pids()[0]
	cancel()
	<-done
	if procExists(last) || procExists(c.pid) {
		t.Fatalf("spares left behind after the pool stopped: %d %d", last, c.pid)
	}
}
