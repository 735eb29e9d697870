package busy

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// TestTransitions: the hook hears of the first message taken and of the
// last one settled, and of nothing in between.
func TestTransitions(t *testing.T) {
	t.Parallel()
	e := start(t, newFakeHook(0))
	if e.tracker.Busy() {
		t.Fatal("a new tracker is busy")
	}
	for range 3 {
		e.tracker.Acquire()
		e.hook.expect(t, true)
		e.tracker.Acquire() // a second message: still busy, no call
		e.tracker.Release()
		if !e.tracker.Busy() {
			t.Fatal("not busy with one message held")
		}
		e.tracker.Release()
		e.hook.expect(t, false)
	}
	e.stop(t)
	if got, want := e.hook.states(), []bool{true, false, true, false, true, false}; !slices.Equal(got, want) {
		t.Errorf("calls %v; want %v", got, want)
	}
}

// TestNilTracker: without a hook there is no tracker, and its methods do
// nothing.
func TestNilTracker(t *testing.T) {
	t.Parallel()
	tr := New(nil, clock.Real{}, nil)
	if tr != nil {
		t.Fatalf("New(nil) = %v; want nil", tr)
	}
	tr.Acquire()
	tr.Release()
	if tr.Busy() {
		t.Error("a nil tracker is busy")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr.Run(ctx) // returns at once
}

// TestRenewal: while busy, SetBusy(true) is repeated every RenewEvery;
// idle, nothing is renewed; RenewEvery 0 renews nothing.
func TestRenewal(t *testing.T) {
	t.Parallel()
	t.Run("every RenewEvery while busy", func(t *testing.T) {
		t.Parallel()
		e := start(t, newFakeHook(time.Minute))
		e.tracker.Acquire()
		e.hook.expect(t, true)
		for range 3 {
			e.waitArmed(t, 1)
			e.clk.Advance(time.Minute)
			e.hook.expect(t, true)
		}
		e.tracker.Release()
		e.hook.expect(t, false)
		waitFor(t, "the renewal timer to be stopped", func() bool { return e.clk.Armed() == 0 })
		e.clk.Advance(time.Hour) // idle: nothing to renew
		e.tracker.Acquire()
		e.hook.expect(t, true) // the next call is the new busy, not a renewal
		if got, want := e.hook.states(), []bool{true, true, true, true, false, true}; !slices.Equal(got, want) {
			t.Errorf("calls %v; want %v", got, want)
		}
		hour := time.Hour + 3*time.Minute
		if got, want := e.hook.times(e.start), []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute, hour}; !slices.Equal(got, want) {
			t.Errorf("calls began at %v; want %v", got, want)
		}
	})
	t.Run("a renewal counts from the last call", func(t *testing.T) {
		t.Parallel()
		e := start(t, newFakeHook(time.Minute))
		e.tracker.Acquire()
		e.hook.expect(t, true)
		e.waitArmed(t, 1)
		e.clk.Advance(59 * time.Second)
		e.tracker.Release()
		e.hook.expect(t, false)
		e.tracker.Acquire()
		e.hook.expect(t, true)
		e.waitArmed(t, 1)
		e.clk.Advance(59 * time.Second) // 1m58s after the first call, 59s after the last
		e.tracker.Release()
		e.hook.expect(t, false)
		if got, want := e.hook.states(), []bool{true, false, true, false}; !slices.Equal(got, want) {
			t.Errorf("calls %v; want %v", got, want)
		}
	})
	t.Run("RenewEvery 0 renews nothing", func(t *testing.T) {
		t.Parallel()
		e := start(t, newFakeHook(0))
		e.tracker.Acquire()
		e.hook.expect(t, true)
		e.clk.Advance(48 * time.Hour)
		e.tracker.Release()
		e.hook.expect(t, false)
		if got, want := e.hook.states(), []bool{true, false}; !slices.Equal(got, want) {
			t.Errorf("calls %v; want %v", got, want)
		}
	})
}

// TestCoalescing: changes made while a call is in flight cost at most one
// more call, for the latest state, and none when the state came back to
// what the call said.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		during  func(*Tracker) // while SetBusy(true) is in flight
		after   []bool         // the calls that follow it
		finally bool           // busy at the end
	}{
		{"busy, idle, busy again: no call", func(tr *Tracker) { tr.Release(); tr.Acquire() }, nil, true},
		{"busy, idle, busy, idle: one false", func(tr *Tracker) { tr.Release(); tr.Acquire(); tr.Release() }, []bool{false}, false},
		{"many flips ending idle: one false", func(tr *Tracker) {
			for range 100 {
				tr.Release()
				tr.Acquire()
			}
			tr.Release()
		}, []bool{false}, false},
		{"another message taken and settled: no call", func(tr *Tracker) { tr.Acquire(); tr.Release() }, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newFakeHook(0)
			h.gated = true
			e := start(t, h)
			e.tracker.Acquire()
			h.expect(t, true) // in flight, held at the gate
			tt.during(e.tracker)
			h.open(t)
			for _, want := range tt.after {
				h.expect(t, want)
				h.open(t)
			}
			if e.tracker.Busy() != tt.finally {
				t.Fatalf("Busy() = %t; want %t", e.tracker.Busy(), tt.finally)
			}
			// A last change shows that nothing else was queued before it.
			if tt.finally {
				e.tracker.Release()
			} else {
				e.tracker.Acquire()
			}
			h.expect(t, !tt.finally)
			h.open(t)
			want := append(append([]bool{true}, tt.after...), !tt.finally)
			if got := h.states(); !slices.Equal(got, want) {
				t.Errorf("calls %v; want %v", got, want)
			}
			if h.overlap.Load() {
				t.Error("two calls to the hook were in flight at once")
			}
		})
	}
}

