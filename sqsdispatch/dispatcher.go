package sqsdispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/ack"
	"github.com/sqsdispatch/go-sqsdispatch/internal/busy"
	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/internal/stop"
	"github.com/sqsdispatch/go-sqsdispatch/internal/testhook"
)

// Dispatcher takes messages from an SQS queue and runs each one's job in a
// fresh child process. Run and DispatchOne must not be called
// concurrently; Status may be called at any time.
type Dispatcher struct {
	cfg       Config
	log       *zap.Logger
	queueURLs []string // in priority order
	q         *queue.Queues
	leases    *lease.Manager // of the Run or DispatchOne under way
	maxAge    time.Duration  // SQS's 12-hour limit (shortened by tests)
	slots     slotTable
	health    health
	spares    atomic.Pointer[child.Spares] // set while Run runs with Prespawn
	kept      atomic.Pointer[keptChildren] // set while Run runs: children waiting for their next job
	running   atomic.Bool                  // Run or DispatchOne is under way
	busy      *busy.Tracker                // of the Run or DispatchOne under way; nil without Config.BusyHook
	drain     drainer
	inFlight  inFlight
	acks      *ack.Batcher // the deletes and visibility changes that settle messages
}

// New validates cfg and returns a dispatcher. It makes no network calls
// and changes nothing in the process; Run reads the queue's attributes when
// it starts.
//
// New refuses to run in a process that was started as a job child: that
// process did not call Init first in main (or in TestMain), so it would
// start children of its own without end. It prints why and exits with
// code 2.
func New(cfg Config) (*Dispatcher, error) {
	if child.IsChild() {
		fmt.Fprintln(os.Stderr, errNotInit)
		os.Exit(2)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if a, ok := testhook.CurrentAgeLimit(); ok && cfg.maxAge == 0 {
		cfg.setAgeLimit(a.MaxAge, a.Margin, a.HideMin)
	}
	d := &Dispatcher{cfg: cfg, log: cfg.Logger, queueURLs: cfg.QueueURLs, maxAge: cmp.Or(cfg.maxAge, maxVisibility), drain: newDrainer()}
	if cfg.QueueURL != "" {
		d.queueURLs = []string{cfg.QueueURL}
	}
	d.q = queue.New(cfg.Client, queue.Config{Visibility: cfg.VisibilityTimeout, WaitTime: cfg.WaitTime, Logger: cfg.Logger})
	d.slots.busy = func(n int) { cfg.Metrics.SlotsBusy(n, cfg.Concurrency) }
	d.inFlight.report = cfg.Metrics.InFlight
	d.acks = ack.New(cfg.Client, ack.Config{Window: ackWindow, Held: d.inFlight.count, Logger: cfg.Logger})
	d.health.set(StateStarting)
	return d, nil
}

// ackWindow is the longest the delete or visibility change that settles
// a message waits for others to share its batch call. It never delays a
// message when no other held message could join (a lone message, or
// Concurrency 1), nor one of a FIFO queue; and the slot takes its next
// message before its predecessor's delete is sent.
const ackWindow = 50 * time.Millisecond

// errNotInit is what a job child that reaches New prints before it exits.
var errNotInit = errors.New("sqsdispatch: this process was started as a job child but did not call sqsdispatch.Init first; " +
	"call sqsdispatch.Init(registry) as the first line of main (and of TestMain in tests)")

// acquire makes the caller the one Run or DispatchOne of d, with a lease
// manager of its own.
func (d *Dispatcher) acquire() error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("sqsdispatch: Run or DispatchOne is already running on this Dispatcher")
	}
	d.leases = lease.New(d.cfg.Client, lease.Config{Visibility: d.cfg.VisibilityTimeout, Interval: d.cfg.HeartbeatInterval,
		MaxAge: d.maxAge, Logger: d.cfg.Logger, OnFailure: d.cfg.Metrics.HeartbeatFailed})
	d.busy = busy.New(d.cfg.BusyHook, nil, d.log) // a nil BusyHook is a nil busy.Hook
	return nil
}

