package stop

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// waitLimit bounds every wait in these tests. It is only reached when a
// test fails, so it is generous for a busy machine.
const waitLimit = 30 * time.Second

// newStopper returns a Stopper closed when the test ends.
func newStopper(t *testing.T, ctx context.Context, cfg Config) *Stopper {
	t.Helper()
	s := New(ctx, cfg)
	t.Cleanup(s.Close)
	return s
}

// waitClosed fails the test unless c closes within waitLimit.
func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitLimit):
		t.Fatalf("%s did not close", what)
	}
}

// waitArmed fails the test unless a timer of fake is armed within
// waitLimit.
func waitArmed(t *testing.T, fake *clock.Fake) {
	t.Helper()
	select {
	case <-fake.TimerArmed():
	case <-time.After(waitLimit):
		t.Fatal("no timer armed")
	}
}

// waitFor fails the test unless cond turns true within waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLimit)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// checkOpen fails the test if c is closed.
func checkOpen(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	if isClosed(c) {
		t.Fatalf("%s is closed, want open", what)
	}
}

// signalLog records the signals a Stopper reports through OnSignal.
type signalLog struct {
	mu  sync.Mutex
	got []os.Signal
}

func (l *signalLog) record(sig os.Signal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, sig)
}

func (l *signalLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// waitCount fails the test unless n signals have been reported.
func (l *signalLog) waitCount(t *testing.T, n int) {
	t.Helper()
	waitFor(t, "reported signals", func() bool { return l.count() >= n })
	if got := l.count(); got != n {
		t.Fatalf("%d signals reported, want %d", got, n)
	}
}
