package sqsdispatch

import "sync"

// drainer is a dispatcher's drain: closed once, by Drain.
type drainer struct {
	once sync.Once
	ch   chan struct{}
}

func newDrainer() drainer { return drainer{ch: make(chan struct{})} }

// Drain makes the dispatcher stop receiving while its running jobs go on
// to their end, for a rolling deploy's preStop hook or an admin endpoint:
// Status reports StateDraining from the call on, and then, once the last
// job has ended, no running job. No job starts after Drain returns: the
// messages a receive under way returns (it is let finish, as at a stop)
// and those waiting behind their FIFO group go back to the queue at once,
// without running. Run does not return for a drain: it waits, idle, for the
// stop signal (or its context's end) that the supervisor sends next, and
// a job still running then is interrupted as by any stop. Drain is not a
// stop: it interrupts nothing, and calling it again, before or during
// Run, changes nothing. A dispatcher drained stays drained.
func (d *Dispatcher) Drain() {
	d.drain.once.Do(func() {
		close(d.drain.ch)
		d.health.drain()
		d.log.Info("draining: no more receives; running jobs go on")
	})
}

// drained is closed once Drain has been called.
func (d *Dispatcher) drained() <-chan struct{} { return d.drain.ch }
