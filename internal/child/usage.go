package child

import (
	"runtime"
	"syscall"
	"time"
)

// Usage is a finished child's resource use, from its rusage.
type Usage struct {
	PeakRSS int64 // bytes
	User    time.Duration
	System  time.Duration
}

// Usage returns the child's resource use. Call it after Done is closed.
func (c *Child) Usage() Usage {
	if c.state == nil {
		return Usage{}
	}
	ru, ok := c.state.SysUsage().(*syscall.Rusage)
	if !ok {
		return Usage{}
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" { // kilobytes elsewhere
		rss *= 1024
	}
	return Usage{PeakRSS: rss, User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano())}
}
