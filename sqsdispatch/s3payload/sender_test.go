package s3payload_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/s3payload"
)

const testBucket = "payloads"

// pointerBody matches the body of a message sent through S3 to
// testBucket and captures the key, as the Java client 2.x writes it.
var pointerBody = regexp.MustCompile(`^\["software\.amazon\.payloadoffloading\.PayloadS3Pointer",\{"s3BucketName":"payloads","s3Key":"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})"\}\]$`)

// legacyPointerBody is pointerBody as the Java client 1.x writes it.
var legacyPointerBody = regexp.MustCompile(`^\["com\.amazon\.sqs\.javamessaging\.MessageS3Pointer",\{"s3BucketName":"payloads","s3Key":"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})"\}\]$`)

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// tenAttributes is as many message attributes as SQS allows.
func tenAttributes() map[string]types.MessageAttributeValue {
	ten := map[string]types.MessageAttributeValue{}
	for i := range 10 {
		ten["a"+strconv.Itoa(i)] = stringAttr("v")
	}
	return ten
}

func TestSenderThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		threshold int
		always    bool
		bodyLen   int
		attrs     map[string]types.MessageAttributeValue
		wantS3    bool
	}{
		{name: "exactly the default threshold stays inline", bodyLen: s3payload.DefaultThreshold},
		{name: "one byte past the default threshold goes to S3", bodyLen: s3payload.DefaultThreshold + 1, wantS3: true},
		{name: "exactly a set threshold stays inline", threshold: 100, bodyLen: 100},
		{name: "one byte past a set threshold goes to S3", threshold: 100, bodyLen: 101, wantS3: true},
		{name: "attributes count toward the size", threshold: 100, bodyLen: 90,
			attrs:  map[string]types.MessageAttributeValue{"colour": stringAttr("x")}, // 6 + 6 + 1
			wantS3: true},
		{name: "attributes that fit keep it inline", threshold: 100, bodyLen: 87,
			attrs: map[string]types.MessageAttributeValue{"colour": stringAttr("x")}},
		{name: "binary attributes count toward the size", threshold: 100, bodyLen: 80,
			attrs: map[string]types.MessageAttributeValue{
				"b": {DataType: aws.String("Binary"), BinaryValue: make([]byte, 14)}, // 1 + 6 + 14
			},
			wantS3: true},
		{name: "always through S3", always: true, bodyLen: 3, wantS3: true},
		{name: "always through S3, empty body", always: true, wantS3: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs3, fsqs := newFakeS3(), &fakeSQS{}
			s := &s3payload.Sender{SQS: fsqs, S3: fs3, Bucket: testBucket, Threshold: tt.threshold, AlwaysThroughS3: tt.always}
			body := strings.Repeat("é", tt.bodyLen/2) + strings.Repeat("a", tt.bodyLen%2) // sizes count bytes
			in := &sqs.SendMessageInput{
				QueueUrl:          aws.String("http://queue"),
				MessageBody:       aws.String(body),
				MessageAttributes: tt.attrs,
				DelaySeconds:      3,
			}
			out, err := s.SendMessage(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.MessageId) != "id-1" {
				t.Errorf("MessageId = %q; want the SQS output passed back", aws.ToString(out.MessageId))
			}
			sent := fsqs.inputs()
			if len(sent) != 1 {
				t.Fatalf("%d messages sent; want 1", len(sent))
			}
			objects, _ := fs3.snapshot()
			if !tt.wantS3 {
				if sent[0] != in || len(objects) != 0 {
					t.Errorf("sent %+v with %d objects stored; want the input itself and nothing in S3", sent[0], len(objects))
				}
				return
			}
			checkPointerMessage(t, sent[0], in, objects, false)
		})
	}
}

