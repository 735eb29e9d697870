package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// ErrChildStart is wrapped by the error returned when a child process
// could not be started (exec failed, out of file descriptors). The message
// is given back; Run returns rather than loop.
var ErrChildStart = errors.New("sqsdispatch: child process could not be started")

// Dispatcher takes messages from an SQS queue and runs each one's job in a
// fresh child process. Its methods must not be called concurrently.
type Dispatcher struct {
	cfg    Config
	log    *zap.Logger
	queues queueCache
	busy   atomic.Bool

	receiving      atomic.Int32 // receives in flight
	lastRecvCancel atomic.Int64 // unix ns of the last receive cancelled in flight
}

// New validates cfg and returns a dispatcher. It makes no network calls;
// Run reads the queue's attributes when it starts.
//
// On Linux, New marks the process a child subreaper, so that the
// grandchildren of a job are re-parented to it, killed with the job's
// process group and reaped, instead of lingering as zombies.
func New(cfg Config) (*Dispatcher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Dispatcher{cfg: cfg, log: cfg.Logger}
	if err := proc.BecomeSubreaper(); err != nil {
		d.log.Warn("cannot become a child subreaper; orphaned grandchildren of jobs will be reaped by init", zap.Error(err))
	}
	return d, nil
}

func (d *Dispatcher) acquire() error {
	if !d.busy.CompareAndSwap(false, true) {
		return errors.New("sqsdispatch: Run or DispatchOne is already running on this Dispatcher")
	}
	return nil
}

// DispatchOne receives at most one message and runs its job to the end.
// It reports whether a message was received. The error is the message's
// outcome: nil on success, a *JobError, *WorkerProcessError or
// *DispatcherError otherwise. Cancelling ctx while a job runs interrupts
// it as a stop signal would (SPEC §5): cleanup, then the message is given
// back.
func (d *Dispatcher) DispatchOne(ctx context.Context) (handled bool, err error) {
	if err := d.acquire(); err != nil {
		return false, err
	}
	defer d.busy.Store(false)
	st := newStopper()
	defer context.AfterFunc(ctx, func() { st.request(nil, context.Cause(ctx), false) })()
	msgs, err := d.receive(ctx, 1)
	if err != nil || len(msgs) == 0 {
		return false, err
	}
	return true, d.process(ctx, msgs[0], st)
}

// Run receives and runs messages until ctx is done or a stop signal
// arrives, then interrupts the running job (after Config.ShutdownGrace) and
// returns a *StoppedError naming the signal. Job failures are logged and do
// not stop it. It returns early, with the error, when the queue cannot be
// used (missing, access denied, bad credentials), when receives have failed
// for Config.GiveUpAfter, or when a child cannot be started.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.acquire(); err != nil {
		return err
	}
	defer d.busy.Store(false)
	st := newStopper()
	var wg sync.WaitGroup
	defer wg.Wait()
	watchDone := make(chan struct{})
	defer close(watchDone)
	wg.Go(func() { d.watchStops(ctx, st, watchDone) })

	recvCtx, cancelRecv := context.WithCancel(ctx)
	defer cancelRecv()
	defer context.AfterFunc(ctx, cancelRecv)()
	go func() {
		select {
		case <-st.stopping:
			cancelRecv()
		case <-watchDone:
		}
	}()

	bo := backoff{giveUp: d.cfg.GiveUpAfter}
	for {
		if isClosed(st.stopping) {
			_, err := st.why()
			return err
		}
		msgs, err := d.receiveOrInfo(recvCtx)
		if isClosed(st.stopping) {
			_, serr := st.why()
			return serr
		}
		if err != nil {
			if isFatal(err) {
				return err
			}
			delay, ok := bo.next(time.Now())
			if !ok {
				return fmt.Errorf("sqsdispatch: giving up after %s of failing SQS calls: %w", d.cfg.GiveUpAfter, err)
			}
			d.log.Warn("SQS call failed; backing off", zap.Error(err), zap.Duration("delay", delay))
			sleepCtx(recvCtx, delay)
			continue
		}
		bo.reset()
		if len(msgs) == 0 && d.cfg.WaitTime == 0 {
			if qi, _ := d.queues.info(ctx, d.cfg.Client, d.cfg.QueueURL); qi != nil && qi.waitSeconds == 0 {
				sleepCtx(recvCtx, idleDelay) // short polling: do not spin
			}
		}
		for _, m := range msgs {
			err := d.process(ctx, m, st)
			switch {
			case err == nil, errors.Is(err, ErrStopped):
			case errors.Is(err, ErrChildStart):
				return err
			default:
				d.log.Warn("message not processed successfully", zap.String("message_id", m.msg.ID), zap.Error(err))
			}
		}
	}
}

// idleDelay is the pause after an empty receive when the queue does not
// long-poll.
const idleDelay = time.Second

// receiveOrInfo makes sure the queue's attributes are known (which also
// checks that the queue exists and is reachable) and then receives.
func (d *Dispatcher) receiveOrInfo(ctx context.Context) ([]*inflight, error) {
	if _, err := d.queues.info(ctx, d.cfg.Client, d.cfg.QueueURL); err != nil {
		return nil, err
	}
	return d.receive(ctx, 1)
}

// watchStops turns stop signals and the end of ctx into stop requests,
// and ends a drain after ShutdownGrace.
func (d *Dispatcher) watchStops(ctx context.Context, st *stopper, done <-chan struct{}) {
	sigs := make(chan os.Signal, 4)
	if len(d.cfg.StopSignals) > 0 {
		signal.Notify(sigs, d.cfg.StopSignals...)
		defer signal.Stop(sigs)
	}
	drain := d.cfg.ShutdownGrace > 0
	var grace <-chan time.Time
	ctxDone := ctx.Done()
	first := func() {
		if drain && !isClosed(st.stopping) {
			grace = time.After(d.cfg.ShutdownGrace)
		}
	}
	for {
		select {
		case s := <-sigs:
			d.log.Info("stop signal received", zap.Stringer("signal", s))
			first()
			st.request(s, nil, drain)
		case <-ctxDone:
			ctxDone = nil
			first()
			st.request(nil, context.Cause(ctx), drain)
		case <-grace:
			grace = nil
			st.endDrain()
		case <-done:
			return
		}
	}
}