// DispatchOne receives at most one message and runs its job to the end.
// It reports whether a message was received. The error is the message's
// outcome: nil on success, a *JobError, *WorkerProcessError or
// *DispatcherError otherwise. Cancelling ctx while a job runs interrupts
// it as a stop signal would: cleanup, then the message is given back.
// DispatchOne does not handle stop signals itself.
func (d *Dispatcher) DispatchOne(ctx context.Context) (handled bool, err error) {
	if err := d.acquire(); err != nil {
		return false, err
	}
	defer d.running.Store(false)
	r := newRunState(ctx, stop.Config{})
	defer r.close()
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { d.leases.Run(bgCtx) })
	bg.Go(func() { d.busy.Run(bgCtx) })
	defer func() { stopBG(); bg.Wait() }()
	rctx, cancel := r.receiving(ctx)
	msgs, err := d.q.Receive(rctx, d.queueURLs, 1, r.halted())
	cancel()
	if err == nil {
		d.health.received()
	}
	if len(msgs) == 0 {
		switch {
		case err != nil && ctx.Err() == nil:
			err = dispatcherError(err)
		case err == nil && ctx.Err() != nil:
			err = ctx.Err() // stopped before anything came
		}
		return false, err
	}
	return true, d.handle(ctx, r, d.hold(msgs[0]))
}

// hold takes a received message into the dispatcher's care: its lease is
// renewed from now until its owner releases it.
func (d *Dispatcher) hold(rcv queue.Received) *inflight {
	msg := fromSQS(rcv.Queue, rcv.Message)
	m := &inflight{msg: msg, attrs: rcv.Message.MessageAttributes, receipt: aws.ToString(rcv.Message.ReceiptHandle), received: rcv.At}
	m.lease = d.leases.Hold(rcv.Queue, m.receipt, rcv.At)
	d.inFlight.add(rcv.Queue, 1)
	d.busy.Acquire()
	var age time.Duration
	if ms, err := strconv.ParseInt(msg.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		age = max(0, time.Since(time.UnixMilli(ms)))
	}
	d.cfg.Metrics.MessageReceived(msg.Queue, age)
	if d.cfg.LogBodies {
		d.log.Info("message received", zap.String("queue", msg.Queue), zap.String("message_id", msg.ID),
			zap.Int("receive_count", msg.ReceiveCount), zap.Duration("age", age), zap.String("body", msg.Body))
	}
	return m
}

// childFor hands m's job to a kept child that waits for its next job,
// when the job's Reuse allows it, else to a spare, else to a child it
// starts. A payload streams to the child after its request. It returns
// the child and, when the child may run another job after this one, its
// own job limit (else 0).
func (d *Dispatcher) childFor(m *inflight, job Job, body *payloadBody, log *zap.Logger) (*child.Child, int, error) {
	req := jobRequest(m.msg, job.Name)
	start := time.Now()
	opts := d.childOptions(log)
	pol, kept := d.reusePolicy(job), d.kept.Load()
	req.Reuse = pol.on() && kept != nil
	var c *child.Child
	limit := 0
	if req.Reuse {
		if k, ok := kept.take(pol); ok {
			c, limit = k.p.Next(), k.limit
		}
	}
	if c == nil {
		if sp := d.spares.Load(); sp != nil {
			c = sp.Take()
		}
		if c == nil {
			var err error
			if c, err = child.Start(opts); err != nil {
				return nil, 0, err
			}
		}
		if req.Reuse {
			limit = pol.limit(rand.IntN)
		}
	}
	if body != nil {
		c.SendBody(req, body.r, body.size, opts.Log)
	} else {
		c.Send(req, opts.Log)
	}
	d.cfg.Metrics.ChildSpawned(job.Name, time.Since(start))
	return c, limit, nil
}

// childOptions are the options every child of this dispatcher starts
// with. Without a logger, the children's stderr goes to this process's.
func (d *Dispatcher) childOptions(log *zap.Logger) child.Options {
	if d.cfg.noLogger {
		return child.Options{}
	}
	return child.Options{Log: log}
}

