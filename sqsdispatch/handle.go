package sqsdispatch

import (
	"context"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
)

// inflight is a received message while the dispatcher holds it.
type inflight struct {
	msg      *Message
	attrs    map[string]types.MessageAttributeValue // all its attributes, as received: copies carry them
	receipt  string
	received time.Time    // when the receive call that returned it started
	lease    *lease.Lease // held from the receive until the outcome
	job      string
	free     func() // frees the message's slot; called once its child is gone
	giveBack bool   // go back to the queue without running (FIFO order)
	final    bool   // the outcome deleted or dead-lettered it
}

// handle owns one received message from its receive to its fate: its
// lease, its child and the outcome. It returns the error the caller sees.
func (d *Dispatcher) handle(ctx context.Context, r *runState, m *inflight) error {
	defer d.busy.Release()
	defer d.inFlight.add(m.msg.Queue, -1)
	defer m.lease.Release()
	t := &turn{d: d, r: r, m: m, start: time.Now(), log: d.log.With(zap.String("queue", m.msg.Queue),
		zap.String("message_id", m.msg.ID), zap.Int("receive_count", m.msg.ReceiveCount))}
	if r.stopping() || m.giveBack || isClosed(d.drained()) {
		return t.settle(ctx, endNotStarted)
	}
	if time.Since(m.received) > d.maxAge-d.cfg.ageMargin() {
		// Its job would be interrupted at once; received again, the
		// message has twelve hours before it.
		t.log.Warn("the message waited too near SQS's 12-hour visibility limit to start its job; giving it back")
		return t.settle(ctx, endNotStarted)
	}
	job, err := d.route(m.msg)
	m.job, t.cause = job.Name, err
	if err != nil {
		return t.settle(ctx, endRefused)
	}
	t.job, t.log = job, t.log.With(zap.String("job", job.Name))
	if t.cause = m.msg.refusal(); t.cause != nil || t.runsUsedUp(ctx) {
		return t.settle(ctx, endRefused)
	}
	body, end, ok := t.openPayload(ctx)
	if !ok {
		return t.settle(ctx, end)
	}
	if r.stopping() || isClosed(d.drained()) { // the stop (or a drain) came while the payload was opened
		body.Close()
		return t.settle(ctx, endNotStarted)
	}
	if t.c, t.limit, t.cause = d.childFor(m, job, body, t.log); t.cause != nil {
		body.Close()
		return t.settle(ctx, endStartFailed)
	}
	defer t.c.Release()
	defer body.Close() // before the release: a read of the store that stalls must not hold it
	t.log = t.log.With(zap.Int("pid", t.c.PID()))
	d.slots.add(m, t.c)
	defer d.slots.remove(m)
	return t.settle(ctx, t.await())
}

// turn is one message's way through handle: what is known of it so far.
type turn struct {
	d     *Dispatcher
	r     *runState
	m     *inflight
	job   Job
	c     *child.Child // nil until a child holds the message
	limit int          // the child's own job limit when it may run another job, else 0
	x     exitInfo     // set once the child has ended
	cause error        // what went wrong before a child ran
	log   *zap.Logger
	start time.Time

	op string // what failed, for a failDispatcher error

	deadline  time.Time        // the end of the visibility held, once the lease is released
	kept      kept             // the checkpoint an interruption keeps
	cleaning  bool             // a cleanup child was started for the job
	dlq       string           // the dead-letter queue the message was moved to
	continued string           // the ID of the copy that continues the message
	pointer   *payload.Pointer // where the message's payload is, when its body points to one
}

// await waits for the first thing that ends the job's run. A child that
// has exited always wins over a lost lease or a stop.
func (t *turn) await() ending {
	w := child.NewWatch(t.c, child.Limits{Timeout: t.job.Timeout, KillGrace: t.d.cfg.KillGrace,
		MaxRSS: t.d.memLimit(t.job), SampleInterval: t.d.cfg.MemorySampleInterval}, nil)
	defer w.Stop()
	limit := time.NewTimer(time.Until(t.m.received.Add(t.d.maxAge - t.d.cfg.ageMargin())))
	defer limit.Stop()
	for {
		select {
		case <-t.c.Done():
			t.x = exitOf(t.c, w)
			return endExited
		case <-limit.C:
			if t.exited(w) {
				return endExited
			}
			t.log.Warn("the message nears SQS's 12-hour visibility limit; interrupting its job", zap.Duration("max_age", t.d.maxAge))
			return endAgeLimit
		case <-t.m.lease.Lost():
			if t.exited(w) {
				return endExited
			}
			t.c.Signal(syscall.SIGKILL)
			<-t.c.Done()
			if t.x = exitOf(t.c, w); t.x.signal == 0 {
				return endExited // it had exited on its own before the kill
			}
			return endLeaseLost
		case <-t.r.interrupt():
			if t.exited(w) {
				return endExited
			}
			return endInterrupt
		case <-w.TimeoutC():
			t.log.Warn("job ran past its timeout; stopping it", zap.Duration("timeout", t.job.Timeout))
			w.OnTimeout()
		case <-w.KillC():
			w.OnKill()
		case <-w.SampleC():
			if rss, over := w.OnSample(); over {
				t.log.Warn("job exceeded its memory limit; killing it", zap.Int64("rss_bytes", rss), zap.Int64("max_rss", t.d.memLimit(t.job)))
			}
		}
	}
}

// exited reports whether the child has ended, recording how.
func (t *turn) exited(w *child.Watch) bool {
	select {
	case <-t.c.Done():
		t.x = exitOf(t.c, w)
		return true
	default:
		return false
	}
}

// settle decides the message's fate from how its run ended, releases the
// lease, carries the fate out and reports the outcome once, in one log
// line and one metric. The SQS calls it makes are not cut short by ctx:
// they are bounded by the lease's deadline and, once the dispatcher is
// stopping, by settleBudget.
func (t *turn) settle(ctx context.Context, end ending) error {
	ctx = context.WithoutCancel(ctx)
	a := t.decide(end)
	t.recycle(a)
	t.m.lease.Release() // waits out an extension in flight: nothing overwrites what apply sets
	t.deadline = t.m.lease.Deadline()
	a, applyErr := t.apply(ctx, a)
	applyErr = dispatcherError(applyErr)
	t.m.final = applyErr == nil && (a.verb == doDelete || a.verb == doDeadLetter || a.verb == doContinue)
	err := t.failureError(a)
	t.report(a, err, applyErr)
	return joinErr(err, applyErr)
}

// decide is the pure decide for this turn's ending and exit.
func (t *turn) decide(end ending) action {
	return decide(end, t.x, t.d.retryDelay(t.m), t.r.stopping())
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
