package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ErrRetired is returned by Run when the dispatcher retired after
// Config.MaxJobs jobs or Config.MaxLifetime: it stopped receiving and let
// its running jobs finish. A supervisor should start a fresh process.
var ErrRetired = errors.New("sqsdispatch: dispatcher retired")

// Run receives and runs messages, Config.Concurrency at a time, until ctx is
// done or a stop signal arrives; then it lets running jobs finish for
// Config.ShutdownGrace, interrupts the rest (SPEC §5) and returns a
// *StoppedError naming the signal. It returns ErrRetired after MaxJobs or
// MaxLifetime. Job failures are logged and do not stop it. It returns
// early, with the error, when a queue cannot be used (missing, access
// denied, bad credentials, a configuration that would lose or duplicate
// work), when receives have failed for Config.GiveUpAfter, or when a child
// cannot be started.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.acquire(); err != nil {
		return err
	}
	defer d.busy.Store(false)

	st := newStopper()
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	defer func() { stopBG(); bg.Wait() }()
	bg.Go(func() { d.watchStops(ctx, st, bgCtx.Done()) })
	bg.Go(func() { d.hb.run(bgCtx) })
	if d.cfg.StatusOnSIGUSR1 {
		bg.Go(func() { d.dumpStatusOnSIGUSR1(bgCtx.Done()) })
	}
	d.log.Info("dispatcher started", zap.Strings("queues", d.queueURLs), zap.Int("slots", d.cfg.Concurrency))
	defer func() { d.log.Info("dispatcher stopped") }()

	if err := d.startupChecks(ctx, st); err != nil {
		return err
	}
	if d.cfg.Prespawn {
		sp := newSpares(d.cfg.Concurrency, d.cfg.PrespawnMaxIdle, d.log)
		d.spares.Store(sp)
		defer d.spares.Store(nil)
		bg.Go(func() { sp.run(bgCtx) })
	}
	w := newWorkers()
	defer w.close()
	l := &loop{d: d, st: st, slots: make(chan struct{}, d.cfg.Concurrency), groups: newGroups(w.run), fatal: make(chan error, 1)}
	retired := l.receiveUntilDone(ctx)
	d.log.Info("dispatcher shutting down: no more receives; waiting for running jobs")
	l.jobs.Wait()
	select {
	case err := <-l.fatal:
		return err
	default:
	}
	if retired != nil && !isClosed(st.stopping) {
		return retired
	}
	if !isClosed(st.stopping) { // ctx ended; watchStops may not have said so yet
		st.request(nil, context.Cause(ctx), false)
	}
	_, err := st.why()
	return err
}

// loop is the state of one Run's receive loop.
type loop struct {
	d      *Dispatcher
	st     *stopper
	slots  chan struct{} // one token per busy slot
	groups *groups
	jobs   sync.WaitGroup
	fatal  chan error

	cancelRecv context.CancelFunc // stops receiving
}

// receiveUntilDone receives and starts jobs until a stop, a fatal error or
// retirement, which it returns.
func (l *loop) receiveUntilDone(ctx context.Context) error {
	d := l.d
	recvCtx, cancelRecv := context.WithCancel(ctx)
	defer cancelRecv()
	var lifetime <-chan time.Time
	if d.cfg.MaxLifetime > 0 {
		t := time.NewTimer(d.cfg.MaxLifetime)
		defer t.Stop()
		lifetime = t.C
	}
	l.cancelRecv = cancelRecv
	retire := make(chan struct{})
	go func() {
		select {
		case <-l.st.stopping:
		case <-lifetime:
			close(retire)
		case <-recvCtx.Done():
			return
		}
		cancelRecv()
	}()

	bo := backoff{giveUp: d.cfg.GiveUpAfter}
	started := 0
	for {
		select {
		case l.slots <- struct{}{}:
		case <-recvCtx.Done():
			return l.retirement(retire, started)
		}
		n := 1
		for n < min(10, d.cfg.Concurrency) && l.tryAcquire() {
			n++
		}
		if d.cfg.MaxJobs > 0 {
			for n > d.cfg.MaxJobs-started {
				n--
				<-l.slots
			}
		}
		msgs, err := d.receive(recvCtx, n)
		for range n - len(msgs) {
			<-l.slots
		}
		if recvCtx.Err() != nil && len(msgs) == 0 {
			return l.retirement(retire, started)
		}
		if err != nil {
			if isFatal(err) {
				l.setFatal(err)
				return nil
			}
			delay, ok := bo.next(time.Now())
			if !ok {
				l.setFatal(fmt.Errorf("sqsdispatch: giving up after %s of failing receives: %w", d.cfg.GiveUpAfter, err))
				return nil
			}
			d.log.Warn("receive failed; backing off", zap.Error(err), zap.Duration("delay", delay))
			sleepCtx(recvCtx, delay)
			continue
		}
		bo.reset()
		for _, m := range msgs {
			started++
			l.start(ctx, m)
		}
		if d.cfg.MaxJobs > 0 && started >= d.cfg.MaxJobs {
			d.log.Info("retiring: MaxJobs reached; finishing running jobs", zap.Int("jobs", started))
			return ErrRetired
		}
		if len(msgs) == 0 && d.shortPolling(ctx) {
			sleepCtx(recvCtx, idleDelay) // the queue does not long-poll: do not spin
		}
	}
}

func (l *loop) retirement(retire chan struct{}, started int) error {
	if isClosed(retire) {
		l.d.log.Info("retiring: MaxLifetime reached; finishing running jobs", zap.Int("jobs", started))
		return ErrRetired
	}
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

// start runs m's job on the slot acquired for it; messages of one FIFO
// group run one at a time, in order.
func (l *loop) start(ctx context.Context, m *inflight) {
	l.jobs.Add(1)
	group := m.msg.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
	if group != "" {
		group = m.msg.Queue + "\x00" + group
		l.d.hb.add(m) // keep its lease while it waits for its group
	}
	m.childGone = sync.OnceFunc(func() {
		<-l.slots
		runtime.Gosched() // let the receive loop fill the slot first
	})
	l.groups.submit(group, func() {
		defer l.jobs.Done()
		defer m.childGone()
		err := l.d.process(ctx, m, l.st)
		switch {
		case err == nil, errors.Is(err, ErrStopped):
		case errors.Is(err, ErrChildStart):
			l.setFatal(err)
		default:
			l.d.log.Warn("message not processed successfully", zap.String("message_id", m.msg.ID), zap.Error(err))
		}
	})
}

// setFatal records the error Run returns and stops receiving.
func (l *loop) setFatal(err error) {
	select {
	case l.fatal <- err:
	default:
	}
	l.cancelRecv()
}

// idleDelay is the pause after an empty receive when the queue does not
// long-poll.
const idleDelay = time.Second

// shortPolling reports whether the lowest-priority receive returns at once.
func (d *Dispatcher) shortPolling(ctx context.Context) bool {
	if d.cfg.WaitTime > 0 {
		return false
	}
	qi, err := d.queues.info(ctx, d.cfg.Client, d.queueURLs[len(d.queueURLs)-1])
	return err == nil && qi.waitSeconds == 0
}
