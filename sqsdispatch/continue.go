package sqsdispatch

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
)

// continuation builds the copy that continues the message from the job's
// last checkpoint, t.cp. It fails when the copy could not be sent: too
// many attributes, or too large for the queue.
func (t *turn) continuation(ctx context.Context) (*queue.ContinueInput, error) {
	msg := t.m.msg
	st := msg.resume.Next(msg.ID, msg.FirstReceived, msg.ReceiveCount, t.cpN, t.cp)
	attrs := sqsAttributes(msg.MessageAttributes)
	attrs[resume.Attr] = types.MessageAttributeValue{DataType: aws.String(resume.DataType), BinaryValue: st.Encode()}
	if len(attrs) > maxAttributes {
		return nil, fmt.Errorf("%w: the message has %d attributes and its checkpoint needs one more", queue.ErrTooManyAttributes, len(msg.MessageAttributes))
	}
	cctx, cancel := t.callCtx(ctx)
	defer cancel()
	qi, err := t.d.q.Info(cctx, msg.Queue)
	if err != nil {
		return nil, err
	}
	if size := queue.MessageSize(msg.Body, attrs); size > qi.MaxSize {
		return nil, fmt.Errorf("sqsdispatch: the message with its checkpoint is %d bytes, more than the queue's MaximumMessageSize of %d", size, qi.MaxSize)
	}
	in := &queue.ContinueInput{Queue: msg.Queue, Receipt: t.m.receipt, MessageID: msg.ID, Body: msg.Body, MessageAttributes: attrs}
	if group := msg.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; group != "" {
		in.GroupID, in.DedupID = group, resume.DedupID(st.Origin, st.Seq)
	}
	return in, nil
}

// maxAttributes is SQS's limit on a message's attributes.
const maxAttributes = 10

// continueMessage sends the continuation and then deletes the original.
//
// Before the send it hides the original: a send whose fate is unknown, or
// a process that dies between the send and the delete, must not bring the
// original back at once beside its copy. On a standard queue the hide
// lasts as long as SQS allows, and the send is tried once, since a copy
// sent twice runs twice. On a FIFO queue the copy cannot be delivered
// while the original is in flight, so the hide lasts only as long as the
// sends (retried: the deduplication ID makes that safe) and the delete
// need; a longer one would only hold up the group. A send that fails
// leaves the original hidden: it comes back once the hide ends and
// resumes from its own, earlier checkpoint (work may then be done twice,
// never lost). The delete is retried for continueDeleteBudget.
func (t *turn) continueMessage(ctx context.Context, in *queue.ContinueInput) error {
	hide, need, tries := t.d.maxAge, 2*continueCallTimeout+continueDeleteBudget, 1
	if in.GroupID != "" {
		hide, need, tries = fifoHide, fifoHide, continueTries
	}
	need = cmp.Or(t.d.cfg.hideMin, need)
	granted, err := t.hide(ctx, hide)
	switch {
	case err != nil:
		return err
	case granted < need:
		return fmt.Errorf("sqsdispatch: SQS's 12-hour limit leaves the original message hidden for %s, less than the %s a continuation needs: not continued", granted, need)
	}
	for attempt := 1; attempt <= tries; attempt++ {
		cctx, cancel := t.continueCallCtx(ctx)
		t.continued, err = t.d.q.SendCopy(cctx, *in)
		cancel()
		if err == nil {
			break
		}
		t.log.Warn("sending the message's continuation", zap.Int("attempt", attempt), zap.Error(err))
	}
	if err != nil {
		return err
	}
	return t.deleteContinued(ctx, in)
}

// deleteContinued deletes the original of a continued message, retrying
// for continueDeleteBudget unless the error will not go away; no call
// runs past the original's hide. Should it fail, the original comes back
// once its hide ends and runs again from its own checkpoint.
func (t *turn) deleteContinued(ctx context.Context, in *queue.ContinueInput) error {
	until := t.deadline.Add(-time.Second)
	if budget := time.Now().Add(continueDeleteBudget); budget.Before(until) {
		until = budget
	}
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), until)
		err := t.d.q.Delete(cctx, in.Queue, in.Receipt, in.MessageID)
		cancel()
		pause := min(time.Duration(attempt)*time.Second, 5*time.Second)
		switch {
		case err == nil, queue.LeaseGone(err), queue.IsFatal(err), t.r.hard(), time.Now().Add(pause).After(until):
			return err
		}
		t.log.Warn("deleting the message after its continuation was sent", zap.String("continued_as", t.continued),
			zap.Int("attempt", attempt), zap.Error(err))
		<-time.After(pause)
	}
}

// continueCallCtx bounds one SQS call of a continuation, whose hide may
// last hours.
func (t *turn) continueCallCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), continueCallTimeout)
}

const (
	// continueTries is how often a FIFO continuation is sent.
	continueTries = 3
	// continueCallTimeout bounds each SQS call of a continuation.
	continueCallTimeout = 10 * time.Second
	// continueDeleteBudget bounds the retries of the delete that follows
	// a continuation's send.
	continueDeleteBudget = time.Minute
	// fifoHide is how long the original of a FIFO continuation is hidden:
	// time for the call that hides it, its sends and its delete.
	fifoHide = (1+continueTries)*continueCallTimeout + continueDeleteBudget
)

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

// deadLetterAttributes are the attributes of the message's dead-letter
// copy: its own, with the checkpoint the next run would resume from and a
// fresh count of runs, so that the copy, moved back to its queue, runs
// again from that checkpoint.
func (t *turn) deadLetterAttributes() map[string]types.MessageAttributeValue {
	msg := t.m.msg
	attrs := sqsAttributes(msg.MessageAttributes)
	cp, seq := msg.Checkpoint, msg.resume.Seq
	if t.keptSet {
		cp, seq = t.kept, t.keptSeq
	}
	_, had := attrs[resume.Attr]
	if !had && (cp == nil || len(attrs) >= maxAttributes) {
		return attrs
	}
	st := resume.State{Origin: msg.resume.Origin, Seq: seq, FirstReceived: msg.resume.FirstReceived, Checkpoint: cp}
	if st.Origin == "" {
		st.Origin, st.FirstReceived = msg.ID, msg.FirstReceived
	}
	attrs[resume.Attr] = types.MessageAttributeValue{DataType: aws.String(resume.DataType), BinaryValue: st.Encode()}
	return attrs
}
