package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"os"
	"strings"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/internal/stop"
)

// Run receives and runs messages, Config.Concurrency at a time, until ctx
// is done or a stop signal arrives; then it lets running jobs finish for
// Config.ShutdownGrace, interrupts the rest (suspend, Cleanup, give back)
// and returns a *StoppedError naming the signal. It returns ErrRetired
// after MaxJobs or MaxLifetime. Job failures are logged and do not stop
// it. It returns early, with the error, when a queue cannot be used
// (missing, access denied, bad credentials, a configuration that would lose
// or duplicate work), when receives have failed for Config.GiveUpAfter, or
// when a child cannot be started; running jobs are then interrupted as by
// a stop signal.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.acquire(); err != nil {
		return err
	}
	defer d.running.Store(false)

	r := newRunState(ctx, stop.Config{Signals: d.cfg.StopSignals, Drain: d.cfg.ShutdownGrace,
		OnSignal: func(s os.Signal) { d.log.Info("stop signal received", zap.Stringer("signal", s)) }})
	defer r.close()
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	defer func() { stopBG(); bg.Wait() }()
	if d.cfg.StatusOnSIGUSR1 {
		d.watchSIGUSR1(bgCtx, &bg)
	}
	bg.Go(func() { d.leases.Run(bgCtx) })
	bg.Go(func() { d.busy.Run(bgCtx) }) // told idle, last, once every message is settled
	if d.cfg.Subreaper {
		d.becomeSubreaper(bgCtx, &bg)
	}
	if d.cfg.BacklogInterval > 0 {
		bg.Go(func() { d.sampleBacklog(bgCtx) })
	}
	d.log.Info("dispatcher started", zap.Strings("queues", d.queueURLs), zap.Int("slots", d.cfg.Concurrency))
	defer func() { d.log.Info("dispatcher stopped") }()

	if err := d.startupChecks(ctx, r); err != nil {
		return err
	}
	kept := newKeptChildren(d.cfg.PrespawnMaxIdle)
	d.kept.Store(kept)
	defer func() { d.kept.Store(nil); kept.close() }() // after the jobs: none is put back later
	bg.Go(func() { kept.run(bgCtx) })
	if d.cfg.Prespawn {
		sp := child.NewSpares(d.cfg.Concurrency, d.cfg.PrespawnMaxIdle, d.childOptions(d.log), nil)
		d.spares.Store(sp)
		defer d.spares.Store(nil)
		bg.Go(func() { sp.Run(bgCtx) })
	}
	w := newWorkers()
	defer w.close()
	l := &loop{d: d, r: r, slots: make(chan struct{}, d.cfg.Concurrency), groups: newGroups(w.run)}
	retired := l.receiveUntilDone(ctx)
	d.logShutdown(r, retired)
	l.jobs.Wait()
	switch {
	case r.fatalErr() != nil:
		return r.fatalErr()
	case retired != nil && !r.stop.IsStopping():
		return retired
	}
	if !r.stop.IsStopping() { // ctx ended; the stopper may not have seen it yet
		r.stop.Request(context.Cause(ctx))
	}
	r.close() // records a signal still on its way
	return r.stopErr()
}

// logShutdown says why receiving ended and what becomes of the running
// jobs. Retirement said so when it began.
func (d *Dispatcher) logShutdown(r *runState, retired error) {
	switch {
	case r.fatalErr() != nil:
		d.log.Error("dispatcher shutting down on an error: interrupting running jobs", zap.Error(r.fatalErr()))
	case retired != nil && !r.stop.IsStopping():
	case d.cfg.ShutdownGrace > 0:
		d.log.Info("dispatcher stopping: no more receives; running jobs may finish within the shutdown grace",
			zap.Duration("shutdown_grace", d.cfg.ShutdownGrace))
	default:
		d.log.Info("dispatcher stopping: no more receives; interrupting running jobs")
	}
}

// loop is the state of one Run's receive loop.
type loop struct {
	d      *Dispatcher
	r      *runState
	slots  chan struct{} // one token per busy slot
	groups *groups
	jobs   sync.WaitGroup
}

