package sqsdispatchtest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// TestRunJobContinuesFromACheckpoint runs a job that resumes from the
// message's checkpoint and records the next one, and stops it: the
// message is continued with the job's checkpoint.
func TestRunJobContinuesFromACheckpoint(t *testing.T) {
	t.Parallel()
	started := filepath.Join(t.TempDir(), "started")
	out, err := sqsdispatchtest.RunJob(context.Background(), sqsdispatch.Config{Registry: testRegistry(), Job: "resume"},
		sqsdispatchtest.Message{Body: started, Checkpoint: []byte("4")},
		sqsdispatchtest.StopWhen(func() bool { _, err := os.Stat(started); return err == nil }))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Continued || out.Checkpoint != "5" {
		t.Errorf("outcome = %v; want continued from checkpoint 5", out)
	}
}

// Message.Runs makes the message a later run of its job: the job sees the
// run count, and a count past the queue's maxReceiveCount is
// dead-lettered without running the job.
func TestRunJobRuns(t *testing.T) {
	t.Parallel()
	full := strings.Repeat("c", sqsdispatch.MaxCheckpointBytes)
	tests := []struct {
		name       string
		msg        sqsdispatchtest.Message
		wantReason string // the start of the dead-letter reason
	}{
		{name: "a first run by default", msg: sqsdispatchtest.Message{Body: "x"},
			wantReason: `runs=1 receives=1 checkpoint=""`},
		{name: "a resumed second run", msg: sqsdispatchtest.Message{Body: "x", Checkpoint: []byte("4"), Runs: 2},
			wantReason: `runs=2 receives=1 checkpoint="4"`},
		{name: "a later run without a checkpoint", msg: sqsdispatchtest.Message{Body: "x", ReceiveCount: 2, Runs: 4},
			wantReason: `runs=4 receives=2 checkpoint=""`},
		{name: "a checkpoint as large as a job may record", msg: sqsdispatchtest.Message{Body: "x", Checkpoint: []byte(full), Runs: 2},
			wantReason: `runs=2 receives=1 checkpoint="ccc`},
		{name: "runs past maxReceiveCount", msg: sqsdispatchtest.Message{Body: "x", Checkpoint: []byte("4"), Runs: 6},
			wantReason: "sqsdispatch: the job has run 6 times across the messages that continue it, more than the queue's maxReceiveCount of 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := sqsdispatchtest.RunJob(t.Context(), sqsdispatch.Config{Registry: testRegistry(), Job: "runs"}, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !out.DeadLettered || !strings.HasPrefix(out.Reason, tt.wantReason) {
				t.Errorf("outcome = %v; want dead-lettered with a reason starting %q", out, tt.wantReason)
			}
		})
	}
}

// TestRunJobReadsPayloads runs a job on a message whose body points to a
// payload in an in-memory store: the job gets the payload, and the object
// is deleted once the job succeeded.
func TestRunJobReadsPayloads(t *testing.T) {
	t.Parallel()
	store := greetingStore()
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "greeting", Payloads: store, DeletePayloads: true}
	out, err := sqsdispatchtest.RunJob(context.Background(), cfg,
		greetingMessage(""))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Deleted || out.Err != nil {
		t.Errorf("outcome = %v (%v); want deleted", out, out.Err)
	}
	if store.Has("bucket", "greeting") {
		t.Error("the payload object is still in the store")
	}
	out, err = sqsdispatchtest.RunJob(context.Background(), cfg,
		sqsdispatchtest.PayloadMessage("bucket", "gone", 1))
	if err != nil {
		t.Fatal(err)
	}
	if !out.DeadLettered {
		t.Errorf("outcome for a missing object = %v; want dead-lettered", out)
	}
}

// TestRunJobPayloadReachesTheCleanup stops a job whose message points to
// a payload: its Cleanup gets the payload too.
func TestRunJobPayloadReachesTheCleanup(t *testing.T) {
	t.Parallel()
	store := greetingStore()
	out := filepath.Join(t.TempDir(), "out")
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "payload-hang", Payloads: store}
	res, err := sqsdispatchtest.RunJob(context.Background(), cfg,
		greetingMessage(out),
		sqsdispatchtest.StopWhen(func() bool { return jobWrote(out) }))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !res.GivenBack || string(got) != "job: hello, payload\ncleanup: hello, payload\n" {
		t.Errorf("outcome %v, the job and its cleanup saw %q; want both given the payload", res, got)
	}
}

