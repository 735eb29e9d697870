package s3payload_test

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeS3 keeps objects in memory; getErr, putErr and deleteErr, when set,
// are returned instead.
type fakeS3 struct {
	mu        sync.Mutex
	objects   map[string][]byte // "bucket/key"
	deleted   []string          // "bucket/key", in order
	getErr    error
	putErr    error
	deleteErr error
	noLength  bool // GetObject leaves ContentLength unset
	closed    bool // the body GetObject returned was closed
	calls     int  // GetObject and DeleteObject calls, failed ones too
}

func newFakeS3() *fakeS3 { return &fakeS3{objects: map[string][]byte{}} }

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.getErr != nil {
		return nil, f.getErr
	}
	b := f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	out := &s3.GetObjectOutput{Body: &closeRecorder{Reader: bytes.NewReader(b), f: f}}
	if !f.noLength {
		out.ContentLength = aws.Int64(int64(len(b)))
	}
	return out, nil
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.putErr != nil {
		return nil, f.putErr
	}
	f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = b
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.deleteErr != nil {
		return nil, f.deleteErr
	}
	name := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	f.deleted = append(f.deleted, name)
	delete(f.objects, name)
	return &s3.DeleteObjectOutput{}, nil
}

// snapshot returns a copy of the objects and the deletions.
func (f *fakeS3) snapshot() (map[string][]byte, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	objects := make(map[string][]byte, len(f.objects))
	for k, v := range f.objects {
		objects[k] = v
	}
	return objects, append([]string(nil), f.deleted...)
}

// readsAndDeletes returns how many GetObject and DeleteObject calls were
// made.
func (f *fakeS3) readsAndDeletes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeS3) bodyClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

type closeRecorder struct {
	*bytes.Reader
	f *fakeS3
}

func (c *closeRecorder) Close() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.f.closed = true
	return nil
}

// fakeSQS records what it is asked to send; err, when set, is returned
// instead.
type fakeSQS struct {
	mu   sync.Mutex
	sent []*sqs.SendMessageInput
	err  error
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sqs.SendMessageOutput{MessageId: aws.String("id-1")}, nil
}

func (f *fakeSQS) inputs() []*sqs.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sqs.SendMessageInput(nil), f.sent...)
}
