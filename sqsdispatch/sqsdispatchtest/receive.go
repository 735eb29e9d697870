package sqsdispatchtest

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ReceiveMessage hands out up to MaxNumberOfMessages (1 to 10; 0 means 1)
// visible messages, oldest first, and makes them invisible for
// VisibilityTimeout seconds (0 means the queue's VisibilityTimeout). Each
// receive counts towards the message's ApproximateReceiveCount and gives
// it a new receipt handle.
//
// With nothing to hand out it waits up to WaitTimeSeconds (0 to 20; 0
// means the queue's ReceiveMessageWaitTimeSeconds) in real time for a
// message to be sent or to become visible, and then returns no messages
// and no error. If ctx ends first it returns ctx.Err() and takes no
// message.
//
// System attributes (SenderId, SentTimestamp, ApproximateReceiveCount,
// ApproximateFirstReceiveTimestamp, MessageGroupId, MessageDeduplicationId,
// SequenceNumber, AWSTraceHeader, DeadLetterQueueSourceArn) are returned
// when asked for by name or with "All" in MessageSystemAttributeNames or
// the older AttributeNames; message attributes when asked for by name, by
// prefix ("name.*") or with "All" or ".*" in MessageAttributeNames.
//
// With a RedrivePolicy, a message already received maxReceiveCount times
// is moved to the dead-letter queue instead of being handed out again (it
// keeps its ID, body, attributes and SentTimestamp there, its receive
// count starts again from 0, and it gains DeadLetterQueueSourceArn). On a
// FIFO queue, no message of a group is handed out while another of the
// group is in flight, and a group's messages come in the order sent.
func (c *Client) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	const op = "ReceiveMessage"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.receiveMessage(ctx, in)
	if err != nil && ctx.Err() != nil && err == ctx.Err() {
		return nil, err
	}
	return finish(c, op, out, opError(op, err))
}

