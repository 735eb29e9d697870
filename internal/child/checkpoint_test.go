package child_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// runCheckpoints records the checkpoints spec asks for, "<worker>-<n>:"
// padded to spec.Size bytes, from spec.Workers goroutines at once; then it
// blocks (spec.Block), kills its process (spec.Die) or returns.
func runCheckpoints(ctx context.Context, spec jobSpec) wire.Result {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range max(spec.Workers, 1) {
		wg.Go(func() {
			for i := 1; i <= spec.Checkpoints; i++ {
				if err := child.Checkpoint(ctx, checkpointData(w, i, spec.Size)); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return resultOf(err)
	}
	if spec.Die {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	if spec.Block || spec.Die {
		<-ctx.Done()
	}
	return wire.Result{Kind: wire.KindOK, Error: "final"}
}

// checkpointData is the n-th checkpoint of worker w, padded to size.
func checkpointData(w, n, size int) []byte {
	s := fmt.Sprintf("%d-%d:", w, n)
	return []byte(s + strings.Repeat(".", max(0, size-len(s))))
}

// runCheckpointRefusals records checkpoints that must be refused, and
// fails unless each was.
func runCheckpointRefusals(ctx context.Context) wire.Result {
	var errs []error
	if err := child.Checkpoint(ctx, make([]byte, wire.MaxCheckpointBytes+1)); !errors.Is(err, child.ErrCheckpointTooLarge) {
		errs = append(errs, fmt.Errorf("oversized checkpoint: %v", err))
	}
	if err := child.Checkpoint(context.Background(), []byte("x")); !errors.Is(err, child.ErrNotInJob) {
		errs = append(errs, fmt.Errorf("checkpoint without the job's context: %v", err))
	}
	return resultOf(errors.Join(errs...))
}

// runCheckpointFreeze records checkpoint "a", says so in spec.File, waits
// for spec.File+".frozen", then records "b" and reports in its result's
// error what that call returned.
func runCheckpointFreeze(ctx context.Context, spec jobSpec) wire.Result {
	if err := child.Checkpoint(ctx, []byte("a")); err != nil {
		return resultOf(err)
	}
	if err := writeFile(spec.File, "a"); err != nil {
		return resultOf(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(spec.File + ".frozen"); err == nil {
			err := child.Checkpoint(ctx, []byte("b"))
			return wire.Result{Kind: wire.KindOK, Error: fmt.Sprint(errors.Is(err, child.ErrNotKept))}
		}
	}
	return resultOf(errors.New("never frozen"))
}

// Once the parent froze its checkpoints it keeps no more and answers
// none: the job's Checkpoint waits, here until the job is asked to stop,
// and says the checkpoint may not have been kept.
func TestFrozenCheckpointsAreNotKept(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "kept")
	c := spawn(t, job("checkpoint-freeze", jobSpec{File: file}))
	waitFor(t, "checkpoint a", func() bool { _, err := os.Stat(file); return err == nil })
	if data, n := c.FreezeCheckpoints(); string(data) != "a" || n != 1 {
		t.Fatalf("FreezeCheckpoints = %q, %d; want the one the job was told was kept", data, n)
	}
	if err := os.WriteFile(file+".frozen", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Signal(syscall.SIGTERM)
	waitDone(t, c)
	if r := c.Result(); r == nil || r.Error != "true" {
		t.Fatalf("result %+v; want the job told ErrNotKept (stderr %q)", r, c.Stderr())
	}
	if data, n := c.Checkpoint(); string(data) != "a" || n != 1 {
		t.Fatalf("Checkpoint = %q, %d after the freeze; want a, 1", data, n)
	}
}

func TestCheckpointsReachTheParent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		spec      jobSpec
		wantN     int
		wantLast  *regexp.Regexp
		wantKind  string // "": no result
		wantLen   int
		wantKILL  bool
		wantFinal string
	}{
		{"three in a row", jobSpec{Checkpoints: 3}, 3, regexp.MustCompile(`^0-3:$`), wire.KindOK, 4, false, "final"},
		{"from 8 goroutines at once, each larger than a pipe's atomic write", jobSpec{Checkpoints: 20, Workers: 8, Size: 16 << 10},
			160, regexp.MustCompile(`^[0-7]-20:\.+$`), wire.KindOK, 16 << 10, false, "final"},
		{"at the limit", jobSpec{Checkpoints: 2, Size: wire.MaxCheckpointBytes}, 2, regexp.MustCompile(`^0-2:\.+$`), wire.KindOK, wire.MaxCheckpointBytes, false, "final"},
		{"written just before the child is killed", jobSpec{Checkpoints: 1, Die: true}, 1, regexp.MustCompile(`^0-1:$`), "", 4, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := spawn(t, job("checkpoint", tt.spec))
			waitDone(t, c)
			data, n := c.Checkpoint()
			if n != tt.wantN || len(data) != tt.wantLen || !tt.wantLast.Match(data) {
				t.Fatalf("checkpoint %q... (%d bytes), n=%d; want n=%d, %d bytes matching %s (stderr %q)",
					data[:min(len(data), 20)], len(data), n, tt.wantN, tt.wantLen, tt.wantLast, c.Stderr())
			}
			r := c.Result()
			switch {
			case tt.wantKind == "" && r != nil:
				t.Fatalf("result %+v; want none", r)
			case tt.wantKind != "" && (r == nil || r.Kind != tt.wantKind || r.Error != tt.wantFinal):
				t.Fatalf("result %+v; want kind %q, the final result (stderr %q)", r, tt.wantKind, c.Stderr())
			}
			if killed := signaled(c) == syscall.SIGKILL; killed != tt.wantKILL {
				t.Fatalf("ended by signal %v; want SIGKILL %v", signaled(c), tt.wantKILL)
			}
		})
	}
}

// A checkpoint is in the parent while the job still runs.
func TestCheckpointsArriveWhileTheJobRuns(t *testing.T) {
	t.Parallel()
	c := spawn(t, job("checkpoint", jobSpec{Checkpoints: 3, Block: true}))
	waitFor(t, "three checkpoints", func() bool { _, n := c.Checkpoint(); return n == 3 })
	if isDone(c) {
		t.Fatalf("the child ended (%v) before it was asked to stop", c.State())
	}
	data, _ := c.Checkpoint()
	data[0] = 'x' // the caller's copy
	if again, _ := c.Checkpoint(); string(again) != "0-3:" {
		t.Fatalf("checkpoint %q; want %q, unchanged by a caller", again, "0-3:")
	}
	c.Signal(syscall.SIGTERM)
	waitDone(t, c)
	if r := c.Result(); r == nil || r.Kind != wire.KindOK {
		t.Fatalf("result %+v; want ok", r)
	}
}

func TestCheckpointRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  wire.Request
		want string // the result's error; "": ok
	}{
		{"oversized, or without the job's context, in a job", job("checkpoint-refusals", jobSpec{}), ""},
		{"in a cleanup", wire.Request{Mode: wire.ModeCleanup, Job: "checkpoint",
			Message: wire.Message{Body: jobSpec{Checkpoints: 1}.body()}}, child.ErrNotInJob.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := spawn(t, tt.req)
			waitDone(t, c)
			r := c.Result()
			if r == nil || r.Error != tt.want || (tt.want == "") != (r.Kind == wire.KindOK) {
				t.Fatalf("result %+v; want error %q (stderr %q)", r, tt.want, c.Stderr())
			}
			if data, n := c.Checkpoint(); n != 0 || data != nil {
				t.Fatalf("parent got %d checkpoints (last %q); want none", n, data)
			}
		})
	}
}

// Outside a job child there is nothing to record checkpoints with.
func TestCheckpointOutsideAJobChild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"plain context", []byte("x"), child.ErrNotInJob},
		{"oversized", make([]byte, wire.MaxCheckpointBytes+1), child.ErrCheckpointTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := child.Checkpoint(context.Background(), tt.data)
			if !errors.Is(err, tt.want) || !strings.HasPrefix(err.Error(), "sqsdispatch: ") {
				t.Fatalf("Checkpoint = %v; want %v", err, tt.want)
			}
		})
	}
}

func isDone(c *child.Child) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}
