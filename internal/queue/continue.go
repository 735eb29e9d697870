package queue

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ContinueInput is a message to replace with a copy of itself on the same
// queue (see SendCopy).
type ContinueInput struct {
	Queue     string
	Receipt   string
	MessageID string
	Body      string
	// MessageAttributes are the copy's attributes. The map is not
	// modified.
	MessageAttributes map[string]types.MessageAttributeValue
	// GroupID and DedupID are the copy's FIFO group and deduplication ID.
	GroupID string
	DedupID string
}

// ErrTooManyAttributes is returned by SendCopy when the copy would carry
// more attributes than SQS allows; nothing was sent.
var ErrTooManyAttributes = errors.New("sqsdispatch: more than 10 message attributes")

// SendCopy sends a copy of the message to its queue; the caller deletes
// the original once it is confirmed. The call is made once, without the
// client's own retries, unless the copy has a FIFO deduplication ID: a
// copy sent twice to a standard queue would run twice.
func (q *Queues) SendCopy(ctx context.Context, in ContinueInput) (string, error) {
	if len(in.MessageAttributes) > maxMessageAttributes {
		return "", &OpError{Op: "SendMessage (continue)", Queue: in.Queue, MessageID: in.MessageID, Err: ErrTooManyAttributes}
	}
	send := &sqs.SendMessageInput{QueueUrl: aws.String(in.Queue), MessageBody: aws.String(in.Body),
		MessageAttributes: in.MessageAttributes}
	var opts []func(*sqs.Options)
	if in.GroupID != "" {
		send.MessageGroupId, send.MessageDeduplicationId = aws.String(in.GroupID), aws.String(in.DedupID)
	} else {
		opts = append(opts, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	}
	out, err := q.client.SendMessage(ctx, send, opts...)
	if err != nil {
		return "", opError(ctx, "SendMessage (continue)", in.Queue, in.MessageID, err)
	}
	return aws.ToString(out.MessageId), nil
}
