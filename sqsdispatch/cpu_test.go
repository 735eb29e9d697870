package sqsdispatch_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
