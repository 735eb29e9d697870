package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// gateBody is the body of the lifecycle jobs: where to write their ledger
// lines, and a tag that names the message in them.
type gateBody struct {
	Ledger string `json:"ledger"`
	Tag    string `json:"tag"`
}

func gateMsg(ledger, tag string) string {
	b, _ := json.Marshal(gateBody{Ledger: ledger, Tag: tag})
	return string(b)
}

// registerLifecycleJobs adds the jobs of the message-lifecycle tests.
func registerLifecycleJobs(reg *sqsdispatch.Registry) {
	// gate records its start, waits for the file LEDGER.go (or its
	// context), records "done" and returns nil. Its cleanup records whether
	// the job was still running.
	reg.Handle(sqsdispatch.Job{Name: "gate", Run: jobGate, Cleanup: cleanupGate(false)})
	// gate-hung-cleanup is gate whose first cleanup hangs.
	reg.Handle(sqsdispatch.Job{Name: "gate-hung-cleanup", Run: jobGate, Cleanup: cleanupGate(true)})
	// trace records the trace context its message carried.
	reg.Register("trace", sqsdispatch.JSONJob(func(ctx context.Context, b gateBody, _ *sqsdispatch.Message) error {
		tc, ok := sqsdispatch.TraceFromContext(ctx)
		return appendLine(b.Ledger, fmt.Sprintf("trace %t %s|%s|%s", ok, tc.AWSTraceHeader, tc.TraceParent, tc.TraceState))
	}))
	// step records its run; message "1" fails its first delivery.
	reg.Register("step", sqsdispatch.JSONJob(func(_ context.Context, b gateBody, m *sqsdispatch.Message) error {
		if err := appendLine(b.Ledger, fmt.Sprintf("run %s %d", b.Tag, m.ReceiveCount)); err != nil {
			return err
		}
		if b.Tag == "1" && m.ReceiveCount == 1 {
			return sqsdispatch.RetryAfter(time.Second, errors.New("first delivery fails"))
		}
		return nil
	}))
}

func jobGate(ctx context.Context, m *sqsdispatch.Message) error {
	var b gateBody
	if err := json.Unmarshal([]byte(m.Body), &b); err != nil {
		return sqsdispatch.Permanent(err)
	}
	if err := appendLine(b.Ledger, "start "+b.Tag); err != nil {
		return err
	}
	for {
		if _, err := os.Stat(b.Ledger + ".go"); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond): // polling a file the test creates
		}
	}
	return appendLine(b.Ledger, "done "+b.Tag)
}

func cleanupGate(hangFirst bool) sqsdispatch.CleanupFunc {
	return func(ctx context.Context, m *sqsdispatch.Message, c sqsdispatch.Cause) error {
		var b gateBody
		_ = json.Unmarshal([]byte(m.Body), &b)
		if err := appendLine(b.Ledger, fmt.Sprintf("cleanup %s running=%t attempt=%d", b.Tag, c.ChildRunning, c.Attempt)); err != nil {
			return err
		}
		if hangFirst && c.Attempt == 1 {
			<-ctx.Done()
			select {} // hung: only the dispatcher's kill ends it
		}
		return nil
	}
}

// ledgerLines returns the lines of a ledger that start with prefix.
func ledgerLines(t *testing.T, path, prefix string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" && strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}
