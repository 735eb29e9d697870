package stop

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// TestNewRegistersSignalsSynchronously sends the stop signal to the
// calling thread itself the moment New returns. The kernel runs the
// signal handler before tgkill returns, so the runtime decides then,
// before any other goroutine can run, whether the signal is wanted: if New
// had left signal.Notify to a goroutine, SIGHUP's default action (as
// SIGTERM's) would end the test process here.
func TestNewRegistersSignalsSynchronously(t *testing.T) {
	var log signalLog
	runtime.LockOSThread()
	s := newStopper(t, context.Background(), Config{Signals: []os.Signal{syscall.SIGHUP}, OnSignal: log.record})
	err := syscall.Tgkill(os.Getpid(), syscall.Gettid(), syscall.SIGHUP)
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatalf("tgkill: %v", err)
	}
	waitClosed(t, s.Stopping(), "Stopping")
	log.waitCount(t, 1)
	if got := s.Signal(); got != syscall.SIGHUP {
		t.Errorf("Signal() = %v, want %v", got, syscall.SIGHUP)
	}
}
