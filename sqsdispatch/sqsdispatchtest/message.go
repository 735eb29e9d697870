package sqsdispatchtest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// message is one stored message.
type message struct {
	id          string
	body        string
	attrs       map[string]types.MessageAttributeValue // deep copies
	traceHeader string                                 // the AWSTraceHeader system attribute
	groupID     string
	dedupID     string
	seq         string // FIFO sequence number
	sourceARN   string // the queue it was redriven from, if any
	md5Body     string

	sent time.Time
	// visibleAt is when a delayed or in-flight message becomes visible.
	visibleAt    time.Time
	receives     int
	firstReceive time.Time
	lastReceive  time.Time
	handle       string // the receipt handle of the latest receive
}

// MessageState is where a stored message stands.
type MessageState int

// The states of a stored message.
const (
	// StateVisible means the message can be received.
	StateVisible MessageState = iota
	// StateInFlight means the message was received and its visibility
	// timeout has not ended.
	StateInFlight
	// StateDelayed means the message was sent with a delay that has not
	// ended.
	StateDelayed
)

// String returns "visible", "in flight" or "delayed".
func (s MessageState) String() string {
	switch s {
	case StateVisible:
		return "visible"
	case StateInFlight:
		return "in flight"
	case StateDelayed:
		return "delayed"
	}
	return fmt.Sprintf("MessageState(%d)", int(s))
}

func (m *message) state(now time.Time) MessageState {
	switch {
	case !now.Before(m.visibleAt):
		return StateVisible
	case m.receives == 0:
		return StateDelayed
	default:
		return StateInFlight
	}
}

// newMessageID returns a random ID in the form of a UUID, as SQS's are.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Receipt handles name the queue and the message, and carry a random part
// that makes each receive's handle different.
const handleSep = "\x00"

func newHandle(q *queue, m *message) string {
	raw := q.name + handleSep + m.id + handleSep + rand.Text()
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// handleMessageID returns the ID of the message a receipt handle of q
// names, or false if it is not a handle of q.
func handleMessageID(q *queue, handle string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(handle)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(raw), handleSep)
	if len(parts) != 3 || parts[0] != q.name || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}

// copyAttrs returns a deep copy of message attributes, or nil if there are
// none.
func copyAttrs(in map[string]types.MessageAttributeValue) map[string]types.MessageAttributeValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(in))
	for k, v := range in {
		out[k] = copyAttr(v)
	}
	return out
}

func copyAttr(v types.MessageAttributeValue) types.MessageAttributeValue {
	c := types.MessageAttributeValue{}
	if v.DataType != nil {
		c.DataType = new(*v.DataType)
	}
	if v.StringValue != nil {
		c.StringValue = new(*v.StringValue)
	}
	if v.BinaryValue != nil {
		c.BinaryValue = append([]byte{}, v.BinaryValue...)
	}
	return c
}
