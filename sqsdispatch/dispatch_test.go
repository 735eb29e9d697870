package sqsdispatch_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestSuccessRunsOnceInAChildAndDeletes(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
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
	if lines[0] == "" || lines[0] == itoa(os.Getpid()) {
		t.Fatalf("job ran in pid %s, the dispatcher's own is %d", lines[0], os.Getpid())
	}
	if v, f := counts(t, b.ctx, b.q.URL); v != 0 || f != 0 {
		t.Fatalf("queue has %d visible and %d in-flight messages after success, want none", v, f)
	}
}

func TestHeartbeatKeepsALongJobsMessageFromOtherConsumers(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	id := b.send(`{"sleep": 6000000000}`, nil) // 3× the visibility timeout
	cfg := b.config("sleep")
	cfg.VisibilityTimeout = 2 * time.Second
	d := b.dispatcher(cfg)

	type result struct {
		handled bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		h, err := d.DispatchOne(b.ctx)
		done <- result{h, err}
	}()
	readPID(t, id, "pid", 10*time.Second) // the job runs: now try to steal its message
	var stolen atomic.Int32
	var res result
	for polling := true; polling; {
		for _, m := range receive(t, b.ctx, b.q.URL, 1) {
			stolen.Add(1)
			t.Errorf("second consumer received message %s while its job ran", aws.ToString(m.MessageId))
		}
		select {
		case res = <-done:
			polling = false
		default:
		}
	}
	if res.err != nil || !res.handled {
		t.Fatalf("DispatchOne = %v, %v; want true, nil", res.handled, res.err)
	}
	if _, err := os.Stat(outFile(id, "runs")); err != nil {
		t.Fatalf("job did not complete: %v", err)
	}
	if v, f := counts(t, b.ctx, b.q.URL); v != 0 || f != 0 || stolen.Load() != 0 {
		t.Fatalf("after the job: %d visible, %d in flight, %d stolen; want 0, 0, 0", v, f, stolen.Load())
	}
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
			if !errors.As(err, &je) || je.Message != "boom" || je.Permanent {
				t.Fatalf("err = %v; want a retryable *JobError with message boom", err)
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
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
			id := b.send("x", nil)
			cfg := b.config(tt.job)
			cfg.VisibilityTimeout = 2 * time.Second
			handled, err := b.dispatcher(cfg).DispatchOne(b.ctx)
			if !handled {
				t.Fatal("no message handled")
			}
			tt.check(t, err)
			msgs := receiveWithin(t, b.ctx, b.q.URL, 10*time.Second)
			if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != id {
				t.Fatalf("message did not come back after its visibility timeout: %v", msgs)
			}
			if rc := msgs[0].Attributes["ApproximateReceiveCount"]; rc != "2" {
				t.Fatalf("receive count = %s, want 2", rc)
			}
		})
	}
}

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

func TestPermanentMovesToTheDLQByteForByte(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	body := "çà et là — 東京 ✓ tab\tnewline\n"
	bin := []byte{0, 1, 2, 0xff, 0xfe, 'x'}
	attrs := map[string]types.MessageAttributeValue{
		"kind": strAttr("téléchargement"),
		"blob": {DataType: aws.String("Binary"), BinaryValue: bin},
	}
	b.send(body, attrs)

	handled, err := b.dispatcher(b.config("permanent")).DispatchOne(b.ctx)
	var je *sqsdispatch.JobError
	if !handled || !errors.As(err, &je) || !je.Permanent {
		t.Fatalf("DispatchOne = %v, %v; want a permanent *JobError", handled, err)
	}
	msgs := receiveWithin(t, b.ctx, b.q.DLQURL, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("DLQ has %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if aws.ToString(m.Body) != body {
		t.Fatalf("DLQ body = %q, want %q", aws.ToString(m.Body), body)
	}
	if got := m.MessageAttributes["blob"].BinaryValue; !bytes.Equal(got, bin) {
		t.Fatalf("binary attribute = %v, want %v", got, bin)
	}
	if got := aws.ToString(m.MessageAttributes["kind"].StringValue); got != "téléchargement" {
		t.Fatalf("string attribute = %q", got)
	}
	if got := aws.ToString(m.MessageAttributes[sqsdispatch.AttrReason].StringValue); got != "bad input" {
		t.Fatalf("reason attribute = %q, want %q", got, "bad input")
	}
	if v, f := counts(t, b.ctx, b.q.URL); v != 0 || f != 0 {
		t.Fatalf("source queue still has %d visible, %d in flight", v, f)
	}
}

func TestPermanentWithoutRedrivePolicyLeavesTheMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	b.send("x", nil)
	_, err := b.dispatcher(b.config("permanent")).DispatchOne(b.ctx)
	if !errors.Is(err, sqsdispatch.ErrNoRedrivePolicy) {
		t.Fatalf("err = %v; want ErrNoRedrivePolicy", err)
	}
	if v, f := counts(t, b.ctx, b.q.URL); v+f != 1 {
		t.Fatalf("message gone from the source queue (%d visible, %d in flight)", v, f)
	}
}

func TestLargeAndNonASCIIBodiesArriveByteForByte(t *testing.T) {
	t.Parallel()
	pattern := "ASCII, ünïcödé, Ελληνικά, 日本語, emoji-free BMP ☃ — "
	large := strings.Repeat(pattern, 256<<10/len(pattern)+1)[:256<<10]
	for len(large) > 0 && !utf8Valid(large) {
		large = large[:len(large)-1]
	}
	for _, body := range []string{large, "日本語のテキストと ☃ と ü"} {
		b := setup(t, fauxqs.QueueSpec{})
		id := b.send(body, map[string]types.MessageAttributeValue{"bin": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 255}}})
		if _, err := b.dispatcher(b.config("record")).DispatchOne(b.ctx); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(outFile(id, "body"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != body {
			t.Fatalf("job got %d bytes, want %d identical bytes", len(got), len(body))
		}
		attrs, _ := os.ReadFile(outFile(id, "attrs"))
		if !bytes.Contains(attrs, []byte(`"BinaryValue":"AP8="`)) {
			t.Fatalf("binary attribute not delivered intact: %s", attrs)
		}
	}
}
