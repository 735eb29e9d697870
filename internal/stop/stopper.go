// Package stop decides when a dispatcher stops and how urgently. It turns
// stop signals, the end of the caller's context and stop requests from code
// into three moments: stop taking work (Stopping), interrupt running jobs
// (Interrupt) and skip whatever can be skipped (Hard).
//
// Only a second stop signal escalates to Hard. The context ending never
// does, whether it ends before or after a signal: with signal.NotifyContext
// one signal both ends the context and reaches the Stopper, and it is one
// stop, not two.
package stop

import (
	"context"
	"os"
	"os/signal"
	"sync"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// signalBuffer is how many stop signals may wait for the watcher. Only the
// first two change anything, so a burst larger than this loses nothing.
const signalBuffer = 4

// Stopper records why and how urgently its owner is stopping. All its
// methods are safe for concurrent use.
type Stopper struct {
	cfg      Config
	sigs     chan os.Signal // nil when no stop signals are watched
	stopping chan struct{}
	interr   chan struct{}
	hard     chan struct{}
	done     chan struct{} // closed by Close: the watcher returns
	exited   chan struct{} // closed when the watcher has returned

	closeOnce sync.Once

	mu      sync.Mutex
	sig     os.Signal // first stop signal received
	cause   error     // first context end or Request
	signals int       // stop signals received
	closed  bool      // Close has finished with the watcher
}

// New returns a Stopper that watches ctx and cfg.Signals until Close. The
// signals are registered (signal.Notify) before New returns, so a signal
// that arrives at any moment afterwards is a stop, never the signal's
// default action. When ctx is already done, Stopping is closed on return.
func New(ctx context.Context, cfg Config) *Stopper {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	s := &Stopper{
		cfg:      cfg,
		stopping: make(chan struct{}),
		interr:   make(chan struct{}),
		hard:     make(chan struct{}),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	if sigs := nonNil(cfg.Signals); len(sigs) > 0 {
		// signal.Notify with no signals relays every signal: never call it
		// with an empty list.
		s.sigs = make(chan os.Signal, signalBuffer)
		signal.Notify(s.sigs, sigs...)
	}
	if ctx.Err() != nil {
		s.stopWith(context.Cause(ctx))
	}
	go s.watch(ctx)
	return s
}

// Stopping returns a channel closed at the first stop: a stop signal, the
// end of the context, or Request.
func (s *Stopper) Stopping() <-chan struct{} { return s.stopping }

// Interrupt returns a channel closed when running jobs must be interrupted:
// at the first stop when there is no drain, when the drain ends, at a
// second stop signal, or at Close once stopping.
func (s *Stopper) Interrupt() <-chan struct{} { return s.interr }

// Hard returns a channel closed at the second stop signal: draining and
// cleanup retries are to be skipped from then on.
func (s *Stopper) Hard() <-chan struct{} { return s.hard }

// IsStopping reports whether Stopping is closed.
func (s *Stopper) IsStopping() bool { return isClosed(s.stopping) }

// IsHard reports whether Hard is closed. It may turn true at any moment,
// including during a cleanup, so callers ask it again at each decision.
func (s *Stopper) IsHard() bool { return isClosed(s.hard) }

// Request stops the Stopper from code, as the end of the context does: it
// closes Stopping (and Interrupt after the drain) and never escalates to
// Hard, however often it is called. A nil cause is recorded as
// context.Canceled. After Close there is no drain: a Request then closes
// Interrupt at once.
func (s *Stopper) Request(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	s.stopWith(cause)
}

// Signal returns the first stop signal received, or nil if none came. It
// is reported even when the context or Request stopped the Stopper first,
// so a signal that ended the context (signal.NotifyContext) is named here
// too. Once Close has returned, every stop signal the process received
// before Close is reflected.
func (s *Stopper) Signal() os.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig
}

// Cause returns the cause of the first stop that was not a signal: the
// context's cause (context.Cause) when the context ended, or the error
// passed to Request, whichever came first; nil if neither happened. It is
// independent of Signal: both are set when a signal and the context's end
// both stopped the Stopper, in either order.
func (s *Stopper) Cause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// Close stops relaying the stop signals (signal.Stop) and watching the
// context, and returns once the Stopper's goroutine has ended. A drain in
// progress ends: Interrupt closes if Stopping is closed. Close may be
// called more than once and from several goroutines; every call returns
// only after the first has finished.
func (s *Stopper) Close() {
	s.closeOnce.Do(func() {
		if s.sigs != nil {
			signal.Stop(s.sigs)
		}
		close(s.done)
		<-s.exited
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		if isClosed(s.stopping) {
			closeOnce(s.interr)
		}
	})
}

// nonNil returns sigs without its nil entries.
func nonNil(sigs []os.Signal) []os.Signal {
	out := make([]os.Signal, 0, len(sigs))
	for _, sig := range sigs {
		if sig != nil {
			out = append(out, sig)
		}
	}
	return out
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// closeOnce closes c unless it is closed already. Callers hold the
// Stopper's mutex.
func closeOnce(c chan struct{}) {
	if !isClosed(c) {
		close(c)
	}
}
