package proc

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// DeathSignal is the signal the kernel sends a child when the thread that
// started it ends (its Pdeathsig). It is a real-time signal high in the
// range (SIGRTMIN+26 with glibc's SIGRTMIN of 34), which nobody else sends:
// a child handles it unconditionally as the order to kill its whole
// process group, whereas SIGTERM stays a request to stop the job.
const DeathSignal = syscall.Signal(60)

// ExePath is the path a child is re-executed from: the running binary
// itself, even if its file was replaced or removed since it started.
func ExePath() (string, error) { return "/proc/self/exe", nil }

// NameAfter gives this process the command name of the binary at path (what
// ps and top show). A child re-executed through /proc/self/exe would
// otherwise be called "exe". The kernel keeps the first 15 bytes.
func NameAfter(path string) {
	_ = os.WriteFile("/proc/self/comm", []byte(filepath.Base(path)), 0)
}

// SysProcAttr starts a child in its own process group and asks the kernel
// to send it DeathSignal when the thread that started it ends. The caller
// must start the child from a goroutine locked to its OS thread and keep
// it locked for the child's life.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: DeathSignal}
}

// BecomeSubreaper makes this process the reaper of its orphaned
// descendants: a descendant whose parent dies is re-parented here rather
// than to init, so that it can be killed and reaped.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// ParentAlive reports whether the parent with pid ppid is still this
// process's parent.
func ParentAlive(ppid int) bool { return os.Getppid() == ppid }

// WaitExited blocks until this process's child pid has exited, and leaves
// it unreaped: its pid, and so its process group's id, cannot be reused
// until it is waited for. It reports false when the platform cannot wait
// without reaping (never on Linux).
func WaitExited(pid int) (bool, error) {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			return true, err
		}
	}
}

// Exited reports whether this process's child pid has exited, without
// waiting and without reaping it.
func Exited(pid int) bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	return err == nil && info.Signo == int32(unix.SIGCHLD)
}
