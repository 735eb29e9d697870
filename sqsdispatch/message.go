package sqsdispatch

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/envelope"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Message is an SQS message as a job sees it. Body and attribute values are
// delivered byte for byte.
type Message struct {
	// ID is the SQS message ID.
	ID string
	// Queue is the URL of the queue the message came from.
	Queue string
	// Body is the message body.
	Body string
	// Attributes are the SQS system attributes (SentTimestamp,
	// ApproximateReceiveCount, MessageGroupId, ...).
	Attributes map[string]string
	// MessageAttributes are the attributes the sender set. The attributes
	// the dispatcher and AWS's extended clients carry for themselves (any
	// name that begins with "sqsdispatch.", ExtendedPayloadSize and
	// SQSLargePayloadSize) are not here: what they say is in Checkpoint,
	// Runs, FirstReceived and DeadLetter. A job that forwards its
	// attributes to a new message so never hands it another job's
	// checkpoint.
	MessageAttributes map[string]MessageAttribute
	// ReceiveCount is how many times SQS has handed out the message,
	// this delivery included.
	ReceiveCount int

	// Checkpoint is the last checkpoint an earlier run of the job recorded
	// (see Checkpoint), or nil. A job that checkpoints resumes from it.
	Checkpoint []byte
	// Runs counts the deliveries of the job's work: ReceiveCount plus the
	// deliveries of the messages this one continues, when an interrupted
	// job was continued as a new message.
	Runs int
	// FirstReceived is when the work was first received: the first
	// receive of this message or, for a continued job, of the message
	// that started it. It is zero when SQS did not say.
	FirstReceived time.Time
	// DeadLetter says why and from where the dispatcher moved the message
	// to a dead-letter queue, when it is such a copy (read from a
	// dead-letter queue); nil otherwise.
	DeadLetter *DeadLetterInfo

	own       map[string]MessageAttribute // the reserved attributes, as received
	resume    resume.State                // what the messages this one continues carried
	resumeErr error                       // why the resume attribute cannot be read
}

// DeadLetterInfo is what a dead-letter copy the dispatcher made says of
// its move.
type DeadLetterInfo struct {
	// Reason says why the message was dead-lettered (AttrReason).
	Reason string
	// SourceQueue is the URL of the queue it came from (AttrSourceQueue).
	SourceQueue string
	// Job is the job it was routed to, when it was (AttrJob).
	Job string
	// ReceiveCount is how many times it had been received then
	// (AttrReceiveCount).
	ReceiveCount int
}

// MessageAttribute is one sender-set attribute of a message. DataType is
// "String", "Number" or "Binary", optionally with a custom suffix
// ("Binary.gzip"); StringValue holds String and Number values, BinaryValue
// holds Binary ones.
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// load sorts the attributes into the user's and the dispatcher's own, and
// reads what the reserved ones say: the resume state (Checkpoint, Runs,
// FirstReceived) and the dead-letter reasons.
func (m *Message) load(attrs map[string]MessageAttribute) {
	m.MessageAttributes, m.own = envelope.Split(attrs)
	m.Runs = m.ReceiveCount
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)], 10, 64); err == nil {
		m.FirstReceived = time.UnixMilli(ms)
	}
	if a, ok := m.own[envelope.AttrResume]; ok {
		if st, err := resume.Decode(a.BinaryValue); err != nil {
			m.resumeErr = err
		} else {
			m.resume, m.Checkpoint, m.Runs, m.FirstReceived = st, st.Checkpoint, st.Runs+m.ReceiveCount, st.FirstReceived
		}
	}
	if r, ok := m.own[envelope.AttrReason]; ok {
		n, _ := strconv.Atoi(m.own[envelope.AttrReceiveCount].StringValue)
		m.DeadLetter = &DeadLetterInfo{Reason: r.StringValue, SourceQueue: m.own[envelope.AttrSourceQueue].StringValue,
			Job: m.own[envelope.AttrJob].StringValue, ReceiveCount: n}
	}
}

// refusal says why the message cannot run whatever its job: its resume
// attribute cannot be read, so neither its checkpoint nor its count of
// runs (which keeps the queue's retry limit meaningful) can be known.
func (m *Message) refusal() error {
	if m.resumeErr == nil {
		return nil
	}
	return fmt.Errorf("%w: the run count and checkpoint it carries cannot be known", m.resumeErr)
}

// fromSQS converts a received message.
func fromSQS(queue string, m types.Message) *Message {
	msg := &Message{
		ID:         aws.ToString(m.MessageId),
		Queue:      queue,
		Body:       aws.ToString(m.Body),
		Attributes: make(map[string]string, len(m.Attributes)),
	}
	for k, v := range m.Attributes {
		msg.Attributes[k] = v
	}
	msg.ReceiveCount, _ = strconv.Atoi(msg.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	var attrs map[string]MessageAttribute
	if len(m.MessageAttributes) > 0 {
		attrs = make(map[string]MessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			attrs[k] = MessageAttribute{
				DataType:    aws.ToString(v.DataType),
				StringValue: aws.ToString(v.StringValue),
				BinaryValue: v.BinaryValue,
			}
		}
	}
	msg.load(attrs)
	return msg
}

// groupID is the message's group: a FIFO queue's, or a fair queue's
// tenant on a standard queue.
func (m *Message) groupID() string {
	return m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
}

// traceHeader is the message's AWSTraceHeader system attribute.
func (m *Message) traceHeader() string {
	return m.Attributes[string(types.MessageSystemAttributeNameAWSTraceHeader)]
}

// toWire is the message as a child receives it: with every attribute, so
// that the child reads the reserved ones as the parent did.
func (m *Message) toWire() wire.Message {
	w := wire.Message{ID: m.ID, Queue: m.Queue, Body: m.Body, Attributes: m.Attributes, ReceiveCount: m.ReceiveCount}
	if n := len(m.MessageAttributes) + len(m.own); n > 0 {
		w.MessageAttributes = make(map[string]wire.Attribute, n)
		for _, attrs := range []map[string]MessageAttribute{m.MessageAttributes, m.own} {
			for k, v := range attrs {
				w.MessageAttributes[k] = wire.Attribute(v)
			}
		}
	}
	return w
}

func messageFromWire(w wire.Message) *Message {
	m := &Message{ID: w.ID, Queue: w.Queue, Body: w.Body, Attributes: w.Attributes, ReceiveCount: w.ReceiveCount}
	var attrs map[string]MessageAttribute
	if len(w.MessageAttributes) > 0 {
		attrs = make(map[string]MessageAttribute, len(w.MessageAttributes))
		for k, v := range w.MessageAttributes {
			attrs[k] = MessageAttribute(v)
		}
	}
	m.load(attrs)
	return m
}
