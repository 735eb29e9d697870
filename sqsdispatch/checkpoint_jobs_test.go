package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// unitsBody is the body of the "units" job: Units units of work, Step
// apart, each recorded in DIR/ledger and, with Checkpoint, followed by a
// checkpoint naming the next unit.
type unitsBody struct {
	Dir        string        `json:"dir"`
	Units      int           `json:"units"`
	Step       time.Duration `json:"step"`
	Checkpoint bool          `json:"checkpoint"`
}

func unitsMsg(dir string, units int, step time.Duration, checkpoint bool) string {
	b, _ := json.Marshal(unitsBody{Dir: dir, Units: units, Step: step, Checkpoint: checkpoint})
	return string(b)
}

// registerCheckpointJobs adds the jobs of the checkpoint tests.
func registerCheckpointJobs(reg *sqsdispatch.Registry) {
	// units does its units from the message's checkpoint on. It holds an
	// exclusive lock on DIR/lock while it runs and records "overlap" in
	// DIR/events should another run hold it. Its cleanup removes from the
	// ledger the units after the checkpoint kept.
	reg.Handle(sqsdispatch.Job{Name: "units", Run: sqsdispatch.JSONJob(jobUnits), Cleanup: cleanupUnits})
}

func jobUnits(ctx context.Context, b unitsBody, m *sqsdispatch.Message) error {
	events := filepath.Join(b.Dir, "events")
	lock, err := os.OpenFile(filepath.Join(b.Dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = appendLine(events, "overlap")
		return err
	}
	next, _ := strconv.Atoi(string(m.Checkpoint))
	if err := appendLine(events, fmt.Sprintf("start from=%d runs=%d first=%d pid=%d", next, m.Runs, m.FirstReceived.UnixMilli(), os.Getpid())); err != nil {
		return err
	}
	for i := next; i < b.Units; i++ {
		select { // the unit's work, given up when the job is asked to stop
		case <-time.After(b.Step):
		case <-ctx.Done():
			return appendLineThen(events, fmt.Sprintf("stopped pid=%d", os.Getpid()), ctx.Err())
		}
		if err := appendLine(filepath.Join(b.Dir, "ledger"), "unit "+strconv.Itoa(i)); err != nil {
			return err
		}
		if b.Checkpoint {
			if err := sqsdispatch.Checkpoint(ctx, []byte(strconv.Itoa(i+1))); err != nil {
				return err
			}
			if err := appendLine(events, fmt.Sprintf("saved n=%d pid=%d", i+1, os.Getpid())); err != nil {
				return err
			}
		}
	}
	return appendLine(events, "done at="+strconv.FormatInt(time.Now().UnixMilli(), 10))
}

// appendLineThen appends line to path and returns err.
func appendLineThen(path, line string, err error) error {
	if werr := appendLine(path, line); werr != nil {
		return werr
	}
	return err
}

// cleanupUnits undoes the units done after the checkpoint kept.
func cleanupUnits(_ context.Context, m *sqsdispatch.Message, c sqsdispatch.Cause) error {
	var b unitsBody
	if err := json.Unmarshal([]byte(m.Body), &b); err != nil {
		return err
	}
	keep, _ := strconv.Atoi(string(c.Checkpoint))
	path := filepath.Join(b.Dir, "ledger")
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var kept []string
	for _, line := range strings.Fields(strings.ReplaceAll(string(data), "unit ", "")) {
		if i, _ := strconv.Atoi(line); i < keep {
			kept = append(kept, "unit "+line+"\n")
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(kept, "")), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return appendLine(filepath.Join(b.Dir, "events"), fmt.Sprintf("cleanup keep=%d checkpoint=%t", keep, c.Checkpoint != nil))
}
