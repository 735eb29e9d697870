//go:build unix && !linux

package proc

import (
	"os"
	"syscall"
)

// ExePath is the path a child is re-executed from.
func ExePath() (string, error) { return os.Executable() }

// NameAfter is a no-op on this platform: a child is executed from the
// binary's own path and is named after it already.
func NameAfter(string) {}

// SysProcAttr starts a child in its own process group. Without Pdeathsig on
// this platform, the child relies on its lifeline pipe to notice that its
// parent is gone.
func SysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// BecomeSubreaper is a no-op on this platform.
func BecomeSubreaper() error { return nil }

// ParentAlive reports whether the parent with pid ppid is still this
// process's parent.
func ParentAlive(ppid int) bool { return os.Getppid() == ppid }
