//go:build unix

package stop

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// The tests in this file send real signals to the test process. They do
// not run in parallel: a signal reaches every registration in the process.
// Each one waits until its signals have been taken before it ends. SIGHUP,
// as SIGTERM, ends a Go program unless it is notified; SIGUSR1 and SIGUSR2
// are dropped by the runtime unless notified.

// kill sends sig to the test process.
func kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatalf("kill %v: %v", sig, err)
	}
}

// guard registers sig outside any Stopper and returns the channel it is
// relayed to, so that a test knows when the process has received sig and
// survives it however the Stopper behaves.
func guard(t *testing.T, sig os.Signal) <-chan os.Signal {
	t.Helper()
	c := make(chan os.Signal, 4)
	signal.Notify(c, sig)
	t.Cleanup(func() { signal.Stop(c) })
	return c
}

// waitSignal fails the test unless c receives a signal within waitLimit.
func waitSignal(t *testing.T, c <-chan os.Signal) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitLimit):
		t.Fatal("signal not delivered")
	}
}

// TestNewRegistersSignals sends the stop signal to the process the moment
// New returns, with nothing else registered for it: had New left
// signal.Notify to its goroutine, SIGHUP's default action could end the
// test process.
func TestNewRegistersSignals(t *testing.T) {
	var log signalLog
	s := newStopper(t, context.Background(), Config{Signals: []os.Signal{syscall.SIGHUP}, OnSignal: log.record})
	kill(t, syscall.SIGHUP)
	waitClosed(t, s.Stopping(), "Stopping")
	log.waitCount(t, 1)
	waitClosed(t, s.Interrupt(), "Interrupt (no drain)")
	if got := s.Signal(); got != syscall.SIGHUP {
		t.Errorf("Signal() = %v, want %v", got, syscall.SIGHUP)
	}
	if err := s.Cause(); err != nil {
		t.Errorf("Cause() = %v, want nil", err)
	}
	if s.IsHard() {
		t.Error("one signal made the stop hard")
	}
}

// TestNotifyContextIdiom is main's usual shape: one signal ends the
// caller's context (signal.NotifyContext) and reaches the Stopper too. It
// is one stop: not hard, and the drain runs its full length.
func TestNotifyContextIdiom(t *testing.T) {
	const drain = 30 * time.Second
	ctx, stopNotify := signal.NotifyContext(context.Background(), syscall.SIGUSR1)
	t.Cleanup(stopNotify)
	fake := clock.NewFake(time.Unix(0, 0))
	var log signalLog
	s := newStopper(t, ctx, Config{Signals: []os.Signal{syscall.SIGUSR1}, Drain: drain, OnSignal: log.record, Clock: fake})

	kill(t, syscall.SIGUSR1)
	waitClosed(t, ctx.Done(), "the NotifyContext context")
	log.waitCount(t, 1)
	waitFor(t, "the context's end to be recorded", func() bool { return s.Cause() != nil })
	waitClosed(t, s.Stopping(), "Stopping")
	waitArmed(t, fake)

	if s.IsHard() {
		t.Fatal("the context's end after the same signal made the stop hard")
	}
	checkOpen(t, s.Interrupt(), "Interrupt before the drain ends")
	fake.Advance(drain - time.Nanosecond)
	checkOpen(t, s.Interrupt(), "Interrupt just before the drain ends")
	fake.Advance(time.Nanosecond)
	waitClosed(t, s.Interrupt(), "Interrupt at the end of the drain")
	checkOpen(t, s.Hard(), "Hard")
	if got := s.Signal(); got != syscall.SIGUSR1 {
		t.Errorf("Signal() = %v, want %v", got, syscall.SIGUSR1)
	}
	if got, want := s.Cause(), context.Cause(ctx); got != want {
		t.Errorf("Cause() = %v, want the context's cause %v", got, want)
	}
}

