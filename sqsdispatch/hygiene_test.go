package sqsdispatch_test

// Process hygiene: nothing a job started outlives it or its dispatcher,
// children are reaped, and a child cannot be started by hand.

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// TestGrandchildrenAreKilled: whether the job returns or is stopped for
// its timeout, its process is reaped and what it started is killed.
// Without Config.Subreaper a killed grandchild is re-parented to init,
// which may not reap it here, so only "not running" is checked for it.
func TestGrandchildrenAreKilled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, job, body string
		wantErr         bool
	}{
		{"job returns while its grandchild runs", "grandchild", `{"sleep": 0}`, false},
		{"job runs past its timeout", "grandchild-timeout", `{"sleep": 600000000000}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
			id := b.send(tt.body, nil)
			cfg := b.config(tt.job)
			cfg.KillGrace = 500 * time.Millisecond
			_, err := b.dispatcher(cfg).DispatchOne(b.ctx)
			if tt.wantErr {
				wpe := asWorkerError(t, err)
				if !strings.Contains(wpe.Reason, "timeout") || wpe.Signal != syscall.SIGKILL {
					t.Fatalf("err = %v; want a timeout ended by SIGKILL", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if pid := readPID(t, id, "pid"); exists(pid) {
				t.Errorf("the job's process %d was not reaped", pid)
			}
			assertDies(t, readPID(t, id, "grandchild"), "the job's grandchild")
		})
	}
}

// TestSubreaperReapsOrphans: with Config.Subreaper, the grandchild of a
// job killed for its timeout is re-parented to the dispatcher and reaped
// by Run.
func TestSubreaperReapsOrphans(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send(`{"sleep": 600000000000}`, nil)
	cfg := b.config("grandchild-timeout")
	cfg.KillGrace, cfg.MaxJobs, cfg.Subreaper = 500*time.Millisecond, 1, true
	if err := b.dispatcher(cfg).Run(b.ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired after the one job", err)
	}
	for _, name := range []string{"pid", "grandchild"} {
		if pid := readPID(t, id, name); exists(pid) {
			t.Errorf("%s %d was not reaped by the time Run returned (running: %t)", name, pid, running(pid))
		}
	}
}

func TestChildDiesWithAKilledDispatcher(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	id := b.send(`{"sleep": 600000000000}`, nil)
	p := startDispatcherProcess(t, procConfig{Queue: b.q.URL, Job: "grandchild", Visibility: 30 * time.Second})
	child := readPID(t, id, "pid")
	grandchild := readPID(t, id, "grandchild")

	p.signal(t, syscall.SIGKILL)
	p.wait(t, time.Minute)
	waitFor(t, time.Minute, "the job's process to die with its dispatcher", func() bool { return !running(child) })
	waitFor(t, time.Minute, "the job's grandchild to die with its dispatcher", func() bool { return !running(grandchild) })
}

func TestChildStartedByHandRefuses(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), wire.EnvChild+"="+strconv.Itoa(wire.Version))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v; want exit code 2 (output %q)", err, out)
	}
	if !strings.Contains(string(out), "cannot be started by hand") {
		t.Fatalf("output %q does not say why it refused", out)
	}
}

// TestNewInAJobChildExits: a job child whose main reaches New without
// calling Init first must not dispatch (and start children of its own).
func TestNewInAJobChildExits(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), wire.EnvChild+"="+strconv.Itoa(wire.Version), envNewInChild+"=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v; want exit code 2 (output %q)", err, out)
	}
	if !strings.Contains(string(out), "sqsdispatch.Init") {
		t.Fatalf("output %q does not tell to call Init", out)
	}
}

func TestChildIsNamedAfterTheBinary(t *testing.T) {
	t.Parallel()
	h := holdJob(t)
	comm, err := os.ReadFile("/proc/" + itoa(h.pid) + "/comm")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.ReadFile("/proc/self/comm")
	if string(comm) != string(self) {
		t.Errorf("child %d is named %q in the process table; want %q like its parent", h.pid, comm, self)
	}
	if err := h.finish(t); err != nil {
		t.Fatal(err)
	}
}