// receiveUntilDone receives and starts jobs until a stop, a fatal error or
// retirement, which it returns. A receive under way when the stop comes is
// let finish (within receiveDrain): cancelling it could leave messages SQS
// had already handed out to it hidden for their whole visibility timeout.
// What it returned goes to the messages' owners, which give it back at
// once, without a child.
func (l *loop) receiveUntilDone(ctx context.Context) error {
	d := l.d
	recvCtx, cancelRecv := l.r.receiving(ctx)
	defer cancelRecv()
	var lifetime <-chan time.Time
	if d.cfg.MaxLifetime > 0 {
		t := time.NewTimer(d.cfg.MaxLifetime)
		defer t.Stop()
		lifetime = t.C
	}
	// halt closes when no receive may start: a stop, a fatal error or the
	// end of MaxLifetime; haltCtx ends with it, for the waits between
	// receives.
	halt, retire, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	defer close(done)
	haltCtx, cancelHalt := context.WithCancel(ctx)
	defer cancelHalt()
	go func() {
		select {
		case <-l.r.halted():
		case <-lifetime:
			close(retire)
		case <-d.drained():
		case <-done:
			return
		}
		close(halt)
		cancelHalt()
	}()

	bo := queue.Backoff{GiveUp: d.cfg.GiveUpAfter}
	started := 0
	for {
		select {
		case l.slots <- struct{}{}:
		case <-halt:
			return l.retirement(retire, started)
		}
		limit := min(10, d.cfg.Concurrency) // never more than the idle slots
		if d.cfg.MaxJobs > 0 {
			limit = min(limit, d.cfg.MaxJobs-started)
		}
		n := 1
		for n < limit && l.tryAcquire() {
			n++
		}
		msgs, err := d.q.Receive(recvCtx, d.queueURLs, n, halt)
		for range n - len(msgs) {
			<-l.slots
		}
		if err != nil && len(msgs) == 0 && !isClosed(halt) {
			if queue.IsFatal(err) {
				l.r.setFatal(dispatcherError(err))
				return nil
			}
			delay, ok := bo.Next(time.Now())
			if !ok {
				l.r.setFatal(fmt.Errorf("sqsdispatch: giving up after %s of failing receives: %w", d.cfg.GiveUpAfter, dispatcherError(err)))
				return nil
			}
			d.log.Warn("receive failed; backing off", zap.Error(err), zap.Duration("delay", delay))
			d.health.failed(err)
			sleepCtx(haltCtx, delay)
			continue
		}
		if err == nil {
			bo.Reset()
			d.health.received()
		}
		// Every message of the receive is held before any starts, so that
		// the first to settle already counts the others: their
		// acknowledgements can share its call.
		held := make([]*inflight, len(msgs))
		for i, rcv := range msgs {
			held[i] = d.hold(rcv)
		}
		for _, m := range held {
			started++
			l.start(ctx, m)
		}
		if isClosed(halt) {
			return l.retirement(retire, started)
		}
		if d.cfg.MaxJobs > 0 && started >= d.cfg.MaxJobs {
			d.log.Info("retiring: MaxJobs reached; finishing running jobs", zap.Int("jobs", started))
			d.health.set(StateRetired)
			return ErrRetired
		}
		if len(msgs) == 0 && d.shortPolling(haltCtx) {
			sleepCtx(haltCtx, idleDelay) // the queue does not long-poll: do not spin
		}
	}
}

func (l *loop) retirement(retire chan struct{}, started int) error {
	if isClosed(l.d.drained()) && !isClosed(retire) && !isClosed(l.r.halted()) {
		// Drained: idle until the stop that follows.
		l.d.health.set(StateDraining)
		<-l.r.halted()
	}
	if isClosed(retire) {
		l.d.log.Info("retiring: MaxLifetime reached; finishing running jobs", zap.Int("jobs", started))
		l.d.health.set(StateRetired)
		return ErrRetired
	}
	l.d.health.set(StateStopping)
	return nil
}

func (l *loop) tryAcquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// start hands m to its owner on the slot acquired for it; messages of one
// FIFO group run one at a time, in order. A group on a standard queue (a
// fair queue's tenant) orders nothing.
func (l *loop) start(ctx context.Context, m *inflight) {
	l.jobs.Add(1)
	m.free = sync.OnceFunc(func() { <-l.slots })
	group := ""
	if g := m.msg.groupID(); g != "" && l.d.fifo(ctx, m.msg.Queue) {
		group = m.msg.Queue + "\x00" + g
	}
	l.groups.submit(group, m, func(m *inflight) bool {
		defer l.jobs.Done()
		defer m.free()
		err := l.d.handle(ctx, l.r, m)
		if errors.Is(err, ErrChildStart) {
			l.r.setFatal(err)
		}
		return m.final
	})
}

// fifo reports whether the queue at url is a FIFO queue, from its
// attributes (read at start and cached); should they be unreadable now,
// from its name, which SQS makes end in ".fifo" for every FIFO queue.
func (d *Dispatcher) fifo(ctx context.Context, url string) bool {
	if qi, err := d.q.Info(ctx, url); err == nil {
		return qi.FIFO
	}
	return strings.HasSuffix(url, ".fifo")
}

// idleDelay is the pause after an empty receive when the queue does not
// long-poll.
const idleDelay = time.Second

// shortPolling reports whether the lowest-priority receive returns at once.
func (d *Dispatcher) shortPolling(ctx context.Context) bool {
	if d.cfg.WaitTime > 0 {
		return false
	}
	qi, err := d.q.Info(ctx, d.queueURLs[len(d.queueURLs)-1])
	return err == nil && qi.WaitSeconds == 0
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
