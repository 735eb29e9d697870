package sqsdispatchtest

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// MessageInfo is a snapshot of one stored message, for tests to inspect.
type MessageInfo struct {
	// ID is the message ID.
	ID string
	// Body is the message body.
	Body string
	// MessageAttributes are the attributes the sender set (a copy), or
	// nil.
	MessageAttributes map[string]types.MessageAttributeValue
	// GroupID, DeduplicationID and SequenceNumber are set on FIFO queues
	// (GroupID also on standard queues when the sender gave one).
	GroupID         string
	DeduplicationID string
	SequenceNumber  string
	// DeadLetterSourceARN is the ARN of the queue the message was
	// redriven from, or "".
	DeadLetterSourceARN string
	// ReceiveCount is how many times the message has been received.
	ReceiveCount int
	// State says whether the message is visible, in flight or delayed.
	State MessageState
	// SentAt is when the message was sent.
	SentAt time.Time
	// FirstReceivedAt is when the message was first received, or the zero
	// time.
	FirstReceivedAt time.Time
	// VisibleAt is when a message in flight or delayed becomes visible.
	VisibleAt time.Time
	// ReceiptHandle is the handle of the latest receive, or "".
	ReceiptHandle string
}

// Messages returns a snapshot of the messages stored in the queue with
// this URL, in the order sent, in flight and delayed ones included.
// Deleted messages are gone. An unknown queue has no messages.
func (c *Client) Messages(queueURL string) []MessageInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queues[queueURL]
	if !ok {
		return nil
	}
	now := c.now()
	out := make([]MessageInfo, 0, q.msgs.Len())
	for e := q.msgs.Front(); e != nil; e = e.Next() {
		m := e.Value.(*message)
		out = append(out, MessageInfo{
			ID:                  m.id,
			Body:                m.body,
			MessageAttributes:   copyAttrs(m.attrs),
			GroupID:             m.groupID,
			DeduplicationID:     m.dedupID,
			SequenceNumber:      m.seq,
			DeadLetterSourceARN: m.sourceARN,
			ReceiveCount:        m.receives,
			State:               m.state(now),
			SentAt:              m.sent,
			FirstReceivedAt:     m.firstReceive,
			VisibleAt:           m.visibleAt,
			ReceiptHandle:       m.handle,
		})
	}
	return out
}

// Counts returns how many messages of the queue with this URL are visible
// and how many are in flight; delayed messages are in neither count. A
// message due for the dead-letter queue counts as visible until a receive
// moves it. An unknown queue has no messages.
func (c *Client) Counts(queueURL string) (visible, inflight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queues[queueURL]
	if !ok {
		return 0, 0
	}
	visible, inflight, _ = q.counts(c.now())
	return visible, inflight
}
