package sqsdispatch_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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

// dispatchDigests runs one message through d per line of want, and
// checks that the digest job wrote each of those lines to out.
func dispatchDigests(t *testing.T, b *bundle, d *sqsdispatch.Dispatcher, out string, want []string) {
	t.Helper()
	for range want {
		if err := dispatchNext(t, b.ctx, d, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(lines(t, out), "\n")
	for _, w := range want {
		if !strings.Contains(got, strings.ReplaceAll(w, " ", "_")) {
			t.Errorf("digests = %v; want %q among them", got, w)
		}
	}
}

// objectExists reports whether bucket/key is in the local server's S3.
func objectExists(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) bool {
	t.Helper()
	r, _, err := s3payload.NewStore(c, s3payload.AllowBuckets(bucket)).OpenPayload(ctx, bucket, key)
	if err != nil && !errors.Is(err, sqsdispatch.ErrPayloadNotFound) {
		t.Fatal(err)
	}
	if err == nil {
		_ = r.Close()
	}
	return err == nil
}

// putObject stores data as bucket/key on the local server's S3.
func putObject(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}

// numAttr is a Number message attribute.
func numAttr(n int) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(n))}
}

// The pointer bodies AWS's extended clients publish, with %s for the
// bucket and the key.
const (
	// javaPointer is the Java client 2.x (payload-offloading-java-common-
	// lib-for-aws): PayloadS3Pointer as Jackson writes it, compact, with
	// ExtendedPayloadSize.
	javaPointer = `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"%s","s3Key":"%s"}]`
	// javaLegacyPointer is the Java client 1.x: MessageS3Pointer, with
	// SQSLargePayloadSize.
	javaLegacyPointer = `["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"%s","s3Key":"%s"}]`
	// pythonPointer is amazon-sqs-python-extended-client-lib: json.dumps,
	// whose separators put a space after "," and ":", with
	// ExtendedPayloadSize.
	pythonPointer = `["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "%s", "s3Key": "%s"}]`
	// pythonLegacyPointer is the Python client with use_legacy_attribute:
	// MessageS3Pointer, with SQSLargePayloadSize.
	pythonLegacyPointer = `["com.amazon.sqs.javamessaging.MessageS3Pointer", {"s3BucketName": "%s", "s3Key": "%s"}]`
)

// recordingStore counts the calls made to the PayloadStore it wraps.
type recordingStore struct {
	sqsdispatch.PayloadStore
	opens, deletes atomic.Int64
}

func (r *recordingStore) OpenPayload(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	r.opens.Add(1)
	return r.PayloadStore.OpenPayload(ctx, bucket, key)
}

func (r *recordingStore) DeletePayload(ctx context.Context, bucket, key string) error {
	r.deletes.Add(1)
	return r.PayloadStore.DeletePayload(ctx, bucket, key)
}

// TestPayloadReachesTheJob sends payloads through S3 in every format the
// extended clients publish: 5 MiB with the producer helper, and pointers
// written by hand as the Java client 2.x (5 MiB), the Python client
// (1 KiB), the Java client 1.x (300 KiB) and the Python client's legacy
// mode (1 MiB) write them, each with its size attribute. The job gets each
// payload byte for byte, with nothing of it in its argv, its environment
// or the logs, and each object is deleted after its job succeeded.
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
	want := []string{digestLine(body)}
	handMade := []struct {
		format, sizeAttr string
		size             int
	}{
		{javaPointer, "ExtendedPayloadSize", 5<<20 + 1},
		{pythonPointer, "ExtendedPayloadSize", 1 << 10},
		{javaLegacyPointer, "SQSLargePayloadSize", 300 << 10},
		{pythonLegacyPointer, "SQSLargePayloadSize", 1 << 20},
	}
	pointers := map[string]bool{}
	for i, h := range handMade {
		key := fmt.Sprintf("by-hand-%d", i)
		data := testPayload(h.size)
		putObject(t, b.ctx, s3c, bucket, key, data)
		pointer := fmt.Sprintf(h.format, bucket, key)
		b.send(pointer, map[string]types.MessageAttributeValue{"out": strAttr(out), h.sizeAttr: numAttr(len(data))})
		pointers[pointer] = true
		want = append(want, digestLine(data))
	}
	for _, m := range receive(t, b.ctx, b.q.URL, 1) { // the pointers as SQS holds them
		setVisible(t, b, m)
		if !pointers[aws.ToString(m.Body)] && !strings.HasPrefix(aws.ToString(m.Body),
			`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"`+bucket+`","s3Key":"`) {
			t.Errorf("SQS holds %q; want a pointer in the extended clients' format", aws.ToString(m.Body))
		}
	}

	core, logs := observer.New(zap.DebugLevel)
	cfg := b.config("digest")
	cfg.Logger, cfg.LogBodies = zap.New(core), true
	cfg.Payloads, cfg.DeletePayloads = s3payload.NewStore(s3c, s3payload.AllowBuckets(bucket)), true
	d := b.dispatcher(cfg)
	dispatchDigests(t, b, d, out, want)
	for _, e := range logs.All() {
		if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, payloadMarker) {
			t.Errorf("a log line holds the payload: %.200s", line)
		}
	}
	if left, err := s3c.ListObjectsV2(b.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err != nil || len(left.Contents) != 0 {
		t.Errorf("objects left after the jobs succeeded: %v (%v); want all deleted", left, err)
	}
	if !drained(t, b.ctx, b.q.URL) {
		t.Error("the queue is not empty")
	}
}

