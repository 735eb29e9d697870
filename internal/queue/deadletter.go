package queue

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
)

// Names of the attributes a dead-lettered message gains (see envelope).
const (
	AttrReason       = envelope.AttrReason
	AttrSourceQueue  = envelope.AttrSourceQueue
	AttrJob          = envelope.AttrJob
	AttrReceiveCount = envelope.AttrReceiveCount
)

// defaultGroupID is the group of a copy sent to a FIFO queue when the
// message's own group is unknown.
const defaultGroupID = "sqsdispatch"

// copyGroup is the message group of a copy of a message of group: its
// own on any kind of queue (on a standard one, a fair queue's tenant),
// defaultGroupID on a FIFO queue when it has none, else none.
func copyGroup(group string, fifo bool) *string {
	switch {
	case group != "":
		return aws.String(group)
	case fifo:
		return aws.String(defaultGroupID)
	}
	return nil
}

// DeadLetterInput is a message to move to its queue's dead-letter queue.
type DeadLetterInput struct {
	// Queue is the URL of the queue the message came from.
	Queue     string
	MessageID string
	// Copy is what the dead-letter copy carries, its reasons included
	// (envelope.DeadLetterReasons).
	Copy envelope.Copy
}

// CopyToDeadLetter copies the message to the dead-letter queue named by
// its queue's RedrivePolicy; the caller deletes the original once this
// returns without an error (DeleteRetried). The copy carries what in.Copy
// says (a resume state that would not fit is left out rather than fail
// the move), keeps the message group on any kind of queue and, on a FIFO
// dead-letter queue, has a deduplication ID derived from the message ID,
// so that a repeated move is not copied twice.
//
// It returns the dead-letter queue's URL. Without a redrive policy it
// returns an error wrapping ErrNoRedrivePolicy.
func (q *Queues) CopyToDeadLetter(ctx context.Context, in DeadLetterInput) (dlqURL string, err error) {
	info, err := q.Info(ctx, in.Queue)
	if err != nil {
		return "", err
	}
	if info.Redrive == nil {
		return "", &OpError{Op: "dead-letter", Queue: in.Queue, MessageID: in.MessageID, Err: ErrNoRedrivePolicy}
	}
	dlqURL, err = q.urlForARN(ctx, info.Redrive.TargetARN)
	if err != nil {
		return "", err
	}
	dlq, err := q.Info(ctx, dlqURL)
	if err != nil {
		return "", err
	}
	attrs, err := in.Copy.MessageAttributes(dlq.MaxSize)
	if err != nil && in.Copy.Resume != nil {
		c := in.Copy
		c.Resume = nil
		attrs, err = c.MessageAttributes(dlq.MaxSize)
	}
	if err != nil {
		return "", &OpError{Op: "dead-letter", Queue: dlqURL, MessageID: in.MessageID, Err: err}
	}
	send := &sqs.SendMessageInput{
		QueueUrl:                aws.String(dlqURL),
		MessageBody:             aws.String(in.Copy.Body),
		MessageAttributes:       attrs,
		MessageSystemAttributes: in.Copy.SystemAttributes(),
	}
	send.MessageGroupId = copyGroup(in.Copy.GroupID, dlq.FIFO)
	if dlq.FIFO {
		send.MessageDeduplicationId = aws.String(dedupID(in.MessageID))
	}
	if _, err := q.client.SendMessage(ctx, send); err != nil {
		return "", opError(ctx, "SendMessage (dead-letter)", dlqURL, in.MessageID, err)
	}
	return dlqURL, nil
}

// MessageSize is the size SQS counts against MaximumMessageSize: the
// body plus each attribute's name, data type and value.
var MessageSize = envelope.MessageSize

// dedupID derives a FIFO deduplication ID from a message ID.
func dedupID(id string) string {
	s := "dlq-" + id
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
