package s3payload_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/s3payload"
)

// TestLargePayloadThroughServer sends a payload through a Sender, in the
// current format and in the legacy one, receives the pointer from the
// queue, checks it is in the format the extended clients publish, and
// reads the payload back through the store, then deletes it.
func TestLargePayloadThroughServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		legacy   bool
		size     int
		class    string
		sizeAttr string
	}{
		{name: "current format", size: 5 << 20, class: "software.amazon.payloadoffloading.PayloadS3Pointer", sizeAttr: "ExtendedPayloadSize"},
		{name: "legacy format", legacy: true, size: 1 << 20, class: "com.amazon.sqs.javamessaging.MessageS3Pointer", sizeAttr: "SQSLargePayloadSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			payload := make([]byte, tt.size)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range payload {
				payload[i] = 'a' + byte(rng.IntN(26))
			}
			sender := &s3payload.Sender{SQS: b.sqs, S3: b.s3, Bucket: b.bucket, Legacy: tt.legacy}
			_, err := sender.SendMessage(b.ctx, &sqs.SendMessageInput{
				QueueUrl:          aws.String(b.queue),
				MessageBody:       aws.String(string(payload)),
				MessageAttributes: map[string]types.MessageAttributeValue{"kind": stringAttr("report")},
			})
			if err != nil {
				t.Fatal(err)
			}

			msg := b.receive(t)
			pointer := regexp.MustCompile(`^\["` + regexp.QuoteMeta(tt.class) + `",\{"s3BucketName":"` +
				regexp.QuoteMeta(b.bucket) + `","s3Key":"([0-9a-f-]{36})"\}\]$`)
			m := pointer.FindStringSubmatch(aws.ToString(msg.Body))
			if m == nil {
				t.Fatalf("body %q is not a %s pointer into %s", aws.ToString(msg.Body), tt.class, b.bucket)
			}
			key := m[1]
			attr := msg.MessageAttributes[tt.sizeAttr]
			if aws.ToString(attr.DataType) != "Number" || aws.ToString(attr.StringValue) != strconv.Itoa(tt.size) {
				t.Errorf("%s = %s %s; want Number %d", tt.sizeAttr, aws.ToString(attr.DataType), aws.ToString(attr.StringValue), tt.size)
			}
			if got := aws.ToString(msg.MessageAttributes["kind"].StringValue); got != "report" || len(msg.MessageAttributes) != 2 {
				t.Errorf("attributes %v; want kind=report and %s", msg.MessageAttributes, tt.sizeAttr)
			}

			store := s3payload.NewStore(b.s3, s3payload.AllowBuckets(b.bucket))
			body, n, err := store.OpenPayload(b.ctx, b.bucket, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(body)
			_ = body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(tt.size) || !bytes.Equal(got, payload) {
				t.Fatalf("read %d bytes, size %d; want the %d bytes sent, byte for byte", len(got), n, tt.size)
			}

			if err := store.DeletePayload(b.ctx, b.bucket, key); err != nil {
				t.Fatal(err)
			}
			if _, _, err := store.OpenPayload(b.ctx, b.bucket, key); !errors.Is(err, sqsdispatch.ErrPayloadNotFound) {
				t.Errorf("OpenPayload after DeletePayload = %v; want ErrPayloadNotFound", err)
			}
			if err := store.DeletePayload(b.ctx, b.bucket, key); err != nil {
				t.Errorf("DeletePayload of a deleted object = %v; want nil", err)
			}
		})
	}
}

// TestSmallMessageThroughServer: a message under the threshold reaches
// the queue as it was sent.
func TestSmallMessageThroughServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sender := &s3payload.Sender{SQS: b.sqs, S3: b.s3, Bucket: b.bucket}
	_, err := sender.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(b.queue), MessageBody: aws.String("small")})
	if err != nil {
		t.Fatal(err)
	}
	msg := b.receive(t)
	if aws.ToString(msg.Body) != "small" || len(msg.MessageAttributes) != 0 {
		t.Errorf("received %q with attributes %v; want the body as sent and no attributes", aws.ToString(msg.Body), msg.MessageAttributes)
	}
}

// TestStoreMissingObjectsOnServer: an object that is not there, in a
// bucket that is or is not, is ErrPayloadNotFound to open and nothing to
// delete.
func TestStoreMissingObjectsOnServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name   string
		bucket string
	}{
		{name: "missing key", bucket: b.bucket},
		{name: "missing bucket", bucket: b.bucket + "-missing"},
	}
	store := s3payload.NewStore(b.s3, s3payload.AllowBuckets(b.bucket, b.bucket+"-missing"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := store.OpenPayload(b.ctx, tt.bucket, "no-such-key"); !errors.Is(err, sqsdispatch.ErrPayloadNotFound) {
				t.Errorf("OpenPayload = %v; want ErrPayloadNotFound", err)
			}
			if err := store.DeletePayload(b.ctx, tt.bucket, "no-such-key"); err != nil {
				t.Errorf("DeletePayload = %v; want nil", err)
			}
		})
	}
}

// TestStoreRefusesOnServer: an object outside what the store may use,
// present on the server, is neither read nor deleted.
func TestStoreRefusesOnServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.s3.PutObject(b.ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String("private/report"),
		Body: strings.NewReader("not for the queue")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []s3payload.Option
	}{
		{name: "no option"},
		{name: "another bucket", opts: []s3payload.Option{s3payload.AllowBuckets(b.bucket + "-payloads")}},
		{name: "another prefix", opts: []s3payload.Option{s3payload.AllowPrefix(b.bucket, "sqs/")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := s3payload.NewStore(b.s3, tt.opts...)
			if r, _, err := store.OpenPayload(b.ctx, b.bucket, "private/report"); !errors.Is(err, sqsdispatch.ErrPayloadNotAllowed) || r != nil {
				t.Errorf("OpenPayload = %v, %v; want no body and ErrPayloadNotAllowed", r, err)
			}
			if err := store.DeletePayload(b.ctx, b.bucket, "private/report"); !errors.Is(err, sqsdispatch.ErrPayloadNotAllowed) {
				t.Errorf("DeletePayload = %v; want ErrPayloadNotAllowed", err)
			}
			if _, err := b.s3.HeadObject(b.ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String("private/report")}); err != nil {
				t.Errorf("the refused object is gone: %v", err)
			}
		})
	}
}
