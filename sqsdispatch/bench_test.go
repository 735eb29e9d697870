package sqsdispatch_test

// Benchmarks: the cost of a message end to end, of its parts (re-exec,
// SQS), and throughput and memory at scale. Each reports custom metrics;
// none asserts a time.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
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

// BenchmarkThroughput runs b.N no-op messages through Run (retiring after
// exactly b.N jobs) at Concurrency 1, 2 and 4, with and without spare
// children. The test binary imports the AWS SDK and zap, so its re-exec
// cost is that of a realistic service binary; compare with
// BenchmarkReexecBare and BenchmarkReceiveDeleteBare from the same run.
func BenchmarkThroughput(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		for _, spare := range []bool{false, true} {
			b.Run(fmt.Sprintf("concurrency=%d/prespawn=%t", n, spare), func(b *testing.B) {
				runDispatchers(b, 1, n, spare)
			})
		}
	}
}

// BenchmarkTwoDispatchers runs two Concurrency 1 dispatchers side by side
// in this process, each on its own queue with b.N messages: what the
// machine gives two independent streams of messages, the ceiling against
// which to read Concurrency 2.
func BenchmarkTwoDispatchers(b *testing.B) { runDispatchers(b, 2, 1, false) }

// runDispatchers runs k dispatchers at once, each with its own queue of
// b.N no-op messages, and reports the messages per second of them all.
func runDispatchers(b *testing.B, k, concurrency int, spare bool) {
	warmServer(b)
	var runs []func(context.Context) error
	var ctx context.Context
	for range k {
		tb := setup(b, fauxqs.QueueSpec{})
		fill(b, tb.ctx, tb.q.URL, b.N)
		cfg := tb.config("noop")
		cfg.Logger, cfg.Concurrency, cfg.Prespawn, cfg.MaxJobs = nil, concurrency, spare, b.N
		runs, ctx = append(runs, tb.dispatcher(cfg).Run), tb.ctx
	}
	b.ResetTimer()
	cpu := readCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(func() {
			if err := run(ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
				b.Errorf("Run = %v", err)
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	msgs := k * b.N
	cpu.report(b, msgs)
	b.ReportMetric(float64(msgs)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(el.Microseconds())/float64(msgs), "µs/msg")
}

// BenchmarkDispatcherRSS runs 20,000 no-op messages through one dispatcher
// process (Concurrency 4, spare children; and with children reused for
// 100 jobs) and reports its resident set size, and the largest peak of a
// job's child, after 1,000, 10,000 and 20,000 messages. Each iteration is
// a full run.
func BenchmarkDispatcherRSS(b *testing.B) {
	for _, reuse := range []int{0, 100} {
		b.Run(fmt.Sprintf("reuse=%d", reuse), func(b *testing.B) { benchDispatcherRSS(b, reuse) })
	}
}

func benchDispatcherRSS(b *testing.B, reuse int) {
	for range b.N {
		tb := setup(b, fauxqs.QueueSpec{})
		fill(b, tb.ctx, tb.q.URL, 20000)
		cmd := exec.Command(os.Args[0])
		pc := fmt.Sprintf(`{"queue": %q, "job": "noop", "concurrency": 4, "prespawn": true, "reuse_jobs": %d, "rss_rounds": [1000, 9000, 10000]}`,
			tb.q.URL, reuse)
		cmd.Env = append(os.Environ(), envRunProc+"="+pc)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("dispatcher process: %v", err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && (f[0] == "rss_after" || f[0] == "child_rss_after") {
				rss, _ := strconv.ParseFloat(f[2], 64)
				b.ReportMetric(rss/(1<<20), "MiB_"+f[0]+"_"+f[1])
			}
		}
	}
}

// cpuMeter splits the CPU time of a benchmark between this process, the
// children it waited for, and the local SQS server.
type cpuMeter struct {
	self, children, server time.Duration
}

func readCPU() cpuMeter {
	var m cpuMeter
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
		m.children = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", server.PID())); err == nil {
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		m.server = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	return m
}

// report adds per-message CPU metrics since start.
func (start cpuMeter) report(b *testing.B, n int) {
	end := readCPU()
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	b.ReportMetric(per(end.self-start.self), "parent_cpu_µs/msg")
	b.ReportMetric(per(end.children-start.children), "child_cpu_µs/msg")
	b.ReportMetric(per(end.server-start.server), "server_cpu_µs/msg")
}
