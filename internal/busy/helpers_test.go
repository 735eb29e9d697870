package busy

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// waitLimit bounds every wait for something that must happen; it is long
// so that a busy machine does not fail a test, and never reached when the
// code is right.
const waitLimit = 30 * time.Second

// call is one call the fake hook received.
type call struct {
	busy     bool
	at       time.Time     // the fake clock's time as the call began
	ctxErr   error         // the context's error as the call began
	deadline time.Duration // how far off the context's deadline was, or 0
}

// fakeHook records its calls. With gated set, each call waits for a value
// on gate (or its context's end); fail, when set, decides each call's
// error from its number (1 for the first call).
type fakeHook struct {
	renew time.Duration
	clk   *clock.Fake // set by start
	gated bool
	gate  chan struct{}
	fail  func(n int, busy bool) error

	started  chan bool // each call's state, as it begins
	inFlight atomic.Int32
	overlap  atomic.Bool

	mu    sync.Mutex
	calls []call
}

func newFakeHook(renew time.Duration) *fakeHook {
	return &fakeHook{renew: renew, gate: make(chan struct{}), started: make(chan bool, 1<<16)}
}

func (h *fakeHook) RenewEvery() time.Duration { return h.renew }

func (h *fakeHook) SetBusy(ctx context.Context, busy bool) error {
	if h.inFlight.Add(1) > 1 {
		h.overlap.Store(true)
	}
	defer h.inFlight.Add(-1)
	c := call{busy: busy, at: h.clk.Now(), ctxErr: ctx.Err()}
	if d, ok := ctx.Deadline(); ok {
		c.deadline = time.Until(d)
	}
	h.mu.Lock()
	h.calls = append(h.calls, c)
	n := len(h.calls)
	h.mu.Unlock()
	h.started <- busy
	if h.gated {
		select {
		case <-h.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if h.fail != nil {
		return h.fail(n, busy)
	}
	return nil
}

// states returns the state of every call so far.
func (h *fakeHook) states() []bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := make([]bool, len(h.calls))
	for i, c := range h.calls {
		s[i] = c.busy
	}
	return s
}

// times returns when each call so far began, counted from the fake
// clock's start.
func (h *fakeHook) times(start time.Time) []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := make([]time.Duration, len(h.calls))
	for i, c := range h.calls {
		d[i] = c.at.Sub(start)
	}
	return d
}

// last returns the last call.
func (h *fakeHook) last() call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[len(h.calls)-1]
}

// next waits for the next call to begin and returns its state.
func (h *fakeHook) next(t *testing.T) bool {
	t.Helper()
	select {
	case b := <-h.started:
		return b
	case <-time.After(waitLimit):
		t.Fatal("timed out waiting for a call to the hook")
		return false
	}
}

// expect waits for the next call and fails the test unless its state is
// want.
func (h *fakeHook) expect(t *testing.T, want bool) {
	t.Helper()
	if got := h.next(t); got != want {
		t.Fatalf("hook called with SetBusy(%t); want SetBusy(%t) (calls so far: %v)", got, want, h.states())
	}
}

// open lets one gated call return.
func (h *fakeHook) open(t *testing.T) {
	t.Helper()
	select {
	case h.gate <- struct{}{}:
	case <-time.After(waitLimit):
		t.Fatal("timed out waiting for a gated call to take its turn")
	}
}

// env is one tracker under test, running on a fake clock.
type env struct {
	hook    *fakeHook
	clk     *clock.Fake
	start   time.Time // the fake clock's start
	tracker *Tracker
	logs    *observer.ObservedLogs
	cancel  context.CancelFunc
	done    chan struct{} // closed when Run returned
}

// start runs a tracker for hook until the test ends.
func start(t *testing.T, hook *fakeHook) *env {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	e := &env{hook: hook, clk: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), logs: logs, done: make(chan struct{})}
	hook.clk = e.clk
	e.start = e.clk.Now()
	e.tracker = New(hook, e.clk, zap.New(core))
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.done)
		e.tracker.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if hook.gated {
			close(hook.gate) // let a gated final call through
		}
		<-e.done
	})
	return e
}

// stop ends Run's context and waits for Run to return.
func (e *env) stop(t *testing.T) {
	t.Helper()
	e.cancel()
	select {
	case <-e.done:
	case <-time.After(waitLimit):
		t.Fatal("timed out waiting for Run to return")
	}
}

// waitArmed waits until the fake clock has n timers armed.
func (e *env) waitArmed(t *testing.T, n int) {
	t.Helper()
	limit := time.After(waitLimit)
	for e.clk.Armed() != n {
		select {
		case <-e.clk.TimerArmed():
		case <-limit:
			t.Fatalf("timed out waiting for %d armed timers (have %d)", n, e.clk.Armed())
		}
	}
}

// waitFor waits until cond holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	limit := time.After(waitLimit)
	for !cond() {
		select {
		case <-tick.C:
		case <-limit:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// logged returns the messages of the lines logged at level.
func logged(logs *observer.ObservedLogs, level zapcore.Level) []string {
	var msgs []string
	for _, e := range logs.All() {
		if e.Level == level {
			msgs = append(msgs, e.Message)
		}
	}
	return msgs
}
