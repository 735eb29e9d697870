package lease

import (
	"fmt"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// Lease keeps one received message invisible to other consumers until it
// is released or lost.
type Lease struct {
	m        *Manager
	queue    string
	receipt  string
	received time.Time
	seq      uint64 // order of Hold, for stable batches
	lost     chan struct{}

	// Guarded by m.mu.
	deadline time.Time     // end of the visibility known to be held
	due      time.Time     // next extension
	failing  bool          // the last extension failed; due is its retry
	lastErr  error         // why the last extension failed
	limited  bool          // SQS's limit leaves nothing to extend
	call     chan struct{} // closed when the extension in flight returned
	released bool
	err      error // why the lease was lost
}

// Hold starts keeping the message with this receipt handle in the queue
// with this URL invisible. received is when the receive call that returned
// it started: its visibility of Config.Visibility, and SQS's MaxAge limit,
// count from then. Each call returns a lease of its own; the caller must
// Release it.
func (m *Manager) Hold(queue, receipt string, received time.Time) *Lease {
	l := &Lease{
		m: m, queue: queue, receipt: receipt, received: received,
		lost:     make(chan struct{}),
		deadline: received.Add(m.cfg.Visibility),
		due:      received.Add(m.cfg.Interval),
	}
	m.mu.Lock()
	m.seq++
	l.seq = m.seq
	m.leases[l] = struct{}{}
	m.mu.Unlock()
	m.poke()
	return l
}

// Lost returns a channel closed when the lease is lost. It is never closed
// after Release returned.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err returns why the lease was lost, wrapping ErrLost, or nil while it is
// not.
func (l *Lease) Err() error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.err
}

// Deadline returns when the visibility known to be held ends: the start of
// the last successful extension plus the visibility it granted.
func (l *Lease) Deadline() time.Time {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.deadline
}

// Cap returns the visibility d shortened so that it ends Margin before the
// manager's MaxAge, counted from the message's receive: for the owner's own
// visibility changes.
func (l *Lease) Cap(d time.Duration) time.Duration {
	return Cap(d, clock.Since(l.m.clk, l.received), l.m.cfg.MaxAge)
}

// Release stops extending the lease. If an extension of it is in flight,
// Release waits until that call returned and ignores its result; after
// Release returns, no extension of the lease is sent and Lost is not
// closed. Release may be called more than once, and after Lost.
func (l *Lease) Release() {
	m := l.m
	m.mu.Lock()
	l.released = true
	delete(m.leases, l)
	call := l.call
	m.mu.Unlock()
	if call != nil {
		<-call
	}
}

// lose marks l lost with err. Called with m.mu held, for a lease that is
// not released and has no extension in flight.
func (m *Manager) lose(l *Lease, err error) {
	delete(m.leases, l)
	if l.err != nil {
		return
	}
	l.err = err
	close(l.lost)
}

// expiry says why l is lost now that its deadline passed.
func (l *Lease) expiry() error {
	switch {
	case l.limited:
		return fmt.Errorf("%w: SQS's 12-hour visibility limit reached", ErrLost)
	case l.lastErr != nil:
		return fmt.Errorf("%w: the visibility timeout ran out; last failure: %w", ErrLost, l.lastErr)
	}
	return fmt.Errorf("%w: the visibility timeout ran out", ErrLost)
}
