package sqsdispatch_test

// How each way a job can end decides its message's fate and the error the
// caller sees.

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestSuccessRunsOnceInAChildAndDeletes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{}, func(t *testing.T, b *bundle) {
		id := b.send("hello", nil)
		d := b.dispatcher(b.config("record"))

		handled, err := d.DispatchOne(b.ctx)
		if err != nil || !handled {
			t.Fatalf("DispatchOne = %v, %v; want true, nil", handled, err)
		}
		runs, err := os.ReadFile(outFile(id, "runs"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Fields(string(runs))
		if len(lines) != 1 {
			t.Fatalf("job ran %d times, want 1: %q", len(lines), runs)
		}
		if lines[0] == itoa(os.Getpid()) {
			t.Fatalf("job ran in the dispatcher's own process %s", lines[0])
		}
		if v, f := counts(t, b.ctx, b.q.URL); v != 0 || f != 0 {
			t.Fatalf("queue has %d visible and %d in-flight messages after success, want none", v, f)
		}
	})
}

func TestFailuresLeaveTheMessageForARetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		job   string
		check func(t *testing.T, err error)
	}{
		{"job error", "fail", func(t *testing.T, err error) {
			var je *sqsdispatch.JobError
			if !errors.As(err, &je) || je.Message != "boom" || je.Permanent || je.Job != "fail" {
				t.Fatalf("err = %v; want a retryable *JobError of job fail with message boom", err)
			}
		}},
		{"panic", "panic", func(t *testing.T, err error) {
			wpe := asWorkerError(t, err)
			if !strings.Contains(wpe.Reason, "kaboom") || !strings.Contains(wpe.Stack, "panic") || wpe.ExitCode != 1 {
				t.Fatalf("panic error = %+v; want reason with kaboom, a stack and exit code 1", wpe)
			}
		}},
		{"os.Exit(3)", "exit3", func(t *testing.T, err error) {
			wpe := asWorkerError(t, err)
			if wpe.ExitCode != 3 || !bytes.Contains(wpe.Stderr, []byte("about to exit with code 3")) {
				t.Fatalf("exit error = %+v (stderr %q); want exit code 3 and the stderr tail", wpe, wpe.Stderr)
			}
		}},
		{"os.Exit(0) without a result", "exit0", func(t *testing.T, err error) {
			wpe := asWorkerError(t, err)
			if wpe.ExitCode != 0 || !strings.Contains(wpe.Reason, "without reporting a result") {
				t.Fatalf("exit error = %+v; want exit code 0 reported as a failure", wpe)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
				id := b.send("x", nil)
				cfg := b.config(tt.job)
				cfg.VisibilityTimeout = 2 * time.Second
				handled, err := b.dispatcher(cfg).DispatchOne(b.ctx)
				if !handled {
					t.Fatal("no message handled")
				}
				tt.check(t, err)
				if !strings.HasPrefix(err.Error(), "sqsdispatch: ") {
					t.Errorf("error %q lacks the sqsdispatch: prefix", err)
				}
				msgs := receiveWithin(t, b.ctx, b.q.URL, 30*time.Second)
				if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != id {
					t.Fatalf("message did not come back after its visibility timeout: %v", msgs)
				}
				if rc := msgs[0].Attributes["ApproximateReceiveCount"]; rc != "2" {
					t.Fatalf("receive count = %s, want 2", rc)
				}
			})
		})
	}
}

// asWorkerError checks err is a *WorkerProcessError naming a child.
func asWorkerError(t *testing.T, err error) *sqsdispatch.WorkerProcessError {
	t.Helper()
	var wpe *sqsdispatch.WorkerProcessError
	if !errors.As(err, &wpe) {
		t.Fatalf("err = %v (%T); want *WorkerProcessError", err, err)
	}
	if wpe.PID <= 0 || wpe.PID == os.Getpid() {
		t.Fatalf("WorkerProcessError.PID = %d; want the child's pid", wpe.PID)
	}
	return wpe
}

