//go:build unix && !linux

package sqsdispatch

import (
	"os/signal"
	"syscall"
	"time"
)

// raiseDefault resets sig's handling and sends it to this process.
func raiseDefault(sig syscall.Signal) {
	signal.Reset(sig)
	_ = syscall.Kill(syscall.Getpid(), sig)
	time.Sleep(raiseWait)
}
