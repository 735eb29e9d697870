package child_test

import (
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
)

// BenchmarkCheckpoint measures one checkpoint of 64 bytes from a job to
// its parent and the parent's answer: a child records b.N of them in a
// row. The child's start is timed apart and left out.
func BenchmarkCheckpoint(b *testing.B) {
	c, err := child.Start(child.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Release)
	started := time.Now()
	c.Send(job("checkpoint", jobSpec{Checkpoints: 1, Size: 64}), nil)
	<-c.Done() // warms the child path; its time is the start's cost
	startCost := time.Since(started)

	c2, err := child.Start(child.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c2.Release)
	b.ResetTimer()
	started = time.Now()
	c2.Send(job("checkpoint", jobSpec{Checkpoints: b.N, Size: 64}), nil)
	<-c2.Done()
	elapsed := time.Since(started) - startCost
	b.StopTimer()
	if _, n := c2.Checkpoint(); n != b.N {
		b.Fatalf("%d checkpoints arrived; want %d", n, b.N)
	}
	b.ReportMetric(float64(max(elapsed, 0).Microseconds())/float64(b.N), "µs/checkpoint")
}
