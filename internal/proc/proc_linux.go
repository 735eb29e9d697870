package proc

import (
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

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
// to send it SIGTERM when the thread that started it ends. The child
// treats a SIGTERM that arrives after its parent died as the order to kill
// its whole group. The caller must start the child from a goroutine locked
// to its OS thread and keep it locked for the child's life.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// BecomeSubreaper makes this process the reaper of its orphaned
// descendants, so a job's grandchildren are re-parented here (and reaped by
// ReapGroup) rather than left as zombies under an init that does not reap.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// ParentAlive reports whether the parent with pid ppid is still this
// process's parent.
func ParentAlive(ppid int) bool { return os.Getppid() == ppid }