// TestPointerMessageDeadLettersWithItsPointer: a message carrying a size
// attribute whose job fails for good, whose body is not a valid pointer,
// whose object is gone or outside the buckets the store may use, or that
// no Config.Payloads can read, is dead-lettered as it came, pointer and
// size attribute and all, with the reason. Its object stays, and the
// dispatcher never asks the store to delete it.
func TestPointerMessageDeadLettersWithItsPointer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		job        string
		body       string // a format with %s for the bucket and the key, or a plain body
		sizeAttr   string
		key        string
		allow      string // the bucket the store may use, when not the test's
		noStore    bool   // Config.Payloads is nil
		wantReason string
		wantErr    error
	}{
		{name: "job failed for good", job: "permanent", body: javaPointer, sizeAttr: "ExtendedPayloadSize", key: "present"},
		{name: "job failed for good, legacy format", job: "permanent", body: javaLegacyPointer, sizeAttr: "SQSLargePayloadSize", key: "present"},
		{name: "object missing", job: "digest", body: javaPointer, sizeAttr: "ExtendedPayloadSize", key: "missing",
			wantReason: "s3://", wantErr: sqsdispatch.ErrPayloadNotFound},
		{name: "size attribute, body not a pointer", job: "digest", body: "an ordinary body", sizeAttr: "ExtendedPayloadSize",
			wantReason: "malformed payload pointer: the message carries ExtendedPayloadSize"},
		{name: "legacy attribute, unknown class", job: "digest",
			body: `["com.example.S3Pointer",{"s3BucketName":"%s","s3Key":"%s"}]`, sizeAttr: "SQSLargePayloadSize", key: "present",
			wantReason: `class "com.example.S3Pointer"`},
		{name: "bucket outside the store", job: "digest", body: pythonPointer, sizeAttr: "ExtendedPayloadSize", key: "present",
			allow: "payloads-elsewhere", wantReason: "outside the buckets the store may use", wantErr: sqsdispatch.ErrPayloadNotAllowed},
		{name: "no Config.Payloads", job: "digest", body: pythonLegacyPointer, sizeAttr: "SQSLargePayloadSize", key: "present",
			noStore: true, wantReason: "Config.Payloads is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 3})
			s3c, bucket := s3Bucket(t, b.ctx)
			putObject(t, b.ctx, s3c, bucket, "present", testPayload(1<<20))
			body := tt.body
			if strings.Contains(body, "%s") {
				body = fmt.Sprintf(body, bucket, tt.key)
			}
			b.send(body, map[string]types.MessageAttributeValue{"out": strAttr(filepath.Join(t.TempDir(), "digests")),
				tt.sizeAttr: numAttr(1 << 20)})
			cfg := b.config(tt.job)
			store := &recordingStore{PayloadStore: s3payload.NewStore(s3c, s3payload.AllowBuckets(cmp.Or(tt.allow, bucket)))}
			if !tt.noStore {
				cfg.Payloads = store
			}
			cfg.DeletePayloads = true
			var je *sqsdispatch.JobError
			err := dispatchNext(t, b.ctx, b.dispatcher(cfg), time.Minute)
			if !errors.As(err, &je) || !je.Permanent {
				t.Fatalf("DispatchOne = %v; want a permanent *JobError", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("DispatchOne = %v; want it to wrap %v", err, tt.wantErr)
			}
			m, ok := dlqMessages(t, b, 1)[body]
			if !ok {
				t.Fatal("the dead-letter queue does not hold the message as it came")
			}
			if aws.ToString(m.MessageAttributes[tt.sizeAttr].StringValue) != "1048576" {
				t.Errorf("the dead-lettered message lost %s: %v", tt.sizeAttr, m.MessageAttributes)
			}
			if !strings.Contains(reasonOf(m), tt.wantReason) {
				t.Errorf("reason %q; want it to say %q", reasonOf(m), tt.wantReason)
			}
			if !objectExists(t, b.ctx, s3c, bucket, "present") {
				t.Error("the payload object was deleted with the message dead-lettered")
			}
			if n := store.deletes.Load(); n != 0 {
				t.Errorf("the store was asked to delete %d times; want never", n)
			}
		})
	}
}

// TestPointerLikeBodyWithoutSizeAttribute: a body that reads as a pointer
// of either class but comes without a size attribute is an ordinary
// body, as for the extended clients: the job gets it as it is, and the
// store is never asked for the object it names.
func TestPointerLikeBodyWithoutSizeAttribute(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 3})
	s3c, bucket := s3Bucket(t, b.ctx)
	putObject(t, b.ctx, s3c, bucket, "present", testPayload(1<<10))
	out := filepath.Join(t.TempDir(), "digests")
	var want []string
	for _, format := range []string{javaPointer, javaLegacyPointer} {
		body := fmt.Sprintf(format, bucket, "present")
		b.send(body, map[string]types.MessageAttributeValue{"out": strAttr(out)})
		want = append(want, digestLine([]byte(body)))
	}
	store := &recordingStore{PayloadStore: s3payload.NewStore(s3c, s3payload.AllowBuckets(bucket))}
	cfg := b.config("digest")
	cfg.Payloads, cfg.DeletePayloads = store, true
	d := b.dispatcher(cfg)
	dispatchDigests(t, b, d, out, want)
	if n, m := store.opens.Load(), store.deletes.Load(); n != 0 || m != 0 {
		t.Errorf("the store was asked to open %d and delete %d times; want never", n, m)
	}
	if !objectExists(t, b.ctx, s3c, bucket, "present") {
		t.Error("the object a plain body names was deleted")
	}
}
