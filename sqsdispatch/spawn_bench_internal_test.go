package sqsdispatch

import (
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// BenchmarkChildCycle runs the child machinery alone, with no SQS: start a
// child, hand it a no-op job, read its result, wait for it and release it.
// It reports the CPU this process and the child spend per cycle; compare
// with BenchmarkReexecBare, a plain exec of the same binary.
func BenchmarkChildCycle(b *testing.B) {
	log := zap.NewNop()
	req := wire.Request{Magic: wire.Magic, Version: wire.Version, Mode: wire.ModeRun, Job: "noop", Message: wire.Message{ID: "m", Body: "{}"}}
	self, children := rusageCPU(syscall.RUSAGE_SELF), rusageCPU(syscall.RUSAGE_CHILDREN)
	for b.Loop() {
		c, err := startChild(log)
		if err != nil {
			b.Fatal(err)
		}
		c.send(req, log)
		<-c.done
		c.release()
		if c.res == nil || c.res.Kind != wire.KindOK {
			b.Fatalf("child result %+v, state %v", c.res, c.state)
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(per(rusageCPU(syscall.RUSAGE_SELF)-self), "parent_cpu_µs/op")
	b.ReportMetric(per(rusageCPU(syscall.RUSAGE_CHILDREN)-children), "child_cpu_µs/op")
}

func rusageCPU(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
