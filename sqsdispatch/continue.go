package sqsdispatch

import (
	"context"
	"errors"
	"fmt"

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
// Before the send it hides the original for as long as SQS allows: should
// this process die between the send and the delete, the original does not
// come back while its copy may still run.
func (t *turn) continueMessage(ctx context.Context, in *queue.ContinueInput) error {
	if err := t.setVisibility(ctx, t.d.maxAge); err != nil {
		return err
	}
	var err error
	for attempt := 1; attempt <= continueTries; attempt++ {
		cctx, cancel := t.callCtx(ctx)
		if t.continued == "" {
			t.continued, err = t.d.q.Continue(cctx, *in)
		} else { // sent; only the delete failed
			err = t.d.q.Delete(cctx, in.Queue, in.Receipt, in.MessageID)
		}
		cancel()
		if err == nil || t.continued == "" && errors.Is(err, queue.ErrTooManyAttributes) {
			break
		}
		t.log.Warn("continuing the message", zap.Int("attempt", attempt), zap.Error(err))
	}
	if t.continued != "" && err != nil {
		// The copy runs on; the original comes back once its visibility
		// ends and runs again from its own checkpoint.
		t.log.Error("the message was continued but the original could not be deleted", zap.String("continued_as", t.continued), zap.Error(err))
		return nil
	}
	return err
}

// continueTries is how often continueMessage tries the send (or the
// delete that follows it).
const continueTries = 3

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
