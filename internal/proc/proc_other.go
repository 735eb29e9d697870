//go:build unix && !linux

package proc

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// DeathSignal is 0 on this platform: the kernel cannot signal a child when
// its parent dies, so the child relies on its lifeline pipe.
const DeathSignal = syscall.Signal(0)

// ExePath is the path a child is re-executed from.
func ExePath() (string, error) { return os.Executable() }

// NameAfter is a no-op on this platform: a child is executed from the
// binary's own path and is named after it already.
func NameAfter(string) {}

// SysProcAttr starts a child in its own process group.
func SysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// BecomeSubreaper is a no-op on this platform.
func BecomeSubreaper() error { return nil }

// ParentAlive reports whether the parent with pid ppid is still this
// process's parent.
func ParentAlive(ppid int) bool { return os.Getppid() == ppid }

// WaitExited reports false: this platform's waiting reaps the child.
func WaitExited(int) (bool, error) { return false, nil }

// Exited reports false: this platform cannot look without reaping.
func Exited(int) bool { return false }

// Stat is what the process table says of one process.
type Stat struct {
	State byte
	PPID  int
	PGID  int
	Start uint64

	UTime, STime, CUTime, CSTime int64
}

// ReadStat is not available on this platform.
func ReadStat(int) (Stat, error) { return Stat{}, errors.ErrUnsupported }

// AwaitStop returns at once on this platform.
func AwaitStop(int, time.Duration) {}

// Children returns nothing on this platform.
func Children(int) []int { return nil }

// Descendants returns nothing on this platform.
func Descendants(int) []int { return nil }

// SignalDescendants is a no-op on this platform; the process group is
// signalled instead.
func SignalDescendants(syscall.Signal) {}

// KillDescendants is a no-op on this platform.
func KillDescendants() {}