// TestFinalCall: when Run's context ends, the hook is told false once
// more, with a context of its own, unless it was last told false.
func TestFinalCall(t *testing.T) {
	t.Parallel()
	t.Run("busy at the end", func(t *testing.T) {
		t.Parallel()
		e := start(t, newFakeHook(time.Minute))
		e.tracker.Acquire()
		e.hook.expect(t, true)
		e.stop(t)
		if got, want := e.hook.states(), []bool{true, false}; !slices.Equal(got, want) {
			t.Fatalf("calls %v; want %v", got, want)
		}
		last := e.hook.last()
		if last.ctxErr != nil {
			t.Errorf("the final call's context had already ended: %v", last.ctxErr)
		}
		if last.deadline <= 0 || last.deadline > FinalTimeout {
			t.Errorf("the final call's deadline is %s away; want within (0, %s]", last.deadline, FinalTimeout)
		}
	})
	t.Run("a call in flight at the end", func(t *testing.T) {
		t.Parallel()
		h := newFakeHook(0)
		h.gated = true
		e := start(t, h)
		e.tracker.Acquire()
		h.expect(t, true) // held at the gate until its context ends
		e.cancel()
		h.expect(t, false)
		h.open(t)
		e.stop(t)
		if got, want := h.states(), []bool{true, false}; !slices.Equal(got, want) {
			t.Errorf("calls %v; want %v", got, want)
		}
	})
	t.Run("idle, last told false: no call", func(t *testing.T) {
		t.Parallel()
		e := start(t, newFakeHook(0))
		e.tracker.Acquire()
		e.hook.expect(t, true)
		e.tracker.Release()
		e.hook.expect(t, false)
		e.stop(t)
		if got, want := e.hook.states(), []bool{true, false}; !slices.Equal(got, want) {
			t.Errorf("calls %v; want %v", got, want)
		}
	})
	t.Run("never busy: no call", func(t *testing.T) {
		t.Parallel()
		e := start(t, newFakeHook(0))
		e.stop(t)
		if got := e.hook.states(); len(got) != 0 {
			t.Errorf("calls %v; want none", got)
		}
	})
	t.Run("the last false failed: told again", func(t *testing.T) {
		t.Parallel()
		h := newFakeHook(0)
		h.fail = func(n int, busy bool) error {
			if n == 2 {
				return errors.New("agent unreachable")
			}
			return nil
		}
		e := start(t, h)
		e.tracker.Acquire()
		h.expect(t, true)
		e.tracker.Release()
		h.expect(t, false) // fails
		e.waitArmed(t, 1)  // the retry's timer
		e.stop(t)
		if got, want := h.states(), []bool{true, false, false}; !slices.Equal(got, want) {
			t.Errorf("calls %v; want %v", got, want)
		}
	})
}

// TestHookErrors: a failing hook is logged and retried, after a delay
// that grows while it keeps failing, for the state at the time of the
// retry; it never stops the tracker.
func TestHookErrors(t *testing.T) {
	t.Parallel()
	t.Run("retried until it answers", func(t *testing.T) {
		t.Parallel()
		h := newFakeHook(time.Hour)
		h.fail = func(n int, busy bool) error {
			if n <= 3 {
				return errors.New("throttled")
			}
			return nil
		}
		e := start(t, h)
		e.tracker.Acquire()
		for _, d := range []time.Duration{RetryMin, 2 * RetryMin, 4 * RetryMin} {
			h.expect(t, true) // fails
			e.waitArmed(t, 1)
			e.clk.Advance(d - time.Nanosecond)
			if e.clk.Armed() != 1 {
				t.Fatalf("retried before %s", d)
			}
			e.clk.Advance(time.Nanosecond)
		}
		h.expect(t, true) // succeeds
		e.waitArmed(t, 1) // the renewal
		e.tracker.Release()
		h.expect(t, false)
		if got, want := h.times(e.start), []time.Duration{0, RetryMin, 3 * RetryMin, 7 * RetryMin, 7 * RetryMin}; !slices.Equal(got, want) {
			t.Errorf("calls began at %v; want %v", got, want)
		}
		if got, want := logged(e.logs, zapcore.WarnLevel), []string{"busy hook failed", "busy hook failed", "busy hook failed"}; !slices.Equal(got, want) {
			t.Errorf("warnings %q; want %q", got, want)
		}
		waitFor(t, "the line saying the hook answered again", func() bool {
			return slices.Contains(logged(e.logs, zapcore.InfoLevel), "busy hook answered again")
		})
	})
	t.Run("the retry says the state of its time", func(t *testing.T) {
		t.Parallel()
		h := newFakeHook(0)
		h.fail = func(n int, busy bool) error {
			if n == 1 {
				return errors.New("agent unreachable")
			}
			return nil
		}
		e := start(t, h)
		e.tracker.Acquire()
		h.expect(t, true) // fails
		e.waitArmed(t, 1)
		e.tracker.Release() // no call before the retry is due
		e.tracker.Acquire()
		e.tracker.Release()
		e.clk.Advance(RetryMin)
		h.expect(t, false)
		// The platform may have heard the failed true: false is said even
		// though false is also where the tracker started.
		if got, want := h.states(), []bool{true, false}; !slices.Equal(got, want) {
			t.Errorf("calls %v; want %v", got, want)
		}
	})
	t.Run("a failing renewal is retried", func(t *testing.T) {
		t.Parallel()
		h := newFakeHook(time.Minute)
		h.fail = func(n int, busy bool) error {
			if n == 2 {
				return errors.New("throttled")
			}
			return nil
		}
		e := start(t, h)
		e.tracker.Acquire()
		h.expect(t, true)
		e.waitArmed(t, 1)
		e.clk.Advance(time.Minute)
		h.expect(t, true) // the renewal fails
		e.waitArmed(t, 1)
		e.clk.Advance(RetryMin)
		h.expect(t, true) // and is made again
		e.waitArmed(t, 1)
		e.clk.Advance(time.Minute)
		h.expect(t, true) // renewals go on
	})
}