func TestRetryAfterDelaysTheNextDelivery(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		id := b.send("x", nil)
		cfg := b.config("retry3s")
		cfg.VisibilityTimeout = time.Minute
		_, err := b.dispatcher(cfg).DispatchOne(b.ctx)
		failedAt := time.Now()
		var je *sqsdispatch.JobError
		if !errors.As(err, &je) || je.RetryAfter != 3*time.Second || je.Permanent {
			t.Fatalf("err = %v; want a *JobError with RetryAfter 3s", err)
		}
		// Invisible for at least the 3 s asked for (2 s of them measured from
		// after DispatchOne returned) ...
		for time.Since(failedAt) < 2*time.Second {
			if msgs := receive(t, b.ctx, b.q.URL, 1); len(msgs) > 0 {
				t.Fatalf("message visible again after %s; want 3s", time.Since(failedAt))
			}
		}
		// ... and back well before the one-minute visibility timeout.
		msgs := receiveWithin(t, b.ctx, b.q.URL, 40*time.Second)
		if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != id || msgs[0].Attributes["ApproximateReceiveCount"] != "2" {
			t.Fatalf("message did not come back with receive count 2 after the delay: %v", msgs)
		}
	})
}

func TestRetryPolicyAppliesToJobErrors(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5}, func(t *testing.T, b *bundle) {
		b.send("x", nil)
		cfg := b.config("fail")
		cfg.VisibilityTimeout = time.Minute
		cfg.Retry = sqsdispatch.ExponentialBackoff{Base: time.Second, Max: time.Minute}
		if _, err := b.dispatcher(cfg).DispatchOne(b.ctx); err == nil {
			t.Fatal("want the job's error")
		}
		// First failure: 1 s, not the one-minute visibility timeout.
		if msgs := receiveWithin(t, b.ctx, b.q.URL, 40*time.Second); len(msgs) != 1 {
			t.Fatal("message not back after the policy's 1 s delay")
		}
	})
}

func TestExponentialBackoffDelays(t *testing.T) {
	t.Parallel()
	b := sqsdispatch.ExponentialBackoff{Base: 2 * time.Second, Max: 30 * time.Second}
	want := []time.Duration{2, 4, 8, 16, 30, 30}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Second {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got, w*time.Second)
		}
	}
	if got := b.Delay(1000); got != 30*time.Second {
		t.Errorf("Delay(1000) = %s, want the cap", got)
	}
	jittered := sqsdispatch.ExponentialBackoff{Base: 2 * time.Second, Max: 30 * time.Second, Jitter: 0.5}
	for rc := 1; rc < 40; rc++ {
		full := b.Delay(rc)
		if got := jittered.Delay(rc); got < full/2 || got > full {
			t.Errorf("jittered Delay(%d) = %s, want within [%s, %s]", rc, got, full/2, full)
		}
	}
	def := sqsdispatch.ExponentialBackoff{}
	if def.Delay(1) != sqsdispatch.RetryBaseDefault || def.Delay(100) != sqsdispatch.RetryMaxDefault {
		t.Errorf("defaults: Delay(1) = %s, Delay(100) = %s", def.Delay(1), def.Delay(100))
	}
}

func TestLargeAndNonASCIIBodiesArriveByteForByte(t *testing.T) {
	t.Parallel()
	pattern := "ASCII, ünïcödé, Ελληνικά, 日本語, emoji-free BMP ☃ — "
	large := strings.ToValidUTF8(strings.Repeat(pattern, 256<<10/len(pattern)+1)[:256<<10], "")
	tests := []struct {
		name, body string
	}{
		{"256 KiB", large},
		{"short non-ASCII", "日本語のテキストと ☃ と ü"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachBackend(t, fauxqs.QueueSpec{}, func(t *testing.T, b *bundle) {
				id := b.send(tt.body, map[string]types.MessageAttributeValue{"bin": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 255}}})
				if _, err := b.dispatcher(b.config("record")).DispatchOne(b.ctx); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(outFile(id, "body"))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.body {
					t.Fatalf("job got %d bytes, want %d identical bytes", len(got), len(tt.body))
				}
				attrs, _ := os.ReadFile(outFile(id, "attrs"))
				if !bytes.Contains(attrs, []byte(`"BinaryValue":"AP8="`)) {
					t.Fatalf("binary attribute not delivered intact: %s", attrs)
				}
			})
		})
	}
}
