package sqsdispatch

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// apply carries out a. The interruption protocol decides the message's
// fate in the end and carries that out in turn; it returns the action it
// ended in. Every other action is a few SQS calls, each bounded by
// callCtx and, once the dispatcher is stopping, all of them together by
// settleBudget. ctx is not cancelled by the stop (settle detached it):
// a stop, or a second one, never cuts short the calls that settle a
// message.
func (t *turn) apply(ctx context.Context, a action) (action, error) {
	if a.verb == doInterrupt {
		return t.interrupt(ctx, a)
	}
	ctx, cancel := t.r.settling(ctx)
	defer cancel()
	switch a.verb {
	case doDelete:
		t.c.Release()
		t.d.slots.remove(t.m)
		t.r.childGone(t.m) // the slot takes its next message while this one is deleted
		cctx, cancel := t.callCtx(ctx)
		defer cancel()
		if err := t.d.acks.Delete(cctx, t.m.msg.Queue, t.m.receipt, t.m.msg.ID, t.d.fifo(cctx, t.m.msg.Queue)); err != nil {
			return a, err
		}
		t.deletePayload(ctx)
		return a, nil
	case doVisibility:
		return a, t.setVisibility(ctx, a.delay)
	case doDeadLetter:
		return a, t.deadLetter(ctx, t.reason(a))
	case doGiveBack:
		return a, t.giveBack(ctx)
	case doContinue:
		return t.continueMessage(ctx, a)
	default: // doLeave
		return a, nil
	}
}

// callCtx bounds one SQS call made for the message: by the lease's
// deadline (past it another consumer may hold the message and the call
// can only fail), but never below minCallTime nor above maxCallTime.
func (t *turn) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	now := time.Now()
	return context.WithDeadline(ctx, earliest(latest(t.deadline, now.Add(minCallTime)), now.Add(maxCallTime)))
}

// setVisibility settles the message: visible again after vis, capped so
// it stays within SQS's 12-hour limit. The change may share a batch call
// with others.
func (t *turn) setVisibility(ctx context.Context, vis time.Duration) error {
	_, err := t.changeVisibility(ctx, vis, true)
	return err
}

// hide keeps the message hidden for vis at once, for a cleanup or a
// continuation, and returns the visibility granted: vis, or less when
// SQS's 12-hour limit is near.
func (t *turn) hide(ctx context.Context, vis time.Duration) (time.Duration, error) {
	return t.changeVisibility(ctx, vis, false)
}

// changeVisibility sets the message's visibility to vis, capped by SQS's
// 12-hour limit, in a batch call with others when batched, else in a call
// of its own; it moves the lease's deadline and returns the visibility
// granted.
func (t *turn) changeVisibility(ctx context.Context, vis time.Duration, batched bool) (time.Duration, error) {
	vis = lease.Cap(vis, time.Since(t.m.received), t.d.maxAge)
	start := time.Now()
	ctx, cancel := t.callCtx(ctx)
	defer cancel()
	var err error
	if batched {
		err = t.d.acks.SetVisibility(ctx, t.m.msg.Queue, t.m.receipt, t.m.msg.ID, vis, t.d.fifo(ctx, t.m.msg.Queue))
	} else {
		err = t.d.q.SetVisibility(ctx, t.m.msg.Queue, t.m.receipt, t.m.msg.ID, vis)
	}
	if err != nil {
		return 0, err
	}
	t.deadline = start.Add(vis)
	return vis, nil
}

// giveBack makes the message visible again at once, or once a receive of
// this process that may still take it server-side has ended.
func (t *turn) giveBack(ctx context.Context) error {
	cctx, cancel := t.callCtx(ctx)
	defer cancel()
	delay, err := t.d.q.GiveBackDelay(cctx, t.m.msg.Queue)
	if err != nil {
		return err
	}
	return t.setVisibility(ctx, delay)
}

// deadLetter moves the message to its queue's dead-letter queue, with the
// checkpoint its next run would resume from and a fresh count of runs, so
// that the copy, moved back to its queue, runs again from there. Once the
// copy is confirmed, the original's delete is retried for as long as it
// stays hidden (deleteOriginal), not cut short by the copy's call time.
func (t *turn) deadLetter(ctx context.Context, reason string) error {
	msg := t.m.msg
	cctx, cancel := t.callCtx(ctx)
	defer cancel()
	reasons := envelope.DeadLetterReasons(reason, msg.Queue, t.m.job, msg.ReceiveCount)
	dlq, err := t.d.q.CopyToDeadLetter(cctx, queue.DeadLetterInput{Queue: msg.Queue, MessageID: msg.ID,
		Copy: t.copyOf(t.deadLetterResume(), reasons)})
	if err != nil {
		return err
	}
	if err := t.deleteOriginal(ctx, zap.String("dead_lettered", dlq)); err != nil {
		return err
	}
	t.d.cfg.Metrics.DeadLettered(msg.Queue, t.m.job)
	t.dlq = dlq
	return nil
}

// reason is the dead-letter reason of a: the job's own words, or why the
// message could not run.
func (t *turn) reason(a action) string {
	if a.reason == "" && t.cause != nil {
		return t.cause.Error()
	}
	return a.reason
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