// TestEscalation runs sequences of stops and checks that only a second
// stop signal makes the stop hard.
func TestEscalation(t *testing.T) {
	const (
		usr1    = syscall.SIGUSR1
		usr2    = syscall.SIGUSR2
		ctxEnd  = syscall.Signal(-1) // cancel the context
		request = syscall.Signal(-2) // call Request
	)
	errCancel := errors.New("caller cancelled")
	errRequest := errors.New("stop requested")
	tests := []struct {
		name       string
		steps      []syscall.Signal
		wantHard   bool
		wantSignal os.Signal
		wantCause  error
	}{
		{name: "one signal", steps: []syscall.Signal{usr1}, wantSignal: usr1},
		{name: "same signal twice", steps: []syscall.Signal{usr1, usr1}, wantHard: true, wantSignal: usr1},
		{name: "two different signals", steps: []syscall.Signal{usr2, usr1}, wantHard: true, wantSignal: usr2},
		{name: "context then signal", steps: []syscall.Signal{ctxEnd, usr1}, wantSignal: usr1, wantCause: errCancel},
		{name: "signal then context", steps: []syscall.Signal{usr1, ctxEnd}, wantSignal: usr1, wantCause: errCancel},
		{name: "context then two signals", steps: []syscall.Signal{ctxEnd, usr1, usr2}, wantHard: true, wantSignal: usr1, wantCause: errCancel},
		{name: "request then signal", steps: []syscall.Signal{request, usr2}, wantSignal: usr2, wantCause: errRequest},
		{name: "context, request, signal", steps: []syscall.Signal{ctxEnd, request, usr1}, wantSignal: usr1, wantCause: errCancel},
		{name: "signal, request, context", steps: []syscall.Signal{usr1, request, ctxEnd}, wantSignal: usr1, wantCause: errRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			t.Cleanup(func() { cancel(nil) })
			var log signalLog
			s := newStopper(t, ctx, Config{Signals: []os.Signal{usr1, usr2}, OnSignal: log.record})
			signals := 0
			for _, step := range tt.steps {
				switch step {
				case ctxEnd:
					cancel(errCancel)
					if s.Cause() == nil {
						waitFor(t, "the context's end to be recorded", func() bool { return s.Cause() != nil })
					}
				case request:
					s.Request(errRequest)
				default:
					kill(t, step)
					signals++
					log.waitCount(t, signals)
				}
				waitClosed(t, s.Stopping(), "Stopping")
			}
			// Close takes whatever is still on its way, so the state
			// read below is final.
			s.Close()
			if got := s.IsHard(); got != tt.wantHard {
				t.Errorf("IsHard() = %v, want %v", got, tt.wantHard)
			}
			if got := isClosed(s.Hard()); got != tt.wantHard {
				t.Errorf("Hard closed = %v, want %v", got, tt.wantHard)
			}
			if got := s.Signal(); got != tt.wantSignal {
				t.Errorf("Signal() = %v, want %v", got, tt.wantSignal)
			}
			if got := s.Cause(); got != tt.wantCause {
				t.Errorf("Cause() = %v, want %v", got, tt.wantCause)
			}
			if !isClosed(s.Interrupt()) {
				t.Error("Interrupt is open after stops without a drain")
			}
		})
	}
}

// TestSecondSignalCutsDrain checks that a second signal interrupts at once,
// without waiting for the drain, and is visible at any time afterwards.
func TestSecondSignalCutsDrain(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	var log signalLog
	s := newStopper(t, context.Background(), Config{Signals: []os.Signal{syscall.SIGHUP}, Drain: time.Hour, OnSignal: log.record, Clock: fake})

	kill(t, syscall.SIGHUP)
	log.waitCount(t, 1)
	waitClosed(t, s.Stopping(), "Stopping")
	waitArmed(t, fake)
	checkOpen(t, s.Interrupt(), "Interrupt during the drain")
	if s.IsHard() {
		t.Fatal("one signal made the stop hard")
	}

	kill(t, syscall.SIGHUP)
	waitClosed(t, s.Hard(), "Hard")
	if !isClosed(s.Interrupt()) {
		t.Error("Interrupt is open after Hard closed")
	}
	if !s.IsHard() {
		t.Error("IsHard() = false after Hard closed")
	}
	log.waitCount(t, 2)
	waitFor(t, "the drain timer to be stopped", func() bool { return fake.Armed() == 0 })
}

