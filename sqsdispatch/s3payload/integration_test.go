package s3payload_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/s3payload"
)

// TestLargePayloadThroughServer sends 5 MiB through a Sender, receives
// the pointer from the queue and reads the payload back through the
// store, then deletes it.
func TestLargePayloadThroughServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const size = 5 << 20
	payload := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = 'a' + byte(rng.IntN(26))
	}
	sender := &s3payload.Sender{SQS: b.sqs, S3: b.s3, Bucket: b.bucket}
	_, err := sender.SendMessage(b.ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(b.queue),
		MessageBody:       aws.String(string(payload)),
		MessageAttributes: map[string]types.MessageAttributeValue{"kind": stringAttr("report")},
	})
	if err != nil {
		t.Fatal(err)
	}

	msg := b.receive(t)
	pointer := regexp.MustCompile(`^\["software\.amazon\.payloadoffloading\.PayloadS3Pointer",\{"s3BucketName":"` +
		regexp.QuoteMeta(b.bucket) + `","s3Key":"([0-9a-f-]{36})"\}\]$`)
	m := pointer.FindStringSubmatch(aws.ToString(msg.Body))
	if m == nil {
		t.Fatalf("body %q is not a pointer into %s", aws.ToString(msg.Body), b.bucket)
	}
	key := m[1]
	attr := msg.MessageAttributes["ExtendedPayloadSize"]
	if aws.ToString(attr.DataType) != "Number" || aws.ToString(attr.StringValue) != strconv.Itoa(size) {
		t.Errorf("ExtendedPayloadSize = %s %s; want Number %d", aws.ToString(attr.DataType), aws.ToString(attr.StringValue), size)
	}
	if got := aws.ToString(msg.MessageAttributes["kind"].StringValue); got != "report" {
		t.Errorf("attribute kind = %q; want report", got)
	}

	store := s3payload.NewStore(b.s3)
	body, n, err := store.OpenPayload(b.ctx, b.bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != size || !bytes.Equal(got, payload) {
		t.Fatalf("read %d bytes, size %d; want the %d bytes sent, byte for byte", len(got), n, size)
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
	store := s3payload.NewStore(b.s3)
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
