package sqsdispatch

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

const (
	// continueTries is how often a FIFO continuation is sent.
	continueTries = 3
	// copyDeleteWindow is the longest the delete of a copied message's
	// original (continued or dead-lettered) is retried: at SQS's 12-hour
	// limit, about as long as a continued original stays hidden.
	copyDeleteWindow = 5 * time.Minute
	// standardHide is the least a continued message's original on a
	// standard queue must stay hidden: time for the send and the
	// delete's retries. At the 12-hour limit the age margin leaves it.
	standardHide = maxCallTime + copyDeleteWindow
	// fifoHide is how long the original of a FIFO continuation is hidden:
	// time for the call that hides it, its sends and its delete. SQS
	// delivers nothing of the group while the original is in flight, so
	// a longer hide would only hold up the group.
	fifoHide = (1+continueTries)*maxCallTime + time.Minute
)

// continueMessage replaces the message with the copy that continues it
// from the checkpoint kept (t.kept.next), and returns the action it ended
// in: a, or a give-back when SQS refused the copy.
//
// Before the send it hides the original: a send whose fate is unknown, or
// a process that dies between the send and the delete, must not bring the
// original back at once beside its copy. On a standard queue the hide
// lasts as long as SQS allows, and the send is tried once, since a copy
// sent twice runs twice. On a FIFO queue the copy cannot be delivered
// while the original is in flight, so the hide lasts only fifoHide, and
// the send is retried (the deduplication ID makes that safe).
//
// A copy SQS refused outright (a 4xx answer: it was not stored) gives the
// original back at once, to resume from its own checkpoint. A send whose
// fate is unknown leaves the original hidden: it comes back once the hide
// ends and resumes from its own, earlier checkpoint (work may then be done
// twice, never lost). Once the copy is confirmed, the original is deleted
// (deleteOriginal).
func (t *turn) continueMessage(ctx context.Context, a action) (action, error) {
	in := t.kept.next
	hide, need, tries := t.d.maxAge, standardHide, 1
	if in.FIFO {
		hide, need, tries = fifoHide, fifoHide, continueTries
	}
	need = cmp.Or(t.d.cfg.hideMin, need)
	granted, err := t.hide(ctx, hide)
	switch {
	case err != nil:
		return a, err
	case granted < need:
		return a, fmt.Errorf("sqsdispatch: SQS's 12-hour limit leaves the original message hidden for %s, less than the %s a continuation needs: not continued", granted, need)
	}
	for attempt := 1; attempt <= tries; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, maxCallTime)
		t.continued, err = t.d.q.SendCopy(cctx, *in)
		cancel()
		if err == nil || queue.Rejected(err) {
			break
		}
		t.log.Warn("sending the message's continuation", zap.Int("attempt", attempt), zap.Error(err))
	}
	switch {
	case queue.Rejected(err):
		t.log.Warn("SQS refused the message's continuation: giving the message back, to resume from its own checkpoint", zap.Error(err))
		a.verb, a.outcome = doGiveBack, OutcomeInterrupted
		return a, t.giveBack(ctx)
	case err != nil:
		return a, err
	}
	return a, t.deleteOriginal(ctx, zap.String("continued_as", t.continued))
}

// deleteOriginal deletes the original of a message whose copy (a
// continuation, or a dead-letter copy) SQS confirmed. A delete that fails
// is retried, with back-off, until the original's hide is about to end
// (for copyDeleteWindow at most, and once the dispatcher is stopping
// within its settleBudget: ctx), unless the error will not go away.
// Should every try fail, the original comes back once its hide ends: a
// continued one runs again from its own checkpoint, beside the copy if
// the copy still runs then; a dead-lettered one is moved again.
func (t *turn) deleteOriginal(ctx context.Context, copied zap.Field) error {
	msg := t.m.msg
	return t.d.q.DeleteRetried(ctx, msg.Queue, t.m.receipt, msg.ID, queue.DeleteRetry{
		Until:   earliest(t.deadline.Add(-time.Second), time.Now().Add(copyDeleteWindow)),
		PerCall: maxCallTime,
		Failed: func(attempt int, err error) {
			t.log.Warn("deleting the message after its copy was sent", copied, zap.Int("attempt", attempt), zap.Error(err))
		},
	})
}

// runsUsedUp reports whether a continued message has run more often,
// across the messages it continues, than its queue's maxReceiveCount
// allows; it then says so in t.cause. SQS counts each message's own
// receives only: without this, a job continued from checkpoint to
// checkpoint would never reach the dead-letter queue.
func (t *turn) runsUsedUp(ctx context.Context) bool {
	msg := t.m.msg
	if msg.Runs <= msg.ReceiveCount {
		return false // not a continuation
	}
	cctx, cancel := t.callCtx(ctx)
	defer cancel()
	qi, err := t.d.q.Info(cctx, msg.Queue)
	if err != nil || qi.Redrive == nil || msg.Runs <= qi.Redrive.MaxReceiveCount {
		return false
	}
	t.cause = fmt.Errorf("sqsdispatch: the job has run %d times across the messages that continue it, more than the queue's maxReceiveCount of %d",
		msg.Runs, qi.Redrive.MaxReceiveCount)
	return true
}
