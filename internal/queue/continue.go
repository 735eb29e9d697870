package queue

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ContinueInput is a message to replace with a copy of itself on the same
// queue.
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

// ErrTooManyAttributes is returned by Continue when the copy would carry
// more attributes than SQS allows; nothing was sent.
var ErrTooManyAttributes = errors.New("sqsdispatch: more than 10 message attributes")

// Continue sends a copy of the message to its queue and, once the copy is
// confirmed, deletes the original. It returns the copy's message ID, also
// when only the delete failed.
func (q *Queues) Continue(ctx context.Context, in ContinueInput) (string, error) {
	if len(in.MessageAttributes) > maxMessageAttributes {
		return "", &OpError{Op: "SendMessage (continue)", Queue: in.Queue, MessageID: in.MessageID, Err: ErrTooManyAttributes}
	}
	send := &sqs.SendMessageInput{QueueUrl: aws.String(in.Queue), MessageBody: aws.String(in.Body),
		MessageAttributes: in.MessageAttributes}
	if in.GroupID != "" {
		send.MessageGroupId, send.MessageDeduplicationId = aws.String(in.GroupID), aws.String(in.DedupID)
	}
	out, err := q.client.SendMessage(ctx, send)
	if err != nil {
		return "", opError(ctx, "SendMessage (continue)", in.Queue, in.MessageID, err)
	}
	return aws.ToString(out.MessageId), q.Delete(ctx, in.Queue, in.Receipt, in.MessageID)
}
