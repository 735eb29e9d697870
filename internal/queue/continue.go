package queue

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
)

// ContinueInput is a message to replace with a copy of itself on the same
// queue (see SendCopy).
type ContinueInput struct {
	Queue     string
	MessageID string
	// Copy is what the copy carries.
	Copy envelope.Copy
	// FIFO says the queue is a FIFO queue; DedupID is then the copy's
	// deduplication ID. FIFO-ness is the queue's: a standard (fair) queue
	// carries a message group too.
	FIFO    bool
	DedupID string
	// MaxSize is the queue's MaximumMessageSize.
	MaxSize int
}

// SendCopy sends a copy of the message to in.Queue (its own queue, or
// another for a redrive); the caller deletes the original once it is
// confirmed. On a FIFO queue a copy without a group joins the group
// "sqsdispatch". The call is made once, without the
// client's own retries, unless the queue is FIFO: a copy sent twice to a
// standard queue would run twice, while a FIFO queue drops a repeated
// send by its deduplication ID. A copy that does not fit fails with an
// error wrapping envelope.ErrTooManyAttributes or envelope.ErrTooLarge,
// and nothing is sent.
func (q *Queues) SendCopy(ctx context.Context, in ContinueInput) (string, error) {
	attrs, err := in.Copy.MessageAttributes(in.MaxSize)
	if err != nil {
		return "", &OpError{Op: "SendMessage (continue)", Queue: in.Queue, MessageID: in.MessageID, Err: err}
	}
	send := &sqs.SendMessageInput{QueueUrl: aws.String(in.Queue), MessageBody: aws.String(in.Copy.Body),
		MessageAttributes: attrs, MessageSystemAttributes: in.Copy.SystemAttributes()}
	send.MessageGroupId = copyGroup(in.Copy.GroupID, in.FIFO)
	var opts []func(*sqs.Options)
	if in.FIFO {
		send.MessageDeduplicationId = aws.String(in.DedupID)
	} else {
		opts = append(opts, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	}
	out, err := q.client.SendMessage(ctx, send, opts...)
	if err != nil {
		return "", opError(ctx, "SendMessage (continue)", in.Queue, in.MessageID, err)
	}
	return aws.ToString(out.MessageId), nil
}
