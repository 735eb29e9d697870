package sqsdispatch

import (
	"context"
	"errors"
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
	cfg       Config
	log       *zap.Logger
	queueURLs []string // in priority order
	queues    queueCache
	hb        *heartbeats
	slots     slotTable
	spares    atomic.Pointer[spares] // set while Run runs with Prespawn
	busy      atomic.Bool

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
	d := &Dispatcher{cfg: cfg, log: cfg.Logger, queueURLs: cfg.QueueURLs}
	if cfg.QueueURL != "" {
		d.queueURLs = []string{cfg.QueueURL}
	}
	d.hb = newHeartbeats(d)
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
	hbCtx, stopHB := context.WithCancel(context.WithoutCancel(ctx))
	var hb sync.WaitGroup
	hb.Go(func() { d.hb.run(hbCtx) })
	defer func() { stopHB(); hb.Wait() }()
	msgs, err := d.receive(ctx, 1)
	if err != nil || len(msgs) == 0 {
		return false, err
	}
	return true, d.process(ctx, msgs[0], st)
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