// TestRetryDelay: the wait after failures in a row doubles up to RetryMax.
func TestRetryDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failures int
		want     time.Duration
	}{
		{"first", 1, RetryMin},
		{"second", 2, 2 * RetryMin},
		{"fifth", 5, 16 * RetryMin},
		{"capped", 6, RetryMax},
		{"many", 1000, RetryMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := retryDelay(tt.failures); got != tt.want {
				t.Errorf("retryDelay(%d) = %s; want %s", tt.failures, got, tt.want)
			}
		})
	}
}

// TestNeverBlocks: Acquire and Release return while the hook hangs.
func TestNeverBlocks(t *testing.T) {
	t.Parallel()
	h := newFakeHook(0)
	h.gated = true
	e := start(t, h)
	e.tracker.Acquire()
	h.expect(t, true) // hangs at the gate
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10000 {
			e.tracker.Release()
			e.tracker.Acquire()
		}
	}()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatal("Acquire and Release blocked behind a hung hook")
	}
	if !e.tracker.Busy() {
		t.Error("not busy with one message held")
	}
}

// TestReleaseWithoutAcquire: an unmatched Release is logged and changes
// nothing.
func TestReleaseWithoutAcquire(t *testing.T) {
	t.Parallel()
	e := start(t, newFakeHook(0))
	e.tracker.Release()
	if e.tracker.Busy() {
		t.Fatal("busy after an unmatched Release")
	}
	if got := logged(e.logs, zapcore.ErrorLevel); len(got) != 1 {
		t.Fatalf("errors logged %q; want one", got)
	}
	e.tracker.Acquire() // counts from zero, not from -1
	e.hook.expect(t, true)
	e.tracker.Release()
	e.hook.expect(t, false)
}

// TestManyGoroutines: slots acquiring and releasing at once never make
// two calls at a time, the calls alternate, and the hook ends told idle.
func TestManyGoroutines(t *testing.T) {
	t.Parallel()
	h := newFakeHook(time.Millisecond)
	e := start(t, h)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 2000 {
				e.tracker.Acquire()
				e.tracker.Acquire()
				e.tracker.Release()
				e.tracker.Release()
			}
		})
	}
	wg.Go(func() { // renewals firing meanwhile
		for range 200 {
			e.clk.Advance(time.Millisecond)
		}
	})
	wg.Wait()
	e.stop(t)
	if e.tracker.Busy() {
		t.Fatal("busy after every message was released")
	}
	if h.overlap.Load() {
		t.Error("two calls to the hook were in flight at once")
	}
	states := h.states()
	for i, s := range states {
		// Renewals repeat true; false never follows false.
		if !s && i > 0 && !states[i-1] {
			t.Fatalf("false said twice in a row at call %d: %v", i, states)
		}
		if i == 0 && !s {
			t.Fatalf("first call is false: %v", states)
		}
	}
	if len(states) > 0 && states[len(states)-1] {
		t.Errorf("the hook was last told busy (%d calls)", len(states))
	}
}

// TestNewWithoutAClockUsesTheRealOne: a tracker made with no clock runs
// on the real one.
func TestNewWithoutAClockUsesTheRealOne(t *testing.T) {
	t.Parallel()
	h := newFakeHook(0)
	h.clk = clock.NewFake(time.Now())
	tr := New(h, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	tr.Acquire()
	if busy := <-h.started; !busy {
		t.Fatal("first call said idle; want busy")
	}
	cancel()
	<-done
}