// TestRunJobRefusesOversizedPayloads dead-letters a message whose payload
// is larger than MaxPayloadBytes, without running its job.
func TestRunJobRefusesOversizedPayloads(t *testing.T) {
	t.Parallel()
	store := greetingStore()
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "greeting", Payloads: store, MaxPayloadBytes: 5}
	out, err := sqsdispatchtest.RunJob(context.Background(), cfg,
		greetingMessage(""))
	if err != nil {
		t.Fatal(err)
	}
	if !out.DeadLettered || !strings.Contains(out.Reason, "too large") || !errors.Is(out.Err, sqsdispatch.ErrPayloadTooLarge) {
		t.Errorf("outcome %v (%v); want dead-lettered as too large", out, out.Err)
	}
}

// TestRunJobCleanupWithoutItsPayload: when the payload cannot be fetched
// again for the Cleanup, the job is killed without one and the message is
// left to its visibility, not dead-lettered.
func TestRunJobCleanupWithoutItsPayload(t *testing.T) {
	t.Parallel()
	store := greetingStore()
	out := filepath.Join(t.TempDir(), "out")
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "payload-hang", Payloads: store}
	res, err := sqsdispatchtest.RunJob(context.Background(), cfg,
		greetingMessage(out),
		sqsdispatchtest.StopWhen(func() bool {
			if !jobWrote(out) {
				return false
			}
			_ = store.DeletePayload(context.Background(), "bucket", "greeting")
			return true
		}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !res.Left || string(got) != "job: hello, payload\n" || !errors.Is(res.Err, sqsdispatch.ErrPayloadNotFound) {
		t.Errorf("outcome %v (%v), files %q; want left, the job run, no cleanup", res, res.Err, got)
	}
}

// TestRunJobSecondCleanupWithoutItsPayload: when the payload cannot be
// fetched for the second cleanup, after the first failed, the message is
// dead-lettered, as after any second failed cleanup.
func TestRunJobSecondCleanupWithoutItsPayload(t *testing.T) {
	t.Parallel()
	store := greetingStore()
	out := filepath.Join(t.TempDir(), "out")
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "payload-cleanup-fails", Payloads: store}
	done := make(chan struct{})
	go func() { // once the first cleanup runs, the payload goes
		defer close(done)
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(out + ".cleanup1"); err == nil {
				_ = store.DeletePayload(context.Background(), "bucket", "greeting")
				_ = os.WriteFile(out+".go", nil, 0o644)
				return
			}
		}
	}()
	res, err := sqsdispatchtest.RunJob(context.Background(), cfg,
		greetingMessage(out),
		sqsdispatchtest.StopWhen(func() bool { return jobWrote(out) }))
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out + ".cleanup2"); err == nil {
		t.Error("the second cleanup ran without its payload")
	}
	if !res.DeadLettered || !strings.Contains(res.Reason, "payload could not be fetched") {
		t.Errorf("outcome %v; want dead-lettered for want of the payload", res)
	}
}

// jobWrote reports whether the payload jobs wrote their whole line to
// out.
func jobWrote(out string) bool {
	b, _ := os.ReadFile(out)
	return strings.HasSuffix(string(b), "\n")
}

// greeting is the payload greetingStore holds.
const greeting = "hello, payload"

// greetingStore is an in-memory store, built with opts, that holds
// greeting as the object bucket/greeting.
func greetingStore(opts ...sqsdispatchtest.PayloadStoreOption) *sqsdispatchtest.PayloadStore {
	store := sqsdispatchtest.NewPayloadStore(opts...)
	store.Put("bucket", "greeting", []byte(greeting))
	return store
}

// greetingMessage points to bucket/greeting; its attribute "out", when
// out is set, names the file the payload jobs write to.
func greetingMessage(out string) sqsdispatchtest.Message {
	m := sqsdispatchtest.PayloadMessage("bucket", "greeting", int64(len(greeting)))
	if out != "" {
		m.Attributes["out"] = attr(out)
	}
	return m
}
