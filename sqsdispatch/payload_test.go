package sqsdispatch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs/fauxs3"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/s3payload"
)

// s3Bucket creates a bucket on the local server for the test and returns
// a client for it.
func s3Bucket(t testing.TB, ctx context.Context) (*s3.Client, string) {
	t.Helper()
	c, err := fauxs3.Client(ctx, server.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("payloads-%d", queueSeq.Add(1))
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return c, bucket
}

// testPayload is n bytes of random payload that starts with
// payloadMarker.
func testPayload(n int) []byte {
	p := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range p {
		p[i] = byte('a' + r.IntN(26))
	}
	copy(p, payloadMarker)
	return p
}

// digestLine is what the digest job writes for a body.
func digestLine(body []byte) string {
	sum := sha256.Sum256(body)
	return fmt.Sprintf("%d %s leak=false", len(body), hex.EncodeToString(sum[:]))
}

// objectExists reports whether bucket/key is in the local server's S3.
func objectExists(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) bool {
	t.Helper()
	r, _, err := s3payload.NewStore(c).OpenPayload(ctx, bucket, key)
	if err != nil && !errors.Is(err, sqsdispatch.ErrPayloadNotFound) {
		t.Fatal(err)
	}
	if err == nil {
		_ = r.Close()
	}
	return err == nil
}

// TestPayloadReachesTheJob sends 5 MiB payloads through S3, once with the
// producer helper and once as a pointer written by hand in the Java
// extended client's exact format: the job gets each byte for byte, with
// nothing of it in its argv, its environment or the logs, and the object
// is deleted after the job succeeded.
func TestPayloadReachesTheJob(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 3})
	s3c, bucket := s3Bucket(t, b.ctx)
	out := filepath.Join(t.TempDir(), "digests")
	outAttr := map[string]types.MessageAttributeValue{"out": strAttr(out)}
	body := testPayload(5 << 20)

	sender := &s3payload.Sender{SQS: client, S3: s3c, Bucket: bucket}
	if _, err := sender.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(b.q.URL),
		MessageBody: aws.String(string(body)), MessageAttributes: outAttr}); err != nil {
		t.Fatal(err)
	}
	handMade := testPayload(5<<20 + 1)
	if _, err := s3c.PutObject(b.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("by-hand"), Body: bytes.NewReader(handMade)}); err != nil {
		t.Fatal(err)
	}
	javaPointer := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + bucket + `","s3Key":"by-hand"}]`
	b.send(javaPointer, map[string]types.MessageAttributeValue{"out": strAttr(out),
		"ExtendedPayloadSize": {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(len(handMade)))}})
	sent := receive(t, b.ctx, b.q.URL, 1) // the pointers as SQS holds them
	for _, m := range sent {
		setVisible(t, b, m)
		if !strings.HasPrefix(aws.ToString(m.Body), `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"`+bucket+`","s3Key":"`) {
			t.Errorf("SQS holds %q; want a pointer in the extended clients' format", aws.ToString(m.Body))
		}
	}

	core, logs := observer.New(zap.DebugLevel)
	cfg := b.config("digest")
	cfg.Logger, cfg.LogBodies = zap.New(core), true
	cfg.Payloads, cfg.DeletePayloads = s3payload.NewStore(s3c), true
	d := b.dispatcher(cfg)
	for range 2 {
		if err := dispatchNext(t, b.ctx, d, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	got := lines(t, out)
	want := []string{digestLine(body), digestLine(handMade)}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, "\n"), strings.ReplaceAll(w, " ", "_")) {
			t.Errorf("digests = %v; want %q among them", got, w)
		}
	}
	for _, e := range logs.All() {
		if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, payloadMarker) {
			t.Errorf("a log line holds the payload: %.200s", line)
		}
	}
	if left, err := s3c.ListObjectsV2(b.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err != nil || len(left.Contents) != 0 {
		t.Errorf("objects left after the jobs succeeded: %v (%v); want both deleted", left, err)
	}
	if !drained(t, b.ctx, b.q.URL) {
		t.Error("the queue is not empty")
	}
}

// TestPointerMessageDeadLettersWithItsPointer: a pointer message whose
// job fails for good, or whose object is gone, is dead-lettered as the
// pointer it is, ExtendedPayloadSize and all; the object stays.
func TestPointerMessageDeadLettersWithItsPointer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, job, key string
		wantReason     string
	}{
		{name: "job failed for good", job: "permanent", key: "present", wantReason: ""},
		{name: "object missing", job: "digest", key: "missing", wantReason: "s3://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 3})
			s3c, bucket := s3Bucket(t, b.ctx)
			if _, err := s3c.PutObject(b.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("present"),
				Body: bytes.NewReader(testPayload(1 << 20))}); err != nil {
				t.Fatal(err)
			}
			pointer := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + bucket + `","s3Key":"` + tt.key + `"}]`
			b.send(pointer, map[string]types.MessageAttributeValue{"out": strAttr(filepath.Join(t.TempDir(), "digests")),
				"ExtendedPayloadSize": {DataType: aws.String("Number"), StringValue: aws.String("1048576")}})
			cfg := b.config(tt.job)
			cfg.Payloads, cfg.DeletePayloads = s3payload.NewStore(s3c), true
			var je *sqsdispatch.JobError
			if err := dispatchNext(t, b.ctx, b.dispatcher(cfg), time.Minute); !errors.As(err, &je) || !je.Permanent {
				t.Fatalf("DispatchOne = %v; want a permanent *JobError", err)
			}
			m, ok := dlqMessages(t, b, 1)[pointer]
			if !ok {
				t.Fatal("the dead-letter queue does not hold the pointer")
			}
			if aws.ToString(m.MessageAttributes["ExtendedPayloadSize"].StringValue) != "1048576" {
				t.Errorf("the dead-lettered message lost ExtendedPayloadSize: %v", m.MessageAttributes)
			}
			if !strings.Contains(reasonOf(m), tt.wantReason) {
				t.Errorf("reason %q; want it to name %q", reasonOf(m), tt.wantReason)
			}
			if !objectExists(t, b.ctx, s3c, bucket, "present") {
				t.Error("the payload object was deleted with the message dead-lettered")
			}
		})
	}
}