// memLimit is the job's memory limit in bytes, or 0.
func (d *Dispatcher) memLimit(job Job) int64 { return cmp.Or(job.MaxRSS, d.cfg.MaxRSS) }

// retryDelay is the retry policy's delay for a failed delivery of m.
func (d *Dispatcher) retryDelay(m *inflight) retryDelay {
	if d.cfg.Retry == nil {
		return retryDelay{}
	}
	return retryDelay{d: d.cfg.Retry.Delay(m.msg.ReceiveCount), ok: true}
}

// startupChecks reads every queue's attributes before the first receive:
// a missing queue, denied access or bad credentials fail at once,
// transient errors are retried like receives, and configurations that
// would lose or duplicate work are refused.
func (d *Dispatcher) startupChecks(ctx context.Context, r *runState) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.stop.Stopping():
			cancel()
		case <-ctx.Done():
		}
	}()
	bo := queue.Backoff{GiveUp: d.cfg.GiveUpAfter}
	for {
		err := d.q.Check(ctx, d.queueURLs, d.cfg.RequireDLQ)
		switch {
		case err == nil:
			if err := d.checkLeaseOutlastsPoll(ctx); err != nil {
				return err
			}
			d.warnLongJobs()
			d.health.set(StateReceiving)
			return nil
		case r.stop.IsStopping():
			return r.stopErr()
		case errors.Is(err, ErrQueueConfig), queue.IsFatal(err):
			return dispatcherError(err)
		}
		delay, ok := bo.Next(time.Now())
		if !ok {
			return fmt.Errorf("sqsdispatch: giving up after %s of failing start-up checks: %w", d.cfg.GiveUpAfter, dispatcherError(err))
		}
		d.log.Warn("start-up check failed; backing off", zap.Error(err), zap.Duration("delay", delay))
		d.health.failed(err)
		sleepCtx(ctx, delay)
	}
}

// checkLeaseOutlastsPoll refuses a VisibilityTimeout that a long poll of
// the queues' own ReceiveMessageWaitTimeSeconds (when Config.WaitTime is
// 0) could use up: a message taken late in the poll would arrive with its
// lease already lost.
func (d *Dispatcher) checkLeaseOutlastsPoll(ctx context.Context) error {
	if d.cfg.WaitTime > 0 {
		return nil // checked by New
	}
	for _, url := range d.queueURLs {
		qi, err := d.q.Info(ctx, url)
		if err != nil {
			return dispatcherError(err)
		}
		if wait := time.Duration(qi.WaitSeconds) * time.Second; d.cfg.VisibilityTimeout <= wait+d.cfg.HeartbeatInterval {
			return fmt.Errorf("%w: Config.VisibilityTimeout (%s) must be longer than %s's ReceiveMessageWaitTimeSeconds (%s) plus Config.HeartbeatInterval (%s)",
				ErrQueueConfig, d.cfg.VisibilityTimeout, url, wait, d.cfg.HeartbeatInterval)
		}
	}
	return nil
}

// warnLongJobs warns about jobs whose Timeout outlasts SQS's 12-hour
// visibility limit.
func (d *Dispatcher) warnLongJobs() {
	for _, name := range d.cfg.Registry.Names() {
		if job, _ := d.cfg.Registry.Lookup(name); job.Timeout > maxVisibility {
			d.log.Warn("job timeout exceeds SQS's 12-hour visibility limit; its lease will run out first",
				zap.String("job", name), zap.Duration("timeout", job.Timeout))
		}
	}
}

// dispatcherError turns an SQS call's error into a *DispatcherError; an
// error that wraps one with more to say is left as it is.
func dispatcherError(err error) error {
	if op, ok := err.(*queue.OpError); ok {
		return &DispatcherError{Op: op.Op, Queue: op.Queue, MessageID: op.MessageID, Err: op.Err}
	}
	return err
}
