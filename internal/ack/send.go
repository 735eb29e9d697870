package ack

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/queue"
)

// send makes bt's call and answers its entries. A call that fails as a
// whole is made again, with back-off, for the entries whose deadline has
// not passed; an entry that fails alone, with an error SQS may get past,
// is retried alone, so that it delays no other entry's answer.
func (b *Batcher) send(bt *batch) {
	pending := bt.entries
	now := b.cfg.Clock.Now()
	bo := queue.Backoff{GiveUp: earliest(pending, now).Sub(now)}
	for len(pending) > 0 {
		retry, err := b.call(bt.key, pending)
		for _, e := range retry {
			go b.retryAlone(e)
		}
		if err == nil {
			return
		}
		// The whole call failed: answer those that cannot wait, try the
		// others again.
		now = b.cfg.Clock.Now()
		delay, again := bo.Next(now)
		var left []*entry
		for _, e := range pending {
			switch {
			case !again, queue.IsFatal(err), !e.deadline.IsZero() && !now.Add(delay).Before(e.deadline):
				e.answer(e.fail(err))
			default:
				left = append(left, e)
			}
		}
		b.logFailure(bt.key, pending, err, len(left) > 0)
		pending = left
		if len(pending) > 0 {
			b.sleep(delay)
		}
	}
}

// retryAlone tries e alone, with back-off, until SQS answers it with
// something other than an error it may get past, or e's deadline comes.
func (b *Batcher) retryAlone(e *entry) {
	deadline := earliest([]*entry{e}, b.cfg.Clock.Now())
	bo := queue.Backoff{GiveUp: deadline.Sub(b.cfg.Clock.Now())}
	for {
		delay, ok := bo.Next(b.cfg.Clock.Now())
		if !ok {
			e.answer(e.fail(errNoTime))
			return
		}
		b.sleep(delay)
		retry, err := b.call(batchKey{e.queue, e.kind}, []*entry{e})
		if err != nil && !queue.IsFatal(err) && b.cfg.Clock.Now().Before(deadline) {
			continue
		}
		if err != nil {
			e.answer(e.fail(err))
			return
		}
		if len(retry) == 0 {
			return // answered
		}
	}
}

// errNoTime answers an entry whose deadline came before SQS accepted it.
var errNoTime = context.DeadlineExceeded

// call makes one batch call of es and answers every entry that SQS
// answered for good: a success, a receipt handle that no longer holds the
// message, or a failure that is the sender's fault. It returns the
// entries that failed with an error SQS may get past, to be retried, and
// the call's own error when it failed as a whole (nothing answered then).
func (b *Batcher) call(k batchKey, es []*entry) (retry []*entry, err error) {
	ctx, cancel := context.WithDeadline(context.Background(), earliest(es, b.cfg.Clock.Now()))
	defer cancel()
	var ok map[string]bool
	var failed []types.BatchResultErrorEntry
	switch k.kind {
	case deleteKind:
		in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(k.queue)}
		for i, e := range es {
			in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(e.receipt)})
		}
		out, cerr := b.c.DeleteMessageBatch(ctx, in)
		if cerr != nil {
			return nil, wrapCtx(ctx, cerr)
		}
		ok, failed = idSet(out.Successful, func(s types.DeleteMessageBatchResultEntry) *string { return s.Id }), out.Failed
	default:
		in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(k.queue)}
		for i, e := range es {
			in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
				ReceiptHandle: aws.String(e.receipt), VisibilityTimeout: e.secs})
		}
		out, cerr := b.c.ChangeMessageVisibilityBatch(ctx, in)
		if cerr != nil {
			return nil, wrapCtx(ctx, cerr)
		}
		ok, failed = idSet(out.Successful, func(s types.ChangeMessageVisibilityBatchResultEntry) *string { return s.Id }), out.Failed
	}
	bad := make(map[string]types.BatchResultErrorEntry, len(failed))
	for _, f := range failed {
		bad[aws.ToString(f.Id)] = f
	}
	for i, e := range es {
		id := strconv.Itoa(i)
		f, isBad := bad[id]
		switch {
		case ok[id]:
			e.answer(nil)
		case !isBad:
			retry = append(retry, e) // SQS said nothing of it
		case queue.LeaseGoneCode(aws.ToString(f.Code), aws.ToString(f.Message)):
			b.log.Warn("acknowledgement refused: the receipt handle no longer holds the message; it will be delivered again",
				zap.String("queue", e.queue), zap.String("message_id", e.msgID), zap.String("op", e.kind.op()), zap.String("code", aws.ToString(f.Code)))
			e.answer(e.fail(entryError(f, e.receipt)))
		case f.SenderFault:
			e.answer(e.fail(entryError(f, e.receipt)))
		default:
			retry = append(retry, e)
		}
	}
	return retry, nil
}

// entryError is the error of one failed entry, as SQS gave it, with the
// entry's receipt handle taken out of the message: it lets whoever holds
// it change the message, so it stays out of logs and errors.
func entryError(f types.BatchResultErrorEntry, receipt string) error {
	fault := smithy.FaultServer
	if f.SenderFault {
		fault = smithy.FaultClient
	}
	return &smithy.GenericAPIError{Code: aws.ToString(f.Code), Message: queue.Redact(aws.ToString(f.Message), receipt), Fault: fault}
}

// wrapCtx puts ctx's error in the chain of err when ctx ended.
func wrapCtx(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && err != nil {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// logFailure logs a call that failed as a whole, with the message IDs it
// concerned and whether they are tried again.
func (b *Batcher) logFailure(k batchKey, es []*entry, err error, again bool) {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.msgID
	}
	b.log.Warn("acknowledgement call failed", zap.String("queue", k.queue), zap.String("op", k.kind.op()+"Batch"),
		zap.Strings("message_ids", ids), zap.Bool("retrying", again), zap.Error(err))
}

// sleep waits d on the Batcher's clock.
func (b *Batcher) sleep(d time.Duration) {
	t := b.cfg.Clock.NewTimer(d)
	<-t.C()
}

// idSet is the set of the ids of a batch call's successful entries.
func idSet[E any](entries []E, id func(E) *string) map[string]bool {
	set := make(map[string]bool, len(entries))
	for _, e := range entries {
		set[aws.ToString(id(e))] = true
	}
	return set
}
