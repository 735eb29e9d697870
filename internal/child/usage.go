package child

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// Usage is a job's resource use.
type Usage struct {
	PeakRSS int64 // bytes
	User    time.Duration
	System  time.Duration
}

// cpuTimes is a process's CPU time so far, its reaped descendants'
// included.
type cpuTimes struct {
	user, sys time.Duration
}

// jobEnd is what was measured of a process as a job left it.
type jobEnd struct {
	cpu    cpuTimes
	cpuOK  bool
	peak   int64 // the process's resident high-water mark, bytes
	peakOK bool
}

// Usage returns the job's resource use. Call it after Done is closed.
//
// A process's only job (it exited during its first job) is measured from
// the process's rusage, as a whole: CPU time and peak resident memory of
// the process and of its descendants, start-up included.
//
// Otherwise (Linux only; elsewhere Usage is zero but for a process's only
// job) the CPU time is that of the process and the descendants it reaped,
// from the first job's start or, for a later job, from when this job was
// sent, to when its result was read (or, when the process exited during
// the job, to its rusage). It is counted in the kernel's clock ticks of
// 10 ms. The peak is the process's own resident high-water mark (VmHWM)
// when the result was read, after it was reset (clear_refs) when this job
// was sent; the peaks of the job's descendants are not in it (Watch
// samples the whole tree). Where the reset was refused, the peak is the
// process's since it started, earlier jobs included; when the process
// exited before its result was read, it is its rusage's, which also
// covers earlier jobs.
func (c *Child) Usage() Usage {
	c.mu.Lock()
	seq, cpu0, end, state := c.seq, c.cpu0, c.end, c.state
	c.mu.Unlock()
	if state != nil {
		u := rusageOf(state)
		if seq <= 1 {
			return u
		}
		u.User, u.System = max(u.User-cpu0.user, 0), max(u.System-cpu0.sys, 0)
		if end.peakOK {
			u.PeakRSS = end.peak
		}
		return u
	}
	var u Usage
	if end.cpuOK {
		u.User, u.System = max(end.cpu.user-cpu0.user, 0), max(end.cpu.sys-cpu0.sys, 0)
	}
	if end.peakOK {
		u.PeakRSS = end.peak
	}
	return u
}

// rusageOf is the resource use in a reaped process's rusage.
func rusageOf(state *os.ProcessState) Usage {
	ru, ok := state.SysUsage().(*syscall.Rusage)
	if !ok {
		return Usage{}
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" { // kilobytes elsewhere
		rss *= 1024
	}
	return Usage{PeakRSS: rss, User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano())}
}

// measureEnd measures the process pid as a job leaves it.
func measureEnd(pid int) jobEnd {
	var e jobEnd
	e.cpu, e.cpuOK = readCPUOK(pid)
	e.peak, e.peakOK = readPeak(pid)
	return e
}

// readCPU is readCPUOK's times, zero when they cannot be read.
func readCPU(pid int) cpuTimes {
	t, _ := readCPUOK(pid)
	return t
}
