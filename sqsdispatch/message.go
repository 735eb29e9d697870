package sqsdispatch

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

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
	// MessageAttributes are the attributes the sender set.
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

	resume resume.State // what the messages this one continues carried
}

// loadResume fills in Checkpoint, Runs and FirstReceived from the
// message's attributes. A resume attribute that cannot be read is
// ignored: the job then starts afresh.
func (m *Message) loadResume() {
	m.Runs = m.ReceiveCount
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)], 10, 64); err == nil {
		m.FirstReceived = time.UnixMilli(ms)
	}
	a, ok := m.MessageAttributes[resume.Attr]
	if !ok {
		return
	}
	st, err := resume.Decode(a.BinaryValue)
	if err != nil {
		return
	}
	m.resume, m.Checkpoint, m.Runs, m.FirstReceived = st, st.Checkpoint, st.Runs+m.ReceiveCount, st.FirstReceived
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
	if len(m.MessageAttributes) > 0 {
		msg.MessageAttributes = make(map[string]MessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			msg.MessageAttributes[k] = MessageAttribute{
				DataType:    aws.ToString(v.DataType),
				StringValue: aws.ToString(v.StringValue),
				BinaryValue: v.BinaryValue,
			}
		}
	}
	msg.loadResume()
	return msg
}

// sqsAttributes converts message attributes back for SendMessage.
func sqsAttributes(attrs map[string]MessageAttribute) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(attrs))
	for k, v := range attrs {
		av := types.MessageAttributeValue{DataType: aws.String(v.DataType)}
		if v.BinaryValue != nil {
			av.BinaryValue = v.BinaryValue
		} else {
			av.StringValue = aws.String(v.StringValue)
		}
		out[k] = av
	}
	return out
}

func (m *Message) toWire() wire.Message {
	w := wire.Message{ID: m.ID, Queue: m.Queue, Body: m.Body, Attributes: m.Attributes, ReceiveCount: m.ReceiveCount}
	if len(m.MessageAttributes) > 0 {
		w.MessageAttributes = make(map[string]wire.Attribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			w.MessageAttributes[k] = wire.Attribute(v)
		}
	}
	return w
}

func messageFromWire(w wire.Message) *Message {
	m := &Message{ID: w.ID, Queue: w.Queue, Body: w.Body, Attributes: w.Attributes, ReceiveCount: w.ReceiveCount}
	if len(w.MessageAttributes) > 0 {
		m.MessageAttributes = make(map[string]MessageAttribute, len(w.MessageAttributes))
		for k, v := range w.MessageAttributes {
			m.MessageAttributes[k] = MessageAttribute(v)
		}
	}
	m.loadResume()
	return m
}
