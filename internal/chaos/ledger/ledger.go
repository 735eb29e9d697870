// Package ledger is the record the chaos service's jobs and cleanups append
// to and the chaos driver reads back: one JSON object per line, each
// appended with a single write to a file opened with O_APPEND, so lines
// from concurrent processes never interleave.
package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

// Environment variables the driver gives every service process; children
// and grandchildren inherit them.
const (
	// EnvDir names the ledger directory.
	EnvDir = "SQSDISPATCH_CHAOS_LEDGER"
	// EnvRun marks every process of one chaos run; its value is the run's ID.
	EnvRun = "SQSDISPATCH_CHAOS_RUN"
)

// Kind is what a message's job does.
type Kind string

// Kinds of job.
const (
	// KindShort sleeps Body.Millis and succeeds.
	KindShort Kind = "short"
	// KindLong sleeps Body.Millis, longer than the visibility timeout, so
	// only heartbeats keep its message hidden.
	KindLong Kind = "long"
	// KindFailFirst fails its first delivery with a short RetryAfter and
	// succeeds on the next.
	KindFailFirst Kind = "failfirst"
	// KindGrandchild starts a long sleep that inherits the job's lock, then
	// sleeps Body.Millis and succeeds without waiting for it.
	KindGrandchild Kind = "grandchild"
)

// Body is a message body.
type Body struct {
	Key    string `json:"key"`
	Kind   Kind   `json:"kind"`
	Millis int    `json:"ms"`
	// CleanupMillis is how long the job's cleanup works.
	CleanupMillis int `json:"cleanup_ms"`
}

// Event is what a record says happened.
type Event string

// Events.
const (
	// EventStart: a job run took its message's lock and started.
	EventStart Event = "start"
	// EventDone: the run is about to return nil.
	EventDone Event = "done"
	// EventFail: the run is about to return an error on purpose.
	EventFail Event = "fail"
	// EventDuplicate: a run found its message's lock held by another
	// process: two runs of one message at once.
	EventDuplicate Event = "duplicate"
	// EventCleanup: a cleanup ran to its end.
	EventCleanup Event = "cleanup"
	// EventGrandchild: a run started a grandchild that holds its lock.
	EventGrandchild Event = "grandchild"
)

// Record is one line of the ledger.
type Record struct {
	Event        Event  `json:"ev"`
	Key          string `json:"key"`
	MessageID    string `json:"msg"`
	ReceiveCount int    `json:"rc"`
	// Proc is the process that wrote the record (the job's child or the
	// cleanup's child).
	Proc proctab.ID `json:"proc"`
	// Dispatcher is the writer's parent when it wrote the record.
	Dispatcher proctab.ID `json:"disp"`
	// Mono is CLOCK_MONOTONIC in nanoseconds, comparable across processes.
	Mono int64 `json:"mono"`
	// Attempt, Reason and ChildRunning come from the cleanup's Cause.
	Attempt      int    `json:"attempt,omitempty"`
	Reason       string `json:"reason,omitempty"`
	ChildRunning bool   `json:"child_running,omitempty"`
	// Holders describes the processes that held the lock (duplicate).
	Holders string `json:"holders,omitempty"`
	// Grandchild is the pid of the started grandchild.
	Grandchild int `json:"gpid,omitempty"`
}

// Encode returns r as one ledger line.
func (r Record) Encode() []byte {
	b, _ := json.Marshal(r) // only plain fields: cannot fail
	return append(b, '\n')
}

// Parse reads a ledger. Lines that are not records are returned in bad
// rather than failing the whole read; a final line without its newline is
// bad too (a writer died mid-line, which a single write cannot do).
func Parse(r io.Reader) (recs []Record, bad []string, err error) {
	br := bufio.NewReader(r)
	for {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			complete := line[len(line)-1] == '\n'
			text := bytes.TrimSpace(line)
			var rec Record
			switch {
			case len(text) == 0:
			case !complete:
				bad = append(bad, string(text))
			case json.Unmarshal(text, &rec) != nil || rec.Event == "" || rec.Key == "":
				bad = append(bad, string(text))
			default:
				recs = append(recs, rec)
			}
		}
		if rerr == io.EOF {
			return recs, bad, nil
		}
		if rerr != nil {
			return recs, bad, fmt.Errorf("ledger: reading: %w", rerr)
		}
	}
}
