package sqsdispatch_test

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
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

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
// process (Concurrency 4, spare children) and reports its resident set size
// after 1,000, 10,000 and 20,000 messages. Each iteration is a full run.
func BenchmarkDispatcherRSS(b *testing.B) {
	for range b.N {
		tb := setup(b, fauxqs.QueueSpec{})
		fill(b, tb.ctx, tb.q.URL, 20000)
		cmd := exec.Command(os.Args[0])
		pc := fmt.Sprintf(`{"queue": %q, "job": "noop", "concurrency": 4, "prespawn": true, "rss_rounds": [1000, 9000, 10000]}`, tb.q.URL)
		cmd.Env = append(os.Environ(), envRunProc+"="+pc)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("dispatcher process: %v", err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "rss_after" {
				rss, _ := strconv.ParseFloat(f[2], 64)
				b.ReportMetric(rss/(1<<20), "MiB_rss_after_"+f[1])
			}
		}
	}
}