// TestCloseStopsRelaying checks that after Close the stop signals no
// longer reach the Stopper.
func TestCloseStopsRelaying(t *testing.T) {
	other := guard(t, syscall.SIGUSR2)
	var log signalLog
	s := New(context.Background(), Config{Signals: []os.Signal{syscall.SIGUSR2}, OnSignal: log.record})
	s.Close()
	s.Close()
	kill(t, syscall.SIGUSR2)
	waitSignal(t, other)
	if n := log.count(); n != 0 {
		t.Errorf("%d signals reported after Close, want 0", n)
	}
	if s.IsStopping() || s.Signal() != nil {
		t.Errorf("stopped after Close: IsStopping() = %v, Signal() = %v", s.IsStopping(), s.Signal())
	}
}

// TestCloseTakesReceivedSignals checks that a signal the process received
// before Close is reflected once Close returns, even if the goroutine had
// not taken it yet.
func TestCloseTakesReceivedSignals(t *testing.T) {
	other := guard(t, syscall.SIGUSR1)
	var log signalLog
	s := New(context.Background(), Config{Signals: []os.Signal{syscall.SIGUSR1}, OnSignal: log.record})
	kill(t, syscall.SIGUSR1)
	waitSignal(t, other)
	s.Close()
	if got := s.Signal(); got != syscall.SIGUSR1 {
		t.Errorf("Signal() = %v after Close, want %v", got, syscall.SIGUSR1)
	}
	if n := log.count(); n != 1 {
		t.Errorf("%d signals reported, want 1", n)
	}
	if !s.IsStopping() {
		t.Error("IsStopping() = false after a signal")
	}
}

// TestNoSignals checks that an empty Signals list watches no signal at
// all (signal.Notify with no signals would relay every one).
func TestNoSignals(t *testing.T) {
	other := guard(t, syscall.SIGUSR2)
	for _, tt := range []struct {
		name    string
		signals []os.Signal
	}{
		{name: "nil"},
		{name: "only nil entries", signals: []os.Signal{nil}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := New(context.Background(), Config{Signals: tt.signals})
			kill(t, syscall.SIGUSR2)
			waitSignal(t, other)
			s.Close()
			if s.IsStopping() {
				t.Errorf("a signal not in Signals stopped the Stopper (Signal() = %v)", s.Signal())
			}
		})
	}
}

// TestOnSignalComesBeforeTheStop: what OnSignal does (the "stop signal
// received" line) comes before anything the stop sets off, for the first
// signal and for the second one that makes the stop hard.
func TestOnSignalComesBeforeTheStop(t *testing.T) {
	var (
		mu     sync.Mutex
		before []bool // per signal: the stop it makes had not yet taken effect
		s      *Stopper
	)
	ready := make(chan struct{})
	s = newStopper(t, context.Background(), Config{Signals: []os.Signal{syscall.SIGHUP}, OnSignal: func(os.Signal) {
		<-ready
		mu.Lock()
		defer mu.Unlock()
		if len(before) == 0 {
			before = append(before, !s.IsStopping())
		} else {
			before = append(before, !s.IsHard())
		}
	}})
	close(ready)
	kill(t, syscall.SIGHUP)
	waitClosed(t, s.Stopping(), "Stopping")
	kill(t, syscall.SIGHUP)
	waitClosed(t, s.Hard(), "Hard")
	mu.Lock()
	defer mu.Unlock()
	if len(before) != 2 || !before[0] || !before[1] {
		t.Fatalf("OnSignal before the stop took effect: %v; want [true true]", before)
	}
}
