package stop

import (
	"context"
	"os"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// watch turns stop signals and the end of ctx into stops, and times the
// drain after the first stop. It returns when Close closes s.done, after
// taking any stop signal already relayed to it.
func (s *Stopper) watch(ctx context.Context) {
	defer close(s.exited)
	var drain clock.Timer
	defer func() {
		if drain != nil {
			drain.Stop()
		}
	}()
	var drainEnd <-chan time.Time
	var interrupted <-chan struct{} // watched only while a drain runs
	stopping := s.stopping
	if s.cfg.Drain <= 0 {
		stopping = nil // Interrupt closes with Stopping: nothing to time
	}
	ctxDone := ctx.Done()
	for {
		select {
		case sig := <-s.sigs:
			s.signalled(sig)
		case <-ctxDone:
			ctxDone = nil
			s.stopWith(context.Cause(ctx))
		case <-stopping:
			stopping = nil
			drain = s.cfg.Clock.NewTimer(s.cfg.Drain)
			drainEnd = drain.C()
			interrupted = s.interr
		case <-drainEnd:
			drainEnd, interrupted = nil, nil
			s.endDrain()
		case <-interrupted:
			// A second signal cut the drain short.
			drainEnd, interrupted = nil, nil
			drain.Stop()
		case <-s.done:
			s.takePending()
			return
		}
	}
}

// takePending records the stop signals relayed but not yet taken. Close
// has called signal.Stop, so no more can come.
func (s *Stopper) takePending() {
	for {
		select {
		case sig := <-s.sigs:
			s.signalled(sig)
		default:
			return
		}
	}
}

// signalled records a stop signal: the first stops, the second escalates.
// OnSignal hears of it before the stop it makes is seen, so that what it
// logs comes before whatever the stop sets off.
func (s *Stopper) signalled(sig os.Signal) {
	s.mu.Lock()
	s.signals++
	if s.sig == nil {
		s.sig = sig
	}
	s.mu.Unlock()
	if s.cfg.OnSignal != nil {
		s.cfg.OnSignal(sig)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	if s.signals >= 2 {
		closeOnce(s.interr)
		closeOnce(s.hard)
	}
}

// stopWith records a stop that is not a signal (the context's end or a
// Request). Only the first such cause is kept; it never escalates.
func (s *Stopper) stopWith(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cause == nil {
		s.cause = cause
	}
	s.stopLocked()
}

// stopLocked closes Stopping at the first stop, and Interrupt with it when
// there is no drain to wait for. Callers hold s.mu.
func (s *Stopper) stopLocked() {
	if isClosed(s.stopping) {
		return
	}
	close(s.stopping)
	if s.cfg.Drain <= 0 || s.closed {
		close(s.interr)
	}
}

// endDrain interrupts running jobs once the drain is over.
func (s *Stopper) endDrain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	closeOnce(s.interr)
}
