package sqsdispatch_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// BenchmarkDispatchNoop measures the wall time per message of DispatchOne
// with a no-op job (receive, re-exec, handshake, result, delete).
func BenchmarkDispatchNoop(b *testing.B) {
	warmServer(b)
	tb := setup(b, fauxqs.QueueSpec{})
	fill(b, tb.ctx, tb.q.URL, b.N)
	cfg := tb.config("noop")
	cfg.Logger = nil
	d := tb.dispatcher(cfg)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if handled, err := d.DispatchOne(tb.ctx); err != nil || !handled {
			b.Fatalf("DispatchOne = %v, %v", handled, err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/msg")
}

// BenchmarkReexecBare measures re-executing this same binary as a process
// that exits at once: the floor under a child per message.
func BenchmarkReexecBare(b *testing.B) {
	exe, _ := os.Executable()
	env := append(os.Environ(), envBare+"=1")
	cpu := readCPU()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(exe)
		cmd.Env = env
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/exec")
	cpu.report(b, b.N)
}

// BenchmarkReceiveDeleteBare measures one SDK receive plus one delete
// against the same server, with no child: the SQS share of a message.
func BenchmarkReceiveDeleteBare(b *testing.B) {
	warmServer(b)
	tb := setup(b, fauxqs.QueueSpec{})
	fill(b, tb.ctx, tb.q.URL, b.N)
	b.ResetTimer()
	cpu := readCPU()
	start := time.Now()
	receiveDelete(b, tb.ctx, tb.q.URL, b.N)
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/msg")
	cpu.report(b, b.N)
}

// receiveDelete receives and deletes n messages one at a time.
func receiveDelete(tb testing.TB, ctx context.Context, url string, n int) {
	for range n {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1,
			WaitTimeSeconds: 1, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames: []string{"All"}})
		if err != nil || len(out.Messages) != 1 {
			tb.Fatalf("ReceiveMessage: %v", err)
		}
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			tb.Fatal(err)
		}
	}
}

// warmServer sends, receives and deletes messages once per test binary,
// so that the server's JIT compiler has settled before the first figure.
func warmServer(tb testing.TB) {
	warmOnce.Do(func() {
		b := setup(tb, fauxqs.QueueSpec{})
		const n = 2000
		fill(tb, b.ctx, b.q.URL, n)
		receiveDelete(tb, b.ctx, b.q.URL, n)
	})
}

var warmOnce sync.Once

// fill sends n "{}" messages in batches of ten.
func fill(tb testing.TB, ctx context.Context, url string, n int) {
	tb.Helper()
	fillWith(tb, ctx, url, n, func(int) string { return "{}" })
}

// fillWith sends n messages, the i-th with body(i), in batches of ten.
func fillWith(tb testing.TB, ctx context.Context, url string, n int, body func(i int) string) {
	tb.Helper()
	for sent := 0; sent < n; {
		var entries []types.SendMessageBatchRequestEntry
		for ; sent < n && len(entries) < 10; sent++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(sent)), MessageBody: aws.String(body(sent))})
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			tb.Fatalf("SendMessageBatch: %v %+v", err, out)
		}
	}
}
