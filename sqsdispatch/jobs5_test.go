package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// ledgerBody is the body of a "ledger" job: it appends a start line and an
// end line to the shared ledger file, sleeping in between.
type ledgerBody struct {
	Ledger string        `json:"ledger"`
	Tag    string        `json:"tag"`
	Sleep  time.Duration `json:"sleep"`
}

func registerScaleJobs(reg *sqsdispatch.Registry) {
	reg.Register("ledger", sqsdispatch.JSONJob(func(_ context.Context, b ledgerBody, m *sqsdispatch.Message) error {
		if err := appendLine(b.Ledger, fmt.Sprintf("start %d %s %s", os.Getpid(), m.ID, b.Tag)); err != nil {
			return err
		}
		time.Sleep(b.Sleep)
		return appendLine(b.Ledger, fmt.Sprintf("end %d %s %s", os.Getpid(), m.ID, b.Tag))
	}))
}

// appendLine appends one line with a single write (O_APPEND keeps the
// lines of concurrent jobs whole and in the order they were written).
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(line + "\n")
	return err
}

func ledgerMsg(path, tag string, sleep time.Duration) string {
	b, _ := json.Marshal(ledgerBody{Ledger: path, Tag: tag, Sleep: sleep})
	return string(b)
}

// ledgerEvent is one line of a ledger.
type ledgerEvent struct {
	start    bool
	pid, msg string
	tag      string
}

func readLedger(t *testing.T, path string) []ledgerEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []ledgerEvent
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			t.Fatalf("bad ledger line %q", line)
		}
		ev := ledgerEvent{start: f[0] == "start", pid: f[1], msg: f[2]}
		if len(f) > 3 {
			ev.tag = f[3]
		}
		evs = append(evs, ev)
	}
	return evs
}

// ledgerStats checks every message started and ended exactly once, in one
// process, and returns the most jobs that were running at once.
func ledgerStats(t *testing.T, evs []ledgerEvent, messages int) (maxRunning int) {
	t.Helper()
	starts, ends := map[string]string{}, map[string]string{}
	running := 0
	for _, ev := range evs {
		if ev.start {
			if _, dup := starts[ev.msg]; dup {
				t.Fatalf("message %s started twice", ev.msg)
			}
			starts[ev.msg] = ev.pid
			running++
			maxRunning = max(maxRunning, running)
		} else {
			if starts[ev.msg] != ev.pid {
				t.Fatalf("message %s ended in pid %s but started in %q", ev.msg, ev.pid, starts[ev.msg])
			}
			ends[ev.msg] = ev.pid
			running--
		}
	}
	if len(starts) != messages || len(ends) != messages {
		t.Fatalf("%d messages started and %d ended; want %d each", len(starts), len(ends), messages)
	}
	pids := map[string]bool{}
	for _, pid := range starts {
		pids[pid] = true
	}
	if len(pids) != messages {
		t.Fatalf("%d messages ran in %d processes; want a process each", messages, len(pids))
	}
	return maxRunning
}
