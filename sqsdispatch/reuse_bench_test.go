package sqsdispatch_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// BenchmarkReuse runs b.N no-op messages at Concurrency 4 three ways, in
// one run on the same server: one child per job, children reused for 100
// jobs, and, as the floor, an in-process consumer (four goroutines that
// receive, call the job's function and delete in batches, on the same
// client). The test binary imports the AWS SDK and zap, as a service
// would.
func BenchmarkReuse(b *testing.B) {
	b.Run("one-child-per-job", func(b *testing.B) { benchReuse(b, 0) })
	b.Run("reuse=100", func(b *testing.B) { benchReuse(b, 100) })
	b.Run("in-process", benchInProcess)
}

func benchReuse(b *testing.B, reuse int) {
	warmServer(b)
	tb := setup(b, fauxqs.QueueSpec{})
	fill(b, tb.ctx, tb.q.URL, b.N)
	cfg := tb.config("noop")
	cfg.Logger, cfg.Concurrency, cfg.MaxJobs, cfg.Reuse = nil, 4, b.N, sqsdispatch.Reuse{MaxJobs: reuse}
	d := tb.dispatcher(cfg)
	b.ResetTimer()
	start := time.Now()
	if err := d.Run(tb.ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
		b.Fatalf("Run = %v", err)
	}
	reportRate(b, time.Since(start))
}

// benchInProcess is the in-process floor: four goroutines receive up to
// ten messages, run the no-op job on each, and delete them in one call.
func benchInProcess(b *testing.B) {
	warmServer(b)
	tb := setup(b, fauxqs.QueueSpec{})
	fill(b, tb.ctx, tb.q.URL, b.N)
	job := func(context.Context, *sqsdispatch.Message) error { return nil }
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for left.Load() > 0 {
				out, err := client.ReceiveMessage(tb.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(tb.q.URL), MaxNumberOfMessages: 10,
					WaitTimeSeconds: 1, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
					MessageAttributeNames: []string{"All"}})
				if err != nil {
					b.Error(err)
					return
				}
				in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(tb.q.URL)}
				for i, m := range out.Messages {
					if err := job(tb.ctx, &sqsdispatch.Message{ID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)}); err != nil {
						b.Error(err)
					}
					in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				if len(in.Entries) == 0 {
					continue
				}
				if _, err := client.DeleteMessageBatch(tb.ctx, in); err != nil {
					b.Error(err)
					return
				}
				left.Add(-int64(len(in.Entries)))
			}
		})
	}
	wg.Wait()
	reportRate(b, time.Since(start))
}

func reportRate(b *testing.B, el time.Duration) {
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(el.Microseconds())/float64(b.N), "µs/msg")
}
