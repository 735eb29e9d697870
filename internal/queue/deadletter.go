package queue

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Names of the attributes a dead-lettered message gains, in the order they
// are added while SQS's 10-attribute and size limits allow.
const (
	AttrReason       = "sqsdispatch.reason"
	AttrSourceQueue  = "sqsdispatch.source_queue"
	AttrJob          = "sqsdispatch.job"
	AttrReceiveCount = "sqsdispatch.receive_count"
)

const (
	// maxMessageAttributes is SQS's limit on a message's attributes.
	maxMessageAttributes = 10
	// maxReasonBytes bounds the AttrReason value.
	maxReasonBytes = 1024
	// defaultGroupID is the group of a message moved to a FIFO dead-letter
	// queue when its own group is unknown.
	defaultGroupID = "sqsdispatch"
)

// DeadLetterInput is a message to move to its queue's dead-letter queue.
type DeadLetterInput struct {
	// Queue is the URL of the queue the message came from.
	Queue     string
	Receipt   string
	MessageID string
	Body      string
	// Job is the job the message was routed to, if known.
	Job string
	// Reason says why the message is dead-lettered.
	Reason       string
	ReceiveCount int
	// GroupID is the message's FIFO group; the copy keeps it.
	GroupID string
	// MessageAttributes are the message's own attributes; the copy keeps
	// them. The map is not modified.
	MessageAttributes map[string]types.MessageAttributeValue
}

// DeadLetter copies the message to the dead-letter queue named by its
// queue's RedrivePolicy and, once the copy is confirmed, deletes the
// original. The copy keeps the body and attributes and gains AttrReason,
// AttrSourceQueue, AttrJob and AttrReceiveCount while the attribute count
// and the dead-letter queue's MaximumMessageSize leave room; on a FIFO
// queue it keeps the group and has a deduplication ID derived from the
// message ID, so that a repeated move is not copied twice.
//
// It returns the dead-letter queue's URL, also when only the delete
// failed. Without a redrive policy it returns an error wrapping
// ErrNoRedrivePolicy and leaves the message alone.
func (q *Queues) DeadLetter(ctx context.Context, in DeadLetterInput) (dlqURL string, err error) {
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
	send := &sqs.SendMessageInput{
		QueueUrl:          aws.String(dlqURL),
		MessageBody:       aws.String(in.Body),
		MessageAttributes: deadLetterAttributes(in, dlq.MaxSize),
	}
	if dlq.FIFO {
		group := in.GroupID
		if group == "" {
			group = defaultGroupID
		}
		send.MessageGroupId = aws.String(group)
		send.MessageDeduplicationId = aws.String(dedupID(in.MessageID))
	}
	if _, err := q.client.SendMessage(ctx, send); err != nil {
		return "", opError(ctx, "SendMessage (dead-letter)", dlqURL, in.MessageID, err)
	}
	return dlqURL, q.Delete(ctx, in.Queue, in.Receipt, in.MessageID)
}

// deadLetterAttributes returns the message's attributes plus the reason
// attributes that fit within the attribute count and maxSize.
func deadLetterAttributes(in DeadLetterInput, maxSize int) map[string]types.MessageAttributeValue {
	attrs := make(map[string]types.MessageAttributeValue, len(in.MessageAttributes)+4)
	for k, v := range in.MessageAttributes {
		attrs[k] = v
	}
	size := MessageSize(in.Body, attrs)
	extra := []struct{ name, value string }{
		{AttrReason, sanitize(in.Reason)},
		{AttrSourceQueue, in.Queue},
		{AttrJob, in.Job},
		{AttrReceiveCount, strconv.Itoa(in.ReceiveCount)},
	}
	for _, e := range extra {
		if e.value == "" || len(attrs) >= maxMessageAttributes {
			continue
		}
		if _, taken := attrs[e.name]; taken {
			continue
		}
		n := len(e.name) + len("String") + len(e.value)
		if size+n > maxSize {
			break
		}
		size += n
		attrs[e.name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(e.value)}
	}
	if len(attrs) == 0 {
		return nil
	}
	return attrs
}

// MessageSize is the size SQS counts against MaximumMessageSize: the
// body plus each attribute's name, data type and value.
func MessageSize(body string, attrs map[string]types.MessageAttributeValue) int {
	size := len(body)
	for k, v := range attrs {
		size += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return size
}

// dedupID derives a FIFO deduplication ID from a message ID.
func dedupID(id string) string {
	s := "dlq-" + id
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// sanitize keeps the characters SQS accepts in a string attribute and
// bounds the length.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD:
			return r
		}
		return '?'
	}, s)
	if len(s) > maxReasonBytes {
		s = s[:maxReasonBytes]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
