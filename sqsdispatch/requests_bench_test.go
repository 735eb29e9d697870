package sqsdispatch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// countingClient counts the SQS requests a dispatcher makes, by kind: the
// ones SQS bills for.
type countingClient struct {
	sqsdispatch.Client
	mu sync.Mutex
	n  map[string]int
}

func newCountingClient(c sqsdispatch.Client) *countingClient {
	return &countingClient{Client: c, n: map[string]int{}}
}

func (c *countingClient) count(op string) {
	c.mu.Lock()
	c.n[op]++
	c.mu.Unlock()
}

func (c *countingClient) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func (c *countingClient) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, o ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	c.count("ReceiveMessage")
	return c.Client.ReceiveMessage(ctx, in, o...)
}

func (c *countingClient) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	c.count("DeleteMessage")
	return c.Client.DeleteMessage(ctx, in, o...)
}

func (c *countingClient) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	c.count("DeleteMessageBatch")
	return c.Client.DeleteMessageBatch(ctx, in, o...)
}

func (c *countingClient) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, o ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	c.count("ChangeMessageVisibility")
	return c.Client.ChangeMessageVisibility(ctx, in, o...)
}

func (c *countingClient) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, o ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	c.count("ChangeMessageVisibilityBatch")
	return c.Client.ChangeMessageVisibilityBatch(ctx, in, o...)
}

// BenchmarkRequests counts the requests SQS bills for, by kind, per
// message: a steady stream of no-op jobs at Concurrency 1, 4 and 16 (the
// dispatcher retires after b.N jobs; start-up calls, reading queue
// attributes, are not counted), and the heartbeats of 64 long jobs in
// flight at once, per heartbeat round.
func BenchmarkRequests(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("steady/concurrency=%d", n), func(b *testing.B) { benchSteady(b, n) })
	}
	b.Run("long/jobs=64", benchHeartbeats)
}

func benchSteady(b *testing.B, concurrency int) {
	warmServer(b)
	tb := setup(b, fauxqs.QueueSpec{})
	fill(b, tb.ctx, tb.q.URL, b.N)
	cc := newCountingClient(client)
	cfg := tb.config("noop")
	cfg.Client, cfg.Logger, cfg.Concurrency, cfg.MaxJobs = cc, nil, concurrency, b.N
	d := tb.dispatcher(cfg)
	b.ResetTimer()
	start := time.Now()
	if err := d.Run(tb.ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
		b.Fatalf("Run = %v", err)
	}
	el := time.Since(start)
	n := cc.counts()
	per := func(v int) float64 { return float64(v) / float64(b.N) }
	receives := n["ReceiveMessage"]
	deletes := n["DeleteMessage"] + n["DeleteMessageBatch"]
	visibility := n["ChangeMessageVisibility"] + n["ChangeMessageVisibilityBatch"]
	b.ReportMetric(per(receives+deletes+visibility), "req/msg")
	b.ReportMetric(per(receives), "receive/msg")
	b.ReportMetric(per(deletes), "delete/msg")
	b.ReportMetric(per(visibility), "chvis/msg")
	b.ReportMetric(float64(el.Microseconds())/1000/float64(b.N), "ms/msg")
}

// benchHeartbeats runs 64 jobs that each outlast several heartbeat
// rounds, all at once, and reports the heartbeat calls per round.
func benchHeartbeats(b *testing.B) {
	const jobs = 64
	const rounds = 4
	for range b.N {
		tb := setup(b, fauxqs.QueueSpec{})
		fillWith(b, tb.ctx, tb.q.URL, jobs, func(int) string { return fmt.Sprintf(`{"sleep": %d}`, rounds*time.Second) })
		cc := newCountingClient(client)
		cfg := tb.config("sleep")
		cfg.Client, cfg.Logger, cfg.Concurrency, cfg.MaxJobs = cc, nil, jobs, jobs
		cfg.VisibilityTimeout, cfg.HeartbeatInterval = 3*time.Second, time.Second
		if err := tb.dispatcher(cfg).Run(tb.ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
			b.Fatalf("Run = %v", err)
		}
		n := cc.counts()
		b.ReportMetric(float64(n["ChangeMessageVisibilityBatch"])/rounds, "heartbeat_calls/round")
		b.ReportMetric(float64(n["ChangeMessageVisibilityBatch"])/rounds/jobs, "heartbeat_calls/round/job")
	}
}
