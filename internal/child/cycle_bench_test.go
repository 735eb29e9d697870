package child_test

import (
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// cycleRequest is a job that does nothing: the cycle is all machinery.
func cycleRequest(reuse bool) wire.Request {
	return wire.Request{Mode: wire.ModeRun, Job: "ok", Message: wire.Message{ID: "m", Body: "{}"}, Reuse: reuse}
}

// reportCycle reports the time per job and the jobs per second.
func reportCycle(b *testing.B, elapsed time.Duration) {
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/job")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
}

// BenchmarkChildCycle runs one job in a fresh child, with no SQS: start
// a child, send it its request, read its result, release it.
func BenchmarkChildCycle(b *testing.B) {
	log := zap.NewNop()
	start := time.Now()
	for b.Loop() {
		c, err := child.Spawn(cycleRequest(false), child.Options{Log: log})
		if err != nil {
			b.Fatal(err)
		}
		<-c.Done()
		c.Release()
		if r := c.Result(); r == nil || r.Kind != wire.KindOK {
			b.Fatalf("result %+v, exit %v", r, c.State())
		}
	}
	reportCycle(b, time.Since(start))
}

// BenchmarkReusedChildCycle runs one job in a kept process, as
// BenchmarkChildCycle does in a fresh one: send the request, read the
// result, keep the process. The process's start is left out.
func BenchmarkReusedChildCycle(b *testing.B) {
	log := zap.NewNop()
	c, err := child.Spawn(cycleRequest(true), child.Options{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	<-c.Done()
	p, ok := c.Keep()
	if !ok {
		b.Fatalf("the first job's process was not kept: %+v", c.Result())
	}
	b.Cleanup(p.Retire)
	c.Release()
	start := time.Now()
	for b.Loop() {
		c := nextJob(p, cycleRequest(true), log)
		<-c.Done()
		if _, ok := c.Keep(); !ok {
			b.Fatalf("the process was not kept: %+v, exit %v", c.Result(), c.State())
		}
		c.Release()
	}
	reportCycle(b, time.Since(start))
}
