package envelope

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
)

// ErrTooManyAttributes means a copy would carry more attributes than SQS
// allows.
var ErrTooManyAttributes = errors.New("sqsdispatch: more than 10 message attributes")

// ErrTooLarge means a copy would be larger than its queue's
// MaximumMessageSize.
var ErrTooLarge = errors.New("sqsdispatch: the message is larger than the queue's MaximumMessageSize")

// Copy is a copy of a received message that the dispatcher sends: the
// continuation of an interrupted job, a dead-letter copy, a message
// redriven from a dead-letter queue. Every such copy carries the user's
// attributes and the extended clients' payload size attribute as they
// came, the resume state it is given, the trace header and the message
// group; the dead-letter reasons only when it is given some.
type Copy struct {
	Body string
	// Attributes are the received message's attributes, all of them.
	// The map is not modified.
	Attributes map[string]types.MessageAttributeValue
	// Resume is the value of the copy's AttrResume attribute, nil for
	// none; the received one is never carried over unless it is passed
	// here.
	Resume []byte
	// Reasons are the dead-letter reasons, added in order while the
	// attribute count and the queue's size limit allow; those the
	// received message carried are dropped.
	Reasons []Reason
	// TraceHeader is the received AWSTraceHeader system attribute.
	TraceHeader string
	// GroupID is the received message group: FIFO, or a fair queue's
	// tenant on a standard queue.
	GroupID string
}

// Reason is one dead-letter reason attribute.
type Reason struct{ Name, Value string }

// DeadLetterReasons are the reason attributes of a dead-letter copy, in
// the order they are added.
func DeadLetterReasons(reason, sourceQueue, job string, receiveCount int) []Reason {
	return []Reason{
		{AttrReason, sanitize(reason)},
		{AttrSourceQueue, sourceQueue},
		{AttrJob, job},
		{AttrReceiveCount, strconv.Itoa(receiveCount)},
	}
}

// MessageAttributes returns the copy's message attributes for a queue
// whose MaximumMessageSize is maxSize (0: no check). It fails, wrapping
// ErrTooManyAttributes or ErrTooLarge, when the copy does not fit without
// its reasons; reasons that do not fit are left out.
func (c Copy) MessageAttributes(maxSize int) (map[string]types.MessageAttributeValue, error) {
	attrs := make(map[string]types.MessageAttributeValue, len(c.Attributes)+1+len(c.Reasons))
	for k, v := range c.Attributes {
		if !strings.HasPrefix(k, Prefix) { // the user's, and the payload size
			attrs[k] = v
		}
	}
	if c.Resume != nil {
		attrs[AttrResume] = types.MessageAttributeValue{DataType: aws.String(resume.DataType), BinaryValue: c.Resume}
	}
	if len(attrs) > MaxAttributes {
		return nil, fmt.Errorf("%w: the copy needs %d", ErrTooManyAttributes, len(attrs))
	}
	size := MessageSize(c.Body, attrs)
	if maxSize > 0 && size > maxSize {
		return nil, fmt.Errorf("%w: the copy is %d bytes, more than %d", ErrTooLarge, size, maxSize)
	}
	for _, r := range c.Reasons {
		if r.Value == "" || len(attrs) >= MaxAttributes {
			continue
		}
		n := len(r.Name) + len("String") + len(r.Value)
		if maxSize > 0 && size+n > maxSize {
			break
		}
		size += n
		attrs[r.Name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(r.Value)}
	}
	if len(attrs) == 0 {
		return nil, nil
	}
	return attrs, nil
}

// SystemAttributes returns the copy's system attributes: the trace
// header, when the received message had one.
func (c Copy) SystemAttributes() map[string]types.MessageSystemAttributeValue {
	if c.TraceHeader == "" {
		return nil
	}
	return map[string]types.MessageSystemAttributeValue{
		string(types.MessageSystemAttributeNameForSendsAWSTraceHeader): {DataType: aws.String("String"), StringValue: aws.String(c.TraceHeader)},
	}
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

// maxReasonBytes bounds the AttrReason value.
const maxReasonBytes = 1024

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
