package sqsdispatchtest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	sqsqueue "github.com/sqsdispatch/go-sqsdispatch/internal/queue"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// DeadLetter is a message read from a dead-letter queue.
type DeadLetter struct {
	// ID is the dead-lettered copy's message ID.
	ID string
	// Body is its body, byte for byte the original's.
	Body string
	// Attributes are the original's message attributes; the ones the
	// dispatcher adds (named "sqsdispatch.…") are in the fields below.
	Attributes map[string]sqsdispatch.MessageAttribute
	// GroupID is the message group, on a FIFO queue.
	GroupID string
	// Reason says why the dispatcher moved the message
	// (sqsdispatch.AttrReason): the job's Permanent error, a body that did
	// not decode, an unknown job, ... Reason, SourceQueue, Job and
	// ReceiveCount are empty when SQS moved the message itself (its
	// receives reached the redrive policy's maxReceiveCount) or when the
	// message's own attributes left no room for them.
	Reason string
	// SourceQueue is the URL of the queue it was moved from
	// (sqsdispatch.AttrSourceQueue).
	SourceQueue string
	// Job is the job it was routed to (sqsdispatch.AttrJob).
	Job string
	// ReceiveCount is the receive on which it was moved
	// (sqsdispatch.AttrReceiveCount).
	ReceiveCount int
	// Checkpoint is the checkpoint a job resumes from when the message is
	// moved back to its queue, or nil.
	Checkpoint []byte
}

// Send sends msg to the queue at url: its Body, Attributes, GroupID (on a
// FIFO queue, whose URL ends in ".fifo", it defaults to "sqsdispatchtest"
// and each message gets a deduplication ID of its own), and a Checkpoint
// or Runs that make it continue a job's earlier runs. It returns the
// message ID. ReceiveCount, which only RunJob can arrange, must be 0 or 1.
func (s *LocalServer) Send(ctx context.Context, url string, msg Message) (string, error) {
	if msg.ReceiveCount > 1 {
		return "", fmt.Errorf("sqsdispatchtest: Send: Message.ReceiveCount is %d; Send delivers a message once", msg.ReceiveCount)
	}
	if err := checkMessage(msg, 1); err != nil {
		return "", fmt.Errorf("sqsdispatchtest: Send: %w", err)
	}
	id := newMessageID()
	out, err := s.client.SendMessage(ctx, messageInput(url, msg, 1, strings.HasSuffix(url, ".fifo"), id, id))
	if err != nil {
		return "", fmt.Errorf("sqsdispatchtest: Send: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// deadLetterPoll is how long each of WaitDeadLetter's receives waits for a
// message; emptyPoll is how often WaitEmpty asks for a queue's counts.
const (
	deadLetterPoll = time.Second
	emptyPoll      = 50 * time.Millisecond
)

// WaitDeadLetter waits until a message is in the dead-letter queue at
// dlqURL (Queue.DLQURL), takes it off the queue and returns it, or returns
// ctx's error once ctx ends.
func (s *LocalServer) WaitDeadLetter(ctx context.Context, dlqURL string) (DeadLetter, error) {
	for {
		out, err := s.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(dlqURL),
			MaxNumberOfMessages:         1,
			WaitTimeSeconds:             int32(deadLetterPoll / time.Second),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		switch {
		case ctx.Err() != nil:
			return DeadLetter{}, fmt.Errorf("sqsdispatchtest: WaitDeadLetter: no message arrived in %s: %w", dlqURL, ctx.Err())
		case err != nil:
			return DeadLetter{}, fmt.Errorf("sqsdispatchtest: WaitDeadLetter: %w", err)
		case len(out.Messages) == 0:
			continue
		}
		m := out.Messages[0]
		if _, err := s.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return DeadLetter{}, fmt.Errorf("sqsdispatchtest: WaitDeadLetter: deleting the message read: %w", err)
		}
		return deadLetter(m), nil
	}
}

// deadLetter reads a message received from a dead-letter queue.
func deadLetter(m types.Message) DeadLetter {
	dl := DeadLetter{ID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body),
		GroupID: m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]}
	for k, v := range m.MessageAttributes {
		s := aws.ToString(v.StringValue)
		switch k {
		case sqsdispatch.AttrReason:
			dl.Reason = s
		case sqsdispatch.AttrSourceQueue:
			dl.SourceQueue = s
		case sqsdispatch.AttrJob:
			dl.Job = s
		case sqsdispatch.AttrReceiveCount:
			dl.ReceiveCount, _ = strconv.Atoi(s)
		case resume.Attr:
			if st, err := resume.Decode(v.BinaryValue); err == nil {
				dl.Checkpoint = st.Checkpoint
			}
		default:
			if dl.Attributes == nil {
				dl.Attributes = make(map[string]sqsdispatch.MessageAttribute, len(m.MessageAttributes))
			}
			dl.Attributes[k] = sqsdispatch.MessageAttribute{DataType: aws.ToString(v.DataType), StringValue: s, BinaryValue: v.BinaryValue}
		}
	}
	return dl
}

// WaitEmpty waits until the queue at url holds no message: none visible,
// none in flight (received and not yet deleted or given back) and none
// delayed. Once ctx ends it returns an error saying what the queue still
// holds.
func (s *LocalServer) WaitEmpty(ctx context.Context, url string) error {
	t := time.NewTicker(emptyPoll)
	defer t.Stop()
	for {
		held, err := s.held(ctx, url)
		switch {
		case ctx.Err() != nil:
			// One more look, past ctx's end, to say what is left.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lastLookTimeout)
			held, err = s.held(lctx, url)
			cancel()
			if err != nil {
				held = "unknown: " + err.Error()
			}
			return fmt.Errorf("sqsdispatchtest: WaitEmpty: %s still holds messages (%s): %w", url, held, ctx.Err())
		case err != nil:
			return fmt.Errorf("sqsdispatchtest: WaitEmpty(%s): %w", url, err)
		case held == "":
			return nil
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// lastLookTimeout bounds the look WaitEmpty takes at a queue after its
// context ended.
const lastLookTimeout = 10 * time.Second

// held says what the queue at url holds, as its non-zero counts ("" for
// none).
func (s *LocalServer) held(ctx context.Context, url string) (string, error) {
	n, err := sqsqueue.ReadCounts(ctx, s.client, url)
	if err != nil {
		return "", err
	}
	var left []string
	for _, c := range []struct {
		name types.QueueAttributeName
		n    int
	}{{types.QueueAttributeNameApproximateNumberOfMessages, n.Visible},
		{types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, n.InFlight},
		{types.QueueAttributeNameApproximateNumberOfMessagesDelayed, n.Delayed}} {
		if c.n != 0 {
			left = append(left, fmt.Sprintf("%s=%d", c.name, c.n))
		}
	}
	return strings.Join(left, ", "), nil
}