// checkPointerMessage checks that sent is in with its body moved to the
// one object of objects, in the current format or, when legacy, the
// legacy one.
func checkPointerMessage(t *testing.T, sent, in *sqs.SendMessageInput, objects map[string][]byte, legacy bool) {
	t.Helper()
	body := aws.ToString(in.MessageBody)
	format, sizeAttr, otherAttr := pointerBody, "ExtendedPayloadSize", "SQSLargePayloadSize"
	if legacy {
		format, sizeAttr, otherAttr = legacyPointerBody, otherAttr, sizeAttr
	}
	m := format.FindStringSubmatch(aws.ToString(sent.MessageBody))
	if m == nil {
		t.Fatalf("sent body %q is not a pointer to %s (legacy format %t)", aws.ToString(sent.MessageBody), testBucket, legacy)
	}
	if got, ok := objects[testBucket+"/"+m[1]]; !ok || string(got) != body || len(objects) != 1 {
		t.Errorf("S3 holds %d objects, %s/%s present %t; want exactly the body there", len(objects), testBucket, m[1], ok)
	}
	size := sent.MessageAttributes[sizeAttr]
	if aws.ToString(size.DataType) != "Number" || aws.ToString(size.StringValue) != strconv.Itoa(len(body)) {
		t.Errorf("%s = %s %s; want Number %d", sizeAttr, aws.ToString(size.DataType), aws.ToString(size.StringValue), len(body))
	}
	if _, ok := sent.MessageAttributes[otherAttr]; ok || len(sent.MessageAttributes) != len(in.MessageAttributes)+1 {
		t.Errorf("sent attributes %v; want the %d given and %s", sent.MessageAttributes, len(in.MessageAttributes), sizeAttr)
	}
	for name, v := range in.MessageAttributes {
		if !reflect.DeepEqual(sent.MessageAttributes[name], v) {
			t.Errorf("attribute %s = %+v; want %+v", name, sent.MessageAttributes[name], v)
		}
	}
	if aws.ToString(sent.QueueUrl) != aws.ToString(in.QueueUrl) || sent.DelaySeconds != in.DelaySeconds {
		t.Errorf("sent to %s with delay %d; want %s with delay %d",
			aws.ToString(sent.QueueUrl), sent.DelaySeconds, aws.ToString(in.QueueUrl), in.DelaySeconds)
	}
}

func TestSenderLeavesTheInputAlone(t *testing.T) {
	t.Parallel()
	fs3, fsqs := newFakeS3(), &fakeSQS{}
	s := &s3payload.Sender{SQS: fsqs, S3: fs3, Bucket: testBucket, AlwaysThroughS3: true}
	attrs := map[string]types.MessageAttributeValue{"a": stringAttr("1")}
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String("http://queue.fifo"),
		MessageBody:       aws.String("the body"),
		MessageAttributes: attrs,
		MessageGroupId:    aws.String("g"),
	}
	before := *in
	before.MessageAttributes = maps.Clone(attrs)
	if _, err := s.SendMessage(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*in, before) {
		t.Errorf("input changed to %+v; want %+v", *in, before)
	}
	sent := fsqs.inputs()
	if len(sent) != 1 || sent[0] == in || aws.ToString(sent[0].MessageGroupId) != "g" {
		t.Fatalf("sent %+v; want a copy of the input keeping its group", sent)
	}
	objects, _ := fs3.snapshot()
	checkPointerMessage(t, sent[0], in, objects, false)
}

// TestSenderLegacy: with Legacy, a message through S3 is sent in the
// format of the Java client 1.x and of the Python client's
// use_legacy_attribute mode: MessageS3Pointer and SQSLargePayloadSize.
// A small message is still sent unchanged.
func TestSenderLegacy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		bodyLen int
		wantS3  bool
	}{
		// The attribute a=1 counts 8 bytes: "a", "String" and "1".
		{name: "past the threshold", bodyLen: s3payload.DefaultThreshold - 7, wantS3: true},
		{name: "exactly the threshold", bodyLen: s3payload.DefaultThreshold - 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs3, fsqs := newFakeS3(), &fakeSQS{}
			s := &s3payload.Sender{SQS: fsqs, S3: fs3, Bucket: testBucket, Legacy: true}
			in := &sqs.SendMessageInput{QueueUrl: aws.String("q"), MessageBody: aws.String(strings.Repeat("x", tt.bodyLen)),
				MessageAttributes: map[string]types.MessageAttributeValue{"a": stringAttr("1")}}
			if _, err := s.SendMessage(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			sent := fsqs.inputs()
			objects, _ := fs3.snapshot()
			if len(sent) != 1 {
				t.Fatalf("%d messages sent; want 1", len(sent))
			}
			if !tt.wantS3 {
				if sent[0] != in || len(objects) != 0 {
					t.Errorf("sent %+v with %d objects stored; want the input itself and nothing in S3", sent[0], len(objects))
				}
				return
			}
			checkPointerMessage(t, sent[0], in, objects, true)
		})
	}
}

