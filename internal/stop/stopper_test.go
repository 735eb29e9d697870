package stop

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// TestDrain checks that Interrupt closes with Stopping when there is no
// drain, and only when the drain has run out otherwise, whatever stopped
// the Stopper.
func TestDrain(t *testing.T) {
	t.Parallel()
	errCause := errors.New("stop")
	stops := []struct {
		name string
		stop func(s *Stopper, cancel context.CancelCauseFunc)
	}{
		{name: "request", stop: func(s *Stopper, _ context.CancelCauseFunc) { s.Request(errCause) }},
		{name: "context", stop: func(_ *Stopper, cancel context.CancelCauseFunc) { cancel(errCause) }},
	}
	for _, st := range stops {
		for _, drain := range []time.Duration{0, -time.Second, 90 * time.Second} {
			t.Run(st.name+"/"+drain.String(), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancelCause(context.Background())
				t.Cleanup(func() { cancel(nil) })
				fake := clock.NewFake(time.Unix(0, 0))
				s := newStopper(t, ctx, Config{Drain: drain, Clock: fake})
				checkOpen(t, s.Stopping(), "Stopping before any stop")
				st.stop(s, cancel)
				waitClosed(t, s.Stopping(), "Stopping")
				if drain <= 0 {
					waitClosed(t, s.Interrupt(), "Interrupt without a drain")
				} else {
					waitArmed(t, fake)
					checkOpen(t, s.Interrupt(), "Interrupt when the drain starts")
					fake.Advance(drain - time.Nanosecond)
					checkOpen(t, s.Interrupt(), "Interrupt just before the drain ends")
					fake.Advance(time.Nanosecond)
					waitClosed(t, s.Interrupt(), "Interrupt at the end of the drain")
				}
				if s.IsHard() {
					t.Error("a stop that is not a signal made the stop hard")
				}
				if got := s.Cause(); got != errCause {
					t.Errorf("Cause() = %v, want %v", got, errCause)
				}
				if got := s.Signal(); got != nil {
					t.Errorf("Signal() = %v, want nil", got)
				}
			})
		}
	}
}

// TestRequestNeverEscalates checks that stop requests and the context's
// end, however many, never make the stop hard, and that the first cause
// is the one kept.
func TestRequestNeverEscalates(t *testing.T) {
	t.Parallel()
	first := errors.New("first")
	tests := []struct {
		name      string
		causes    []error
		endCtx    bool
		wantCause error
	}{
		{name: "one request", causes: []error{first}, wantCause: first},
		{name: "many requests", causes: []error{first, errors.New("second"), errors.New("third")}, wantCause: first},
		{name: "nil cause", causes: []error{nil, first}, wantCause: context.Canceled},
		{name: "requests then context", causes: []error{first, first}, endCtx: true, wantCause: first},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			s := newStopper(t, ctx, Config{Drain: time.Hour, Clock: clock.NewFake(time.Unix(0, 0))})
			for _, cause := range tt.causes {
				s.Request(cause)
			}
			if tt.endCtx {
				cancel()
			}
			s.Close()
			if !s.IsStopping() {
				t.Error("IsStopping() = false after Request")
			}
			if s.IsHard() || isClosed(s.Hard()) {
				t.Error("requests made the stop hard")
			}
			if got := s.Cause(); !errors.Is(got, tt.wantCause) {
				t.Errorf("Cause() = %v, want %v", got, tt.wantCause)
			}
		})
	}
}

// TestContextAlreadyDone checks that a context done before New stops the
// Stopper before New returns.
func TestContextAlreadyDone(t *testing.T) {
	t.Parallel()
	errGone := errors.New("gone")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errGone)
	s := newStopper(t, ctx, Config{})
	if !s.IsStopping() || !isClosed(s.Interrupt()) {
		t.Fatalf("IsStopping() = %v, Interrupt closed = %v; want both true on return from New", s.IsStopping(), isClosed(s.Interrupt()))
	}
	if got := s.Cause(); got != errGone {
		t.Errorf("Cause() = %v, want %v", got, errGone)
	}
}

// TestClose checks that Close returns only once the goroutine has ended,
// from any number of concurrent callers, and ends a drain in progress.
func TestClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		request       bool
		wantInterrupt bool
	}{
		{name: "idle"},
		{name: "during a drain", request: true, wantInterrupt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := clock.NewFake(time.Unix(0, 0))
			s := New(context.Background(), Config{Drain: time.Hour, Clock: fake})
			if tt.request {
				s.Request(errors.New("stop"))
				waitArmed(t, fake)
			}
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					s.Close()
					if !isClosed(s.exited) {
						t.Error("Close returned before the goroutine ended")
					}
				})
			}
			wg.Wait()
			if got := isClosed(s.Interrupt()); got != tt.wantInterrupt {
				t.Errorf("Interrupt closed = %v, want %v", got, tt.wantInterrupt)
			}
			if n := fake.Armed(); n != 0 {
				t.Errorf("%d timers left armed after Close", n)
			}
		})
	}
}

// TestRequestAfterClose checks that a stop after Close, with no goroutine
// left to time a drain, interrupts at once.
func TestRequestAfterClose(t *testing.T) {
	t.Parallel()
	s := New(context.Background(), Config{Drain: time.Hour, Clock: clock.NewFake(time.Unix(0, 0))})
	s.Close()
	s.Request(errors.New("late"))
	if !s.IsStopping() || !isClosed(s.Interrupt()) {
		t.Errorf("IsStopping() = %v, Interrupt closed = %v; want both true", s.IsStopping(), isClosed(s.Interrupt()))
	}
	if s.IsHard() {
		t.Error("a late Request made the stop hard")
	}
}
