package s3payload_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs/fauxs3"
)

// server is the package's fauxqs, started by the first test that needs
// it and stopped by TestMain.
var server struct {
	once sync.Once
	s    *fauxqs.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.s != nil {
		server.s.Close()
	}
	os.Exit(code)
}

// bundle is what an integration test works with: clients of the server,
// an empty bucket and an empty queue of its own.
type bundle struct {
	ctx    context.Context
	sqs    *sqs.Client
	s3     *s3.Client
	bucket string
	queue  string
}

var names atomic.Int64

// setup starts the package's server if needed and creates a bucket and a
// queue for the test.
func setup(t *testing.T) *bundle {
	t.Helper()
	server.once.Do(func() { server.s, server.err = fauxqs.Start(context.Background()) })
	if server.err != nil {
		t.Fatalf("starting fauxqs: %v", server.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	sqsc, err := server.s.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s3c, err := fauxs3.Client(ctx, server.s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	name := "s3payload-" + strconv.FormatInt(names.Add(1), 10)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	q, err := fauxqs.CreateQueues(ctx, sqsc, fauxqs.QueueSpec{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{ctx: ctx, sqs: sqsc, s3: s3c, bucket: name, queue: q.URL}
}

// receive waits for the next message on the test's queue, with its
// message attributes.
func (b *bundle) receive(t *testing.T) types.Message {
	t.Helper()
	for b.ctx.Err() == nil {
		out, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(b.queue),
			MaxNumberOfMessages:   1,
			WaitTimeSeconds:       1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatalf("receiving: %v", err)
		}
		if len(out.Messages) == 1 {
			return out.Messages[0]
		}
	}
	t.Fatalf("no message received: %v", b.ctx.Err())
	return types.Message{}
}