// After a failed send the object stays, whatever the failure: even a
// rejected send may follow an attempt that was stored.
func TestSenderKeepsTheObjectAfterAFailedSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
	}{
		{"rejected by SQS", &smithy.GenericAPIError{Code: "InvalidParameterValue", Fault: smithy.FaultClient}},
		{"server fault", &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}},
		{"connection lost", errors.New("connection reset by peer")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs3, fsqs := newFakeS3(), &fakeSQS{err: tt.err}
			s := &s3payload.Sender{SQS: fsqs, S3: fs3, Bucket: testBucket, AlwaysThroughS3: true}
			_, err := s.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String("q"), MessageBody: aws.String("body")})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v; want the send's error", err)
			}
			objects, deleted := fs3.snapshot()
			if sent := fsqs.inputs(); len(sent) != 1 || pointerBody.FindStringSubmatch(aws.ToString(sent[0].MessageBody)) == nil {
				t.Fatalf("sent %+v; want one pointer", sent)
			}
			if len(deleted) != 0 || len(objects) != 1 {
				t.Errorf("deleted %v, %d objects left; want the object kept", deleted, len(objects))
			}
		})
	}
}

func TestSenderRefuses(t *testing.T) {
	t.Parallel()
	ten := tenAttributes()
	tests := []struct {
		name   string
		sender s3payload.Sender // SQS is filled in
		attrs  map[string]types.MessageAttributeValue
		want   string // in the error
	}{
		{name: "ten attributes leave no room", sender: s3payload.Sender{S3: newFakeS3(), Bucket: testBucket, AlwaysThroughS3: true},
			attrs: ten, want: "at most 9 message attributes"},
		{name: "no bucket", sender: s3payload.Sender{S3: newFakeS3(), AlwaysThroughS3: true}, want: "Sender.Bucket"},
		{name: "no S3 client", sender: s3payload.Sender{Bucket: testBucket, AlwaysThroughS3: true}, want: "Sender.S3"},
		{name: "ExtendedPayloadSize given", sender: s3payload.Sender{S3: newFakeS3(), Bucket: testBucket},
			attrs: map[string]types.MessageAttributeValue{"ExtendedPayloadSize": {DataType: aws.String("Number"), StringValue: aws.String("1")}},
			want:  "ExtendedPayloadSize is reserved"},
		{name: "SQSLargePayloadSize given", sender: s3payload.Sender{S3: newFakeS3(), Bucket: testBucket},
			attrs: map[string]types.MessageAttributeValue{"SQSLargePayloadSize": {DataType: aws.String("Number"), StringValue: aws.String("1")}},
			want:  "SQSLargePayloadSize is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsqs := &fakeSQS{}
			s := tt.sender
			s.SQS = fsqs
			_, err := s.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String("q"), MessageBody: aws.String("body"), MessageAttributes: tt.attrs,
			})
			if err == nil || !strings.HasPrefix(err.Error(), "sqsdispatch: s3payload: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want an s3payload error saying %q", err, tt.want)
			}
			if n := len(fsqs.inputs()); n != 0 {
				t.Errorf("%d messages sent; want none", n)
			}
			if f, ok := s.S3.(*fakeS3); ok {
				if objects, _ := f.snapshot(); len(objects) != 0 {
					t.Errorf("%d objects stored; want none", len(objects))
				}
			}
		})
	}
}

func TestSenderSmallMessages(t *testing.T) {
	t.Parallel()
	ten := tenAttributes()
	tests := []struct {
		name   string
		sender s3payload.Sender // SQS is filled in
		attrs  map[string]types.MessageAttributeValue
	}{
		{name: "without S3 settings", sender: s3payload.Sender{}},
		{name: "with ten attributes", sender: s3payload.Sender{S3: newFakeS3(), Bucket: testBucket}, attrs: ten},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsqs := &fakeSQS{}
			s := tt.sender
			s.SQS = fsqs
			in := &sqs.SendMessageInput{QueueUrl: aws.String("q"), MessageBody: aws.String("small"), MessageAttributes: tt.attrs}
			if _, err := s.SendMessage(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if sent := fsqs.inputs(); len(sent) != 1 || sent[0] != in {
				t.Errorf("sent %v; want the input itself", sent)
			}
		})
	}
}

func TestSenderPutFails(t *testing.T) {
	t.Parallel()
	putErr := errors.New("access denied")
	fs3, fsqs := newFakeS3(), &fakeSQS{}
	fs3.putErr = putErr
	s := &s3payload.Sender{SQS: fsqs, S3: fs3, Bucket: testBucket, AlwaysThroughS3: true}
	_, err := s.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String("q"), MessageBody: aws.String("body")})
	if !errors.Is(err, putErr) || !strings.HasPrefix(err.Error(), "sqsdispatch: s3payload: ") {
		t.Fatalf("err = %v; want the put's error", err)
	}
	if n := len(fsqs.inputs()); n != 0 {
		t.Errorf("%d messages sent; want none", n)
	}
}
