package sqsdispatchtest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// bigBody returns a 256 KiB body of ASCII and non-ASCII text from the
// Basic Multilingual Plane.
func bigBody(t *testing.T) string {
	t.Helper()
	const size = 256 << 10
	s := strings.Repeat("Grüße, 世界! ✓ ÿ € — ☃\t\n", size/30)
	for len(s) > size-8 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	s += strings.Repeat("x", size-len(s))
	if len(s) != size || !utf8.ValidString(s) {
		t.Fatalf("bad test body: %d bytes", len(s))
	}
	return s
}

func TestSendReceiveByteForByte(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	body := bigBody(t)
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	attrs := map[string]types.MessageAttributeValue{
		"bin":    {DataType: aws.String("Binary"), BinaryValue: binary},
		"bin.gz": {DataType: aws.String("Binary.gzip"), BinaryValue: []byte{0x1f, 0x8b, 0, 0xff}},
		"num":    {DataType: aws.String("Number"), StringValue: aws.String("-12.5e3")},
		"str":    {DataType: aws.String("String"), StringValue: aws.String("ünïcödé ✓ 日本")},
		"json":   {DataType: aws.String("String.json"), StringValue: aws.String(`{"a":[1,2]}`)},
	}
	sent, err := e.c.SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl: aws.String(e.url), MessageBody: aws.String(body), MessageAttributes: attrs,
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-abc")}},
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	binary[0] = 99 // the client keeps its own copy

	sum := md5.Sum([]byte(body))
	if got := aws.ToString(sent.MD5OfMessageBody); got != hex.EncodeToString(sum[:]) {
		t.Errorf("MD5OfMessageBody = %s, want %x", got, sum)
	}
	if sent.MD5OfMessageAttributes == nil || sent.MD5OfMessageSystemAttributes == nil || sent.MessageId == nil {
		t.Errorf("SendMessage output lacks a field: %+v", sent)
	}

	m := receiveOne(t, e.c, e.url)
	if aws.ToString(m.Body) != body {
		t.Error("body differs")
	}
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) {
		t.Errorf("MessageId = %s, want %s", aws.ToString(m.MessageId), aws.ToString(sent.MessageId))
	}
	if aws.ToString(m.MD5OfBody) != aws.ToString(sent.MD5OfMessageBody) ||
		aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Errorf("digests differ between send and receive")
	}
	binary[0] = 0
	if len(m.MessageAttributes) != len(attrs) {
		t.Fatalf("got %d message attributes, want %d", len(m.MessageAttributes), len(attrs))
	}
	for k, want := range attrs {
		got := m.MessageAttributes[k]
		if aws.ToString(got.DataType) != aws.ToString(want.DataType) ||
			aws.ToString(got.StringValue) != aws.ToString(want.StringValue) ||
			!bytes.Equal(got.BinaryValue, want.BinaryValue) || (got.StringValue == nil) != (want.StringValue == nil) {
			t.Errorf("attribute %s = %+v, want %+v", k, got, want)
		}
	}
	for k, want := range map[string]string{"ApproximateReceiveCount": "1", "AWSTraceHeader": "Root=1-abc",
		"SentTimestamp": "1893553445000", "ApproximateFirstReceiveTimestamp": "1893553445000"} {
		if got := m.Attributes[k]; got != want {
			t.Errorf("attribute %s = %q, want %q", k, got, want)
		}
	}
}

func TestReceiveAttributeSelection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		system    []types.MessageSystemAttributeName
		legacy    []types.QueueAttributeName
		attrNames []string
		wantSys   []string
		wantAttrs []string
	}{
		{name: "nothing asked"},
		{name: "all system", system: []types.MessageSystemAttributeName{"All"},
			wantSys: []string{"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}},
		{name: "all system, legacy field", legacy: []types.QueueAttributeName{"All"},
			wantSys: []string{"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}},
		{name: "one system", system: []types.MessageSystemAttributeName{"ApproximateReceiveCount"},
			wantSys: []string{"ApproximateReceiveCount"}},
		{name: "all attributes", attrNames: []string{"All"}, wantAttrs: []string{"a", "a.b", "c"}},
		{name: "dot star", attrNames: []string{".*"}, wantAttrs: []string{"a", "a.b", "c"}},
		{name: "by name", attrNames: []string{"c", "missing"}, wantAttrs: []string{"c"}},
		{name: "by prefix", attrNames: []string{"a.*"}, wantAttrs: []string{"a.b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, nil)
			str := types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
			_, err := e.c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(e.url), MessageBody: aws.String("b"),
				MessageAttributes: map[string]types.MessageAttributeValue{"a": str, "a.b": str, "c": str}})
			if err != nil {
				t.Fatal(err)
			}
			in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.url),
				MessageSystemAttributeNames: tt.system, MessageAttributeNames: tt.attrNames}
			//lint:ignore SA1019 the legacy field is what this case tests
			in.AttributeNames = tt.legacy
			out, err := e.c.ReceiveMessage(t.Context(), in)
			if err != nil || len(out.Messages) != 1 {
				t.Fatalf("ReceiveMessage = %v, %v", out, err)
			}
			m := out.Messages[0]
			if len(m.Attributes) != len(tt.wantSys) {
				t.Errorf("system attributes = %v, want %v", m.Attributes, tt.wantSys)
			}
			for _, k := range tt.wantSys {
				if m.Attributes[k] == "" {
					t.Errorf("system attribute %s missing", k)
				}
			}
			if len(m.MessageAttributes) != len(tt.wantAttrs) {
				t.Errorf("message attributes = %v, want %v", m.MessageAttributes, tt.wantAttrs)
			}
			for _, k := range tt.wantAttrs {
				if _, ok := m.MessageAttributes[k]; !ok {
					t.Errorf("message attribute %s missing", k)
				}
			}
			if (m.MD5OfMessageAttributes != nil) != (len(tt.wantAttrs) > 0) {
				t.Errorf("MD5OfMessageAttributes = %v with %d attributes", m.MD5OfMessageAttributes, len(tt.wantAttrs))
			}
		})
	}
}

