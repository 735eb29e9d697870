package sqsdispatch

import (
	"fmt"
	"os"
	"sync"
)

// stopper records why a dispatcher is stopping and tells its parts when:
// stopping closes at the first stop request (no more receives), interrupt
// when running jobs must be interrupted, hard at a second stop request
// (skip draining and cleanup retries).
type stopper struct {
	mu        sync.Mutex
	sig       os.Signal
	cause     error
	stopping  chan struct{}
	interrupt chan struct{}
	hard      chan struct{}
	requests  int
}

func newStopper() *stopper {
	return &stopper{stopping: make(chan struct{}), interrupt: make(chan struct{}), hard: make(chan struct{})}
}

// request records a stop request. The first one closes stopping, and
// interrupt too unless drain is true; the second closes interrupt and hard.
func (s *stopper) request(sig os.Signal, cause error, drain bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	switch s.requests {
	case 1:
		s.sig, s.cause = sig, cause
		close(s.stopping)
		if !drain {
			close(s.interrupt)
		}
	case 2:
		s.interruptNow()
		close(s.hard)
	}
}

// interruptNow closes interrupt if it is still open. Callers hold s.mu.
func (s *stopper) interruptNow() {
	select {
	case <-s.interrupt:
	default:
		close(s.interrupt)
	}
}

// endDrain interrupts running jobs once a drain period is over.
func (s *stopper) endDrain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interruptNow()
}

func (s *stopper) isHard() bool {
	select {
	case <-s.hard:
		return true
	default:
		return false
	}
}

// why returns the stop signal (nil for a context) and the error Run returns.
func (s *stopper) why() (os.Signal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig, &StoppedError{Signal: s.sig, Cause: s.cause}
}

// StoppedError is returned by Run when a stop signal or the caller's
// context ended it. It matches ErrStopped with errors.Is, and unwraps to
// the context's error when the context stopped it.
type StoppedError struct {
	// Signal is the stop signal, or nil when the context was cancelled.
	Signal os.Signal
	// Cause is the context's error when the context stopped Run.
	Cause error
}

func (e *StoppedError) Error() string {
	if e.Signal != nil {
		return fmt.Sprintf("sqsdispatch: dispatcher stopped by signal %s", e.Signal)
	}
	return fmt.Sprintf("sqsdispatch: dispatcher stopped: %v", e.Cause)
}

// Is reports whether target is ErrStopped.
func (e *StoppedError) Is(target error) bool { return target == ErrStopped }

// Unwrap returns Cause.
func (e *StoppedError) Unwrap() error { return e.Cause }
