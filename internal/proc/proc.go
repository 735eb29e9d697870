//go:build unix

// Package proc holds the process-group and platform machinery behind the
// dispatcher's children: how a child is started, signalled, suspended,
// killed and reaped, and how a process finds and kills its descendants.
package proc

import (
	"errors"
	"syscall"
	"time"
)

// SignalGroup sends sig to every process in the process group pgid. A group
// that no longer exists is not an error.
func SignalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return errors.New("proc: refusing to signal process group <= 1")
	}
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// GroupExists reports whether any process is left in process group pgid.
func GroupExists(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}

// KillOwnGroup kills the calling process's whole process group, itself
// included. A child calls it when its parent is gone.
func KillOwnGroup() {
	_ = syscall.Kill(0, syscall.SIGKILL)
}

// ReapGroup waits for the children of this process that are left in process
// group pgid (grandchildren of a job that were re-parented here because this
// process is a child subreaper) until none is left or the deadline passes.
// The group's leader must have been waited for already.
func ReapGroup(pgid int, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil: // ECHILD: nothing of ours left in the group
			return
		case pid > 0:
			continue
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
