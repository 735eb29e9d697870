//go:build linux

package chaos

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestChaos is the CI-sized chaos run (about a minute; at most ciDuration):
// it is part of `go test ./...`, so CI must not run ./cmd/chaos at this
// size as well. The full size is the command's job:
//
//	go run ./internal/chaos/cmd/chaos -messages 1000 -kills 300
//
// It fails, not skips, when the local SQS server cannot start. It must not
// run in parallel with another test of this package: its reaper reaps
// every child of the test process that it did not start. Runs in other
// processes wait for each other on a machine-wide lock.
// SQSDISPATCH_CHAOS_SEED picks another seed.
func TestChaos(t *testing.T) {
	const ciDuration = 170 * time.Second
	seed := uint64(1)
	if s := os.Getenv("SQSDISPATCH_CHAOS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SQSDISPATCH_CHAOS_SEED=%q: %v", s, err)
		}
		seed = n
	}
	dir, err := os.MkdirTemp("", "sqsdispatch-chaos-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("work directory kept: %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	out := &lineLogger{t: t}
	v, err := Run(t.Context(), Config{Messages: 150, Kills: 60, Dispatchers: 3, Concurrency: 3, Seed: seed,
		Duration: ciDuration, WorkDir: dir, Out: out})
	out.flush()
	if err != nil {
		t.Fatal(err)
	}
	if !v.Passed() {
		t.Fatalf("chaos run with seed %d failed: %v", seed, v.Failures())
	}
	if v.Completed+v.DeadLettered < v.Messages || v.actionTotal() == 0 {
		t.Fatalf("the run proves nothing: %s", v.Summary())
	}
}

// lineLogger passes whole lines to t.Log.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // incomplete: keep for the next write
			return len(p), nil
		}
		l.t.Log(line[:len(line)-1])
	}
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.t.Log(l.buf.String())
		l.buf.Reset()
	}
}
