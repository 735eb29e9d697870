package sqsdispatchtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// dedupWindow is how long a FIFO queue remembers a deduplication ID.
const dedupWindow = 5 * time.Minute

// dedupRecord is what a FIFO queue remembers of a message it accepted.
type dedupRecord struct {
	id, seq string
	at      time.Time
}

// SendMessage stores a message, body and attributes byte for byte. It
// checks what SQS checks: the body's characters, the attributes' names,
// data types (String, Number, Binary, with an optional custom suffix) and
// values, at most 10 attributes, and the size of body and attributes
// together against the queue's MaximumMessageSize (else
// InvalidParameterValue). DelaySeconds (0 to 900; 0 means the queue's
// DelaySeconds) holds the message back. The output carries the MD5 digests
// of the body and attributes.
//
// On a FIFO queue MessageGroupId is required, DelaySeconds per message is
// not allowed, and a message whose deduplication ID (MessageDeduplicationId,
// or the SHA-256 of the body with ContentBasedDeduplication) was accepted
// in the last five minutes is not stored again: the output names the
// message first accepted.
func (c *Client) SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	const op = "SendMessage"
	if err := c.begin(ctx, op, in); err != nil {
		return nil, err
	}
	out, err := c.sendMessage(in)
	return finish(c, op, out, opError(op, err))
}

func (c *Client) sendMessage(in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, err := c.queueFor(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if in.MessageBody == nil || *in.MessageBody == "" {
		return nil, missingParameter("MessageBody")
	}
	body := *in.MessageBody
	if err := checkBody(body); err != nil {
		return nil, err
	}
	size, err := checkMessageAttributes(in.MessageAttributes)
	if err != nil {
		return nil, err
	}
	if size += len(body); size > q.maxSize {
		return nil, invalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.maxSize)
	}
	trace, err := checkSystemAttributes(in.MessageSystemAttributes)
	if err != nil {
		return nil, err
	}
	if in.DelaySeconds < 0 || in.DelaySeconds > 900 {
		return nil, invalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.", in.DelaySeconds)
	}
	now := c.now()
	m := &message{
		id:          newMessageID(),
		body:        body,
		attrs:       copyAttrs(in.MessageAttributes),
		traceHeader: trace,
		groupID:     aws.ToString(in.MessageGroupId),
		md5Body:     md5Hex(body),
		sent:        now,
		visibleAt:   now.Add(q.delay),
	}
	if in.DelaySeconds > 0 {
		m.visibleAt = now.Add(time.Duration(in.DelaySeconds) * time.Second)
	}
	out := &sqs.SendMessageOutput{
		MD5OfMessageBody:             aws.String(m.md5Body),
		MD5OfMessageAttributes:       md5OfAttributes(m.attrs),
		MD5OfMessageSystemAttributes: md5OfTraceHeader(trace),
	}
	if q.fifo {
		dup, err := fifoSend(q, in, m, now)
		if err != nil {
			return nil, err
		}
		out.MessageId, out.SequenceNumber = aws.String(m.id), aws.String(m.seq)
		if dup {
			return out, nil
		}
	} else if in.MessageDeduplicationId != nil {
		return nil, invalidParameter("The request includes a parameter that is not valid for this queue type. Reason: MessageDeduplicationId is only valid for FIFO queues.")
	}
	out.MessageId = aws.String(m.id)
	q.add(m)
	c.notify()
	return out, nil
}

// fifoSend applies a FIFO queue's rules to m and gives it a sequence
// number. For a duplicate it reports true and sets m's ID and sequence
// number to the first message's; m must not be stored then.
func fifoSend(q *queue, in *sqs.SendMessageInput, m *message, now time.Time) (bool, error) {
	if m.groupID == "" {
		return false, missingParameter("MessageGroupId")
	}
	if in.DelaySeconds != 0 {
		return false, invalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", in.DelaySeconds)
	}
	m.dedupID = aws.ToString(in.MessageDeduplicationId)
	if m.dedupID == "" {
		if !q.contentDedup {
			return false, invalidParameter("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		sum := sha256.Sum256([]byte(m.body))
		m.dedupID = hex.EncodeToString(sum[:])
	}
	if len(m.dedupID) > 128 {
		return false, invalidParameter("Value %s for parameter MessageDeduplicationId is invalid. Reason: must be at most 128 characters.", m.dedupID)
	}
	q.pruneDedup(now)
	if r, ok := q.dedup[m.dedupID]; ok {
		m.id, m.seq = r.id, r.seq
		return true, nil
	}
	m.seq = q.nextSeq()
	if q.dedup == nil {
		q.dedup = make(map[string]dedupRecord)
	}
	q.dedup[m.dedupID] = dedupRecord{id: m.id, seq: m.seq, at: now}
	q.dedupOrder = append(q.dedupOrder, m.dedupID)
	return false, nil
}

// pruneDedup forgets the deduplication IDs whose window has ended at now,
// oldest first.
func (q *queue) pruneDedup(now time.Time) {
	for len(q.dedupOrder) > 0 {
		id := q.dedupOrder[0]
		if r, ok := q.dedup[id]; ok {
			if now.Before(r.at.Add(dedupWindow)) {
				return
			}
			delete(q.dedup, id)
		}
		q.dedupOrder[0] = ""
		q.dedupOrder = q.dedupOrder[1:]
	}
}
