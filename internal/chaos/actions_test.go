//go:build linux

package chaos

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

// stoppedGrandchild starts sh with a sleeping child, stops the sleep with
// SIGSTOP and returns sh, the sleep as seen then, and the sleep's pidfd.
func stoppedGrandchild(t *testing.T) (*exec.Cmd, proctab.Proc, int) {
	t.Helper()
	sh := exec.Command("sh", "-c", "sleep 30 & echo $!; wait")
	stdout, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	var line []byte
	for b := make([]byte, 1); !strings.HasSuffix(string(line), "\n"); line = append(line, b[0]) {
		if _, err := io.ReadFull(stdout, b); err != nil {
			t.Fatal(err)
		}
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(line)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := proctab.Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = sh.Process.Kill()
		_ = sh.Wait()
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, 0, nil) // adopted once sh is gone
	})
	fd, ok := signalProc(p, syscall.SIGSTOP)
	if !ok {
		t.Fatal("SIGSTOP not sent")
	}
	waitFor(t, "the sleep to stop", func() bool {
		q, err := proctab.Stat(pid)
		return err == nil && q.State == 'T'
	})
	return sh, p, fd
}

func TestResume(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Run("parent alive: resumed", func(t *testing.T) {
		_, p, fd := stoppedGrandchild(t)
		c := newChaos(1, nil, nil, IntervalDefault, io.Discard)
		c.resume(fd, p)
		waitFor(t, "the sleep to run again", func() bool {
			q, err := proctab.Stat(p.PID)
			return err == nil && q.State != 'T'
		})
		if c.counts[ActionResumedOrphan] != 0 {
			t.Errorf("counts %v", c.counts)
		}
	})
	t.Run("parent dead: resumed and counted", func(t *testing.T) {
		sh, p, fd := stoppedGrandchild(t)
		_ = sh.Process.Kill()
		_ = sh.Wait()
		waitFor(t, "the sleep to be re-parented", func() bool {
			q, err := proctab.Stat(p.PID)
			return err == nil && q.PPID == os.Getpid()
		})
		c := newChaos(1, nil, nil, IntervalDefault, io.Discard)
		c.resume(fd, p)
		waitFor(t, "the orphan to run again", func() bool {
			q, err := proctab.Stat(p.PID)
			return err == nil && q.State != 'T'
		})
		if c.counts[ActionResumedOrphan] != 1 {
			t.Errorf("counts %v", c.counts)
		}
	})
}
