package sqsdispatchtest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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

// TestRunJobReadsPayloads runs a job on a message whose body points to a
// payload in an in-memory store: the job gets the payload, and the object
// is deleted once the job succeeded.
func TestRunJobReadsPayloads(t *testing.T) {
	t.Parallel()
	store := sqsdispatchtest.NewPayloadStore()
	store.Put("bucket", "greeting", []byte("hello, payload"))
	cfg := sqsdispatch.Config{Registry: testRegistry(), Job: "greeting", Payloads: store, DeletePayloads: true}
	out, err := sqsdispatchtest.RunJob(context.Background(), cfg,
		sqsdispatchtest.Message{Body: sqsdispatchtest.PayloadPointer("bucket", "greeting")})
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
		sqsdispatchtest.Message{Body: sqsdispatchtest.PayloadPointer("bucket", "gone")})
	if err != nil {
		t.Fatal(err)
	}
	if !out.DeadLettered {
		t.Errorf("outcome for a missing object = %v; want dead-lettered", out)
	}
}
