// Package fauxqstest holds what the tests of the local SQS server, and of
// the commands that start it, need around it: a free port to start it on,
// and a wait for its process to be gone.
package fauxqstest

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// FreePort returns a port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitGone waits, for up to a minute, until the process pid has exited:
// it is gone, or a zombie, which runs nothing and which its parent reaps.
func WaitGone(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return
		}
		if st, err := proc.ReadStat(pid); err == nil && st.State == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still there a minute on", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
