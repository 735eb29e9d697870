package sqsdispatch

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
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
	maxMessageAttributes = 10
	maxReasonBytes       = 1024
)

// deadLetter copies m to its queue's dead-letter queue and, once the copy is
// confirmed, deletes the original. Without a redrive policy it returns an
// error wrapping ErrNoRedrivePolicy and leaves the message alone.
func (d *Dispatcher) deadLetter(ctx context.Context, m *inflight, reason string) error {
	qi, err := d.queues.info(ctx, d.cfg.Client, m.msg.Queue)
	if err != nil {
		return err
	}
	if qi.redrive == nil {
		return &DispatcherError{Op: "dead-letter", Queue: m.msg.Queue, MessageID: m.msg.ID, Err: ErrNoRedrivePolicy}
	}
	dlqURL, err := d.queues.urlForARN(ctx, d.cfg.Client, qi.redrive.TargetARN)
	if err != nil {
		return err
	}
	dlq, err := d.queues.info(ctx, d.cfg.Client, dlqURL)
	if err != nil {
		return err
	}
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(dlqURL),
		MessageBody:       aws.String(m.msg.Body),
		MessageAttributes: dlqAttributes(m, reason, dlq.maxSize),
	}
	if dlq.fifo {
		if g := m.msg.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != "" {
			in.MessageGroupId = aws.String(g)
		} else {
			in.MessageGroupId = aws.String("sqsdispatch")
		}
		in.MessageDeduplicationId = aws.String(dedupID(m.msg.ID))
	}
	if _, err := d.cfg.Client.SendMessage(ctx, in); err != nil {
		return sqsError("SendMessage (dead-letter)", dlqURL, m.msg.ID, err)
	}
	if err := d.deleteMessage(ctx, m); err != nil {
		return err
	}
	d.cfg.Metrics.DeadLettered(m.msg.Queue, m.job)
	d.log.Info("message moved to dead-letter queue", zap.String("message_id", m.msg.ID),
		zap.String("job", m.job), zap.String("dlq", dlqURL), zap.String("reason", reason))
	return nil
}

// dlqAttributes returns the original attributes plus the reason attributes
// that fit within the attribute count and the DLQ's maximum message size.
func dlqAttributes(m *inflight, reason string, maxSize int) map[string]types.MessageAttributeValue {
	attrs := sqsAttributes(m.msg.MessageAttributes)
	size := len(m.msg.Body)
	for k, v := range m.msg.MessageAttributes {
		size += len(k) + len(v.DataType) + len(v.StringValue) + len(v.BinaryValue)
	}
	extra := []struct{ name, value string }{
		{AttrReason, sanitize(reason)},
		{AttrSourceQueue, m.msg.Queue},
		{AttrJob, m.job},
		{AttrReceiveCount, strconv.Itoa(m.msg.ReceiveCount)},
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
	return attrs
}

// dedupID derives a FIFO deduplication ID from a message ID, so that a
// retried move of the same message is not copied twice.
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

func (d *Dispatcher) deleteMessage(ctx context.Context, m *inflight) error {
	_, err := d.cfg.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(m.msg.Queue),
		ReceiptHandle: aws.String(m.receipt),
	})
	if err != nil {
		return sqsError("DeleteMessage", m.msg.Queue, m.msg.ID, err)
	}
	return nil
}
