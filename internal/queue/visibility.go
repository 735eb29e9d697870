package queue

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// MaxVisibility is SQS's limit on a message's visibility, counted from the
// receive.
const MaxVisibility = 12 * time.Hour

// visibilityLimitMargin keeps every extension safely inside MaxVisibility.
const visibilityLimitMargin = 10 * time.Second

// CapVisibility caps a visibility timeout so that it ends, with a margin,
// before SQS's 12-hour limit for a message received at received; now is
// the current time. The result is never negative.
func CapVisibility(d time.Duration, received, now time.Time) time.Duration {
	left := MaxVisibility - now.Sub(received) - visibilityLimitMargin
	return max(0, min(d, left))
}

// VisibilitySeconds is d as SQS takes a visibility timeout: rounded up to
// whole seconds and kept within 0 and MaxVisibility.
func VisibilitySeconds(d time.Duration) int32 {
	d = min(max(d, 0), MaxVisibility)
	return int32((d + time.Second - 1) / time.Second)
}

// Delete deletes the message with the receipt handle from the queue at url;
// msgID names the message in errors.
func (q *Queues) Delete(ctx context.Context, url, receipt, msgID string) error {
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(url),
		ReceiptHandle: aws.String(receipt),
	})
	if err != nil {
		return opError(ctx, "DeleteMessage", url, msgID, err)
	}
	return nil
}

// SetVisibility sets the visibility timeout of the message with the receipt
// handle to d, rounded up to whole seconds and kept within 0 and
// MaxVisibility. LeaseGone tells whether an error means the receipt handle
// no longer holds the message.
func (q *Queues) SetVisibility(ctx context.Context, url, receipt, msgID string, d time.Duration) error {
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(url),
		ReceiptHandle:     aws.String(receipt),
		VisibilityTimeout: VisibilitySeconds(d),
	})
	if err != nil {
		return opError(ctx, "ChangeMessageVisibility", url, msgID, err)
	}
	return nil
}