func (c *Client) receiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
	maxN := cmpOr(in.MaxNumberOfMessages, 1)
	if maxN < 1 || maxN > 10 {
		return nil, invalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", maxN)
	}
	if in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > 20 {
		return nil, invalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", in.WaitTimeSeconds)
	}
	if in.VisibilityTimeout < 0 || in.VisibilityTimeout > maxVisibilitySeconds {
		return nil, invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", in.VisibilityTimeout)
	}
	sel := newSelection(in)

	c.mu.Lock()
	q, err := c.queueFor(in.QueueUrl)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	wait := time.Duration(cmpOr(in.WaitTimeSeconds, q.waitSeconds)) * time.Second
	vis := q.visibility
	if in.VisibilityTimeout > 0 {
		vis = time.Duration(in.VisibilityTimeout) * time.Second
	}
	c.mu.Unlock()

	deadline := time.Now().Add(wait)
	for {
		c.mu.Lock()
		now := c.now()
		msgs := c.take(q, int(maxN), vis, sel, now)
		next := q.nextVisible(now)
		changed := c.changed
		c.mu.Unlock()
		if len(msgs) > 0 {
			return &sqs.ReceiveMessageOutput{Messages: msgs}, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return &sqs.ReceiveMessageOutput{}, nil
		}
		if !next.IsZero() {
			left = min(left, next.Sub(now))
		}
		if c.customClock {
			left = min(left, longPollRecheck)
		}
		t := time.NewTimer(left)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

func cmpOr(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// take hands out up to n visible messages of q, redriving on the way those
// received too often. c.mu must be held.
func (c *Client) take(q *queue, n int, vis time.Duration, sel selection, now time.Time) []types.Message {
	var out []types.Message
	var blocked map[string]bool // FIFO groups with a message in flight or waiting
	for e := q.msgs.Front(); e != nil && len(out) < n; {
		m := e.Value.(*message)
		e = e.Next()
		if q.fifo && blocked[m.groupID] {
			continue
		}
		if m.state(now) != StateVisible {
			if q.fifo {
				if blocked == nil {
					blocked = make(map[string]bool)
				}
				blocked[m.groupID] = true
			}
			continue
		}
		if q.redrive != nil && m.receives >= q.redrive.maxReceiveCount {
			if dlq := c.queueByARN(q.redrive.targetARN); dlq != nil {
				c.redriveTo(q, dlq, m, now)
				continue
			}
		}
		m.receives++
		if m.receives == 1 {
			m.firstReceive = now
		}
		m.lastReceive = now
		m.visibleAt = now.Add(vis)
		m.handle = newHandle(q, m)
		out = append(out, c.toSDK(m, sel))
	}
	return out
}

// redriveTo moves m from q to its dead-letter queue dlq. c.mu must be held.
func (c *Client) redriveTo(q, dlq *queue, m *message, now time.Time) {
	q.remove(m)
	moved := &message{
		id:          m.id,
		body:        m.body,
		attrs:       m.attrs,
		traceHeader: m.traceHeader,
		groupID:     m.groupID,
		dedupID:     m.dedupID,
		sourceARN:   q.arn,
		md5Body:     m.md5Body,
		sent:        m.sent,
		visibleAt:   now,
	}
	if dlq.byID[moved.id] != nil {
		moved.id = newMessageID()
	}
	if dlq.fifo {
		moved.seq = dlq.nextSeq()
	}
	dlq.add(moved)
	c.notify()
}

// nextVisible returns the earliest time after now at which a message of q
// becomes visible, or the zero time.
func (q *queue) nextVisible(now time.Time) time.Time {
	var next time.Time
	for e := q.msgs.Front(); e != nil; e = e.Next() {
		m := e.Value.(*message)
		if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
			next = m.visibleAt
		}
	}
	return next
}

// selection is which attributes a receive asked for.
type selection struct {
	allSystem    bool
	system       map[string]bool
	allAttrs     bool
	attrs        map[string]bool
	attrPrefixes []string
}

func newSelection(in *sqs.ReceiveMessageInput) selection {
	s := selection{system: map[string]bool{}, attrs: map[string]bool{}}
	addSystem := func(name string) {
		if name == "All" {
			s.allSystem = true
		}
		s.system[name] = true
	}
	for _, n := range in.MessageSystemAttributeNames {
		addSystem(string(n))
	}
	//lint:ignore SA1019 SQS still accepts the legacy field, so the fake does too
	for _, n := range in.AttributeNames {
		addSystem(string(n))
	}
	for _, n := range in.MessageAttributeNames {
		switch {
		case n == "All" || n == ".*":
			s.allAttrs = true
		case strings.HasSuffix(n, ".*"):
			s.attrPrefixes = append(s.attrPrefixes, strings.TrimSuffix(n, "*"))
		default:
			s.attrs[n] = true
		}
	}
	return s
}

func (s selection) wantsAttr(name string) bool {
	if s.allAttrs || s.attrs[name] {
		return true
	}
	for _, p := range s.attrPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// toSDK returns m as a receive hands it out, with the attributes sel asks
// for. c.mu must be held.
func (c *Client) toSDK(m *message, sel selection) types.Message {
	out := types.Message{
		MessageId:     aws.String(m.id),
		ReceiptHandle: aws.String(m.handle),
		Body:          aws.String(m.body),
		MD5OfBody:     aws.String(m.md5Body),
	}
	sys := map[string]string{}
	add := func(name types.MessageSystemAttributeName, v string) {
		if v != "" && (sel.allSystem || sel.system[string(name)]) {
			sys[string(name)] = v
		}
	}
	add(types.MessageSystemAttributeNameSenderId, c.account)
	add(types.MessageSystemAttributeNameSentTimestamp, strconv.FormatInt(m.sent.UnixMilli(), 10))
	add(types.MessageSystemAttributeNameApproximateReceiveCount, strconv.Itoa(m.receives))
	add(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp, strconv.FormatInt(m.firstReceive.UnixMilli(), 10))
	add(types.MessageSystemAttributeNameMessageGroupId, m.groupID)
	add(types.MessageSystemAttributeNameMessageDeduplicationId, m.dedupID)
	add(types.MessageSystemAttributeNameSequenceNumber, m.seq)
	add(types.MessageSystemAttributeNameAWSTraceHeader, m.traceHeader)
	add(types.MessageSystemAttributeNameDeadLetterQueueSourceArn, m.sourceARN)
	if len(sys) > 0 {
		out.Attributes = sys
	}
	for k, v := range m.attrs {
		if sel.wantsAttr(k) {
			if out.MessageAttributes == nil {
				out.MessageAttributes = make(map[string]types.MessageAttributeValue)
			}
			out.MessageAttributes[k] = copyAttr(v)
		}
	}
	out.MD5OfMessageAttributes = md5OfAttributes(out.MessageAttributes)
	return out
}