func TestSendRejects(t *testing.T) {
	t.Parallel()
	str := func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
	}
	many := map[string]types.MessageAttributeValue{}
	for _, k := range strings.Split("a b c d e f g h i j k", " ") {
		many[k] = str("v")
	}
	tests := []struct {
		name  string
		in    sqs.SendMessageInput
		want  string
		queue string // "" for the queue with MaximumMessageSize 1024
	}{
		{name: "body too large", in: sqs.SendMessageInput{MessageBody: aws.String(strings.Repeat("x", 1025))}, want: "InvalidParameterValue"},
		{name: "body and attributes too large", in: sqs.SendMessageInput{MessageBody: aws.String(strings.Repeat("x", 1020)),
			MessageAttributes: map[string]types.MessageAttributeValue{"k": str("v")}}, want: "InvalidParameterValue"},
		{name: "control character", in: sqs.SendMessageInput{MessageBody: aws.String("a\x01b")}, want: "InvalidMessageContents"},
		{name: "invalid UTF-8", in: sqs.SendMessageInput{MessageBody: aws.String("a\xffb")}, want: "InvalidMessageContents"},
		{name: "empty body", in: sqs.SendMessageInput{MessageBody: aws.String("")}, want: "MissingParameter"},
		{name: "no body", in: sqs.SendMessageInput{}, want: "MissingParameter"},
		{name: "eleven attributes", in: sqs.SendMessageInput{MessageBody: aws.String("b"), MessageAttributes: many}, want: "InvalidParameterValue"},
		{name: "reserved attribute name", in: sqs.SendMessageInput{MessageBody: aws.String("b"),
			MessageAttributes: map[string]types.MessageAttributeValue{"AWS.x": str("v")}}, want: "InvalidParameterValue"},
		{name: "unknown data type", in: sqs.SendMessageInput{MessageBody: aws.String("b"),
			MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Text"), StringValue: aws.String("v")}}}, want: "InvalidParameterValue"},
		{name: "number that is not", in: sqs.SendMessageInput{MessageBody: aws.String("b"),
			MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Number"), StringValue: aws.String("12a")}}}, want: "InvalidParameterValue"},
		{name: "binary without bytes", in: sqs.SendMessageInput{MessageBody: aws.String("b"),
			MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("Binary")}}}, want: "InvalidParameterValue"},
		{name: "delay too long", in: sqs.SendMessageInput{MessageBody: aws.String("b"), DelaySeconds: 901}, want: "InvalidParameterValue"},
		{name: "deduplication ID on a standard queue", in: sqs.SendMessageInput{MessageBody: aws.String("b"),
			MessageDeduplicationId: aws.String("d")}, want: "InvalidParameterValue"},
		{name: "unknown queue", queue: "https://sqs.us-east-1.amazonaws.com/000000000000/nope",
			in: sqs.SendMessageInput{MessageBody: aws.String("b")}, want: "QueueDoesNotExist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, map[string]string{"MaximumMessageSize": "1024"})
			in := tt.in
			in.QueueUrl = aws.String(e.url)
			if tt.queue != "" {
				in.QueueUrl = aws.String(tt.queue)
			}
			_, err := e.c.SendMessage(t.Context(), &in)
			if got := code(err); got != tt.want {
				t.Fatalf("SendMessage error code = %q (%v), want %q", got, err, tt.want)
			}
			if v, f := e.c.Counts(e.url); v+f != 0 {
				t.Errorf("a rejected message was stored")
			}
		})
	}
}

func TestSendBodyAtTheLimit(t *testing.T) {
	t.Parallel()
	e := setup(t, map[string]string{"MaximumMessageSize": "1024"})
	body := strings.Repeat("é", 512) // 1024 bytes
	send(t, e.c, e.url, body)
	if m := receiveOne(t, e.c, e.url); aws.ToString(m.Body) != body {
		t.Error("body differs")
	}
}
