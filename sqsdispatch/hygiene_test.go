package sqsdispatch_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestGrandchildrenAreKilledAndReaped(t *testing.T) {
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
			for _, name := range []string{"pid", "grandchild"} {
				pid := readPID(t, id, name, time.Second)
				if exists(pid) {
					t.Errorf("%s %d still exists after DispatchOne returned", name, pid)
				}
			}
		})
	}
}

func TestChildDiesWithAKilledDispatcher(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	id := b.send(`{"sleep": 600000000000}`, nil)
	p := startDispatcherProcess(t, procConfig{Queue: b.q.URL, Job: "grandchild", Visibility: 30 * time.Second})
	child := readPID(t, id, "pid", 30*time.Second)
	grandchild := readPID(t, id, "grandchild", time.Second)

	if err := syscall.Kill(p.pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 5*time.Second)
	waitFor(t, 2*time.Second, "the job's process to die with its dispatcher", func() bool { return !running(child) })
	waitFor(t, 2*time.Second, "the job's grandchild to die with its dispatcher", func() bool { return !running(grandchild) })
}

func TestChildStartedByHandRefuses(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SQSDISPATCH_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v; want exit code 2 (output %q)", err, out)
	}
	if !strings.Contains(string(out), "cannot be started by hand") {
		t.Fatalf("output %q does not say why it refused", out)
	}
}

// lostLease is a client whose heartbeats find the receipt handle invalid.
type lostLease struct{ sqsdispatch.Client }

func (lostLease) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid"),
			Message: aws.String("The input receipt handle is invalid."), SenderFault: true})
	}
	return out, nil
}

func TestLostLeaseStopsTheChild(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	id := b.send(`{"sleep": 600000000000}`, nil)
	cfg := b.config("grandchild")
	cfg.Client = lostLease{client}
	cfg.VisibilityTimeout, cfg.HeartbeatInterval = 10*time.Second, 200*time.Millisecond
	start := time.Now()
	_, err := b.dispatcher(cfg).DispatchOne(b.ctx)
	var de *sqsdispatch.DispatcherError
	if !errors.As(err, &de) || !errors.Is(err, sqsdispatch.ErrLeaseLost) {
		t.Fatalf("err = %v; want a *DispatcherError wrapping ErrLeaseLost", err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("the job was stopped only after %s", took)
	}
	for _, name := range []string{"pid", "grandchild"} {
		if pid := readPID(t, id, name, time.Second); exists(pid) {
			t.Errorf("%s %d still exists after the lease was lost", name, pid)
		}
	}
}

func TestChildIsNamedAfterTheBinary(t *testing.T) {
	t.Parallel()
	_, _, pid, done := sleepingJob(t)
	comm, err := os.ReadFile("/proc/" + itoa(pid) + "/comm")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.ReadFile("/proc/self/comm")
	if string(comm) != string(self) {
		t.Errorf("child %d is named %q in the process table; want %q like its parent", pid, comm, self)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
