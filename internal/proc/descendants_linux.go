package proc

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Children returns the pids of the children of process pid (0: this
// process), read from /proc/<pid>/task/*/children.
func Children(pid int) []int {
	dir := "/proc/self/task"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid) + "/task"
	}
	tasks, _ := filepath.Glob(dir + "/*/children")
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// Descendants returns the descendants of process pid (0: this process),
// parents before their children, found through the processes' children
// lists rather than a scan of the whole process table.
func Descendants(pid int) []int {
	var out []int
	queue := Children(pid)
	seen := make(map[int]bool)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		queue = append(queue, Children(p)...)
	}
	return out
}

// SignalDescendants sends sig to every descendant of this process it finds
// (Descendants), without waiting for any.
func SignalDescendants(sig syscall.Signal) {
	for _, p := range Descendants(0) {
		_ = syscall.Kill(p, sig)
	}
}

// KillDescendants kills every descendant of this process with SIGKILL and
// reaps them, until this process has no child left. The process must be a
// child subreaper (BecomeSubreaper), so that the children of a killed
// process are re-parented to it and found by the next round. When no child
// is left it costs one wait4 call.
func KillDescendants() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil: // ECHILD: nothing left
			return
		case pid > 0:
			continue
		}
		// Live children: kill the whole tree, then wait for one to end.
		ds := Descendants(0)
		for _, p := range ds {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		if len(ds) == 0 {
			// The table did not show them yet (a re-parenting in flight).
			time.Sleep(time.Millisecond)
			continue
		}
		for {
			_, err := unix.Wait4(-1, &ws, unix.WALL, nil)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
	}
}
