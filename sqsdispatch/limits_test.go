package sqsdispatch_test

// Per-job limits: a job over its memory limit is killed and fails like a
// crashed job.

import (
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

func TestMaxRSSStopsTheJob(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	id := b.send("hog", nil)
	cfg := b.config("hog")
	cfg.VisibilityTimeout, cfg.MemorySampleInterval = 2*time.Second, 250*time.Millisecond
	// The job would wait a minute past its limit: only the kill ends it
	// sooner.
	done := make(chan error, 1)
	go func() { _, err := b.dispatcher(cfg).DispatchOne(b.ctx); done <- err }()
	wpe := asWorkerError(t, wait(t, done, 50*time.Second, "DispatchOne to stop the job"))
	if !strings.Contains(wpe.Reason, "MaxRSS of 104857600 bytes") {
		t.Fatalf("reason %q does not name the limit", wpe.Reason)
	}
	if fileSize(outFile(id, "over")) <= 0 {
		t.Fatal("the job was stopped before it neared its limit")
	}
	msgs := receiveWithin(t, b.ctx, b.q.URL, 30*time.Second)
	if len(msgs) != 1 || msgs[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatal("the message did not follow the error path (back after its visibility timeout)")
	}
}
