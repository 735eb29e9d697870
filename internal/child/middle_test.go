package child_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// middleSpec tells a middle process what to do before it waits to be
// killed.
type middleSpec struct {
	// Scenario is "run" (a job with a grandchild runs), "returned" (the
	// job started a grandchild and returned; the middle saw the child end
	// but has not released it), "guard" (the job is suspended by the
	// child running its cleanup, which blocks), "kept" (the job returned
	// and its process, kept, waits for another) or "reused" (a kept
	// process runs a second job, with a grandchild).
	Scenario string `json:"scenario"`
	Dir      string `json:"dir"`
	Setsid   bool   `json:"setsid"` // the grandchild leaves the job's process group
}

// runMiddle is the body of a middle process: a stand-in for a dispatcher
// that the tests kill. It waits on its stdin, which the test holds open.
func runMiddle(specJSON string) int {
	var spec middleSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "middle:", err)
		return 1
	}
	jobFile := filepath.Join(spec.Dir, "job")
	reuse := spec.Scenario == "kept" || spec.Scenario == "reused"
	job := jobSpec{File: jobFile, Block: spec.Scenario != "returned" && !reuse, Setsid: spec.Setsid}
	c, err := child.Spawn(wire.Request{Mode: wire.ModeRun, Job: "grandchild", Message: wire.Message{Body: job.body()}, Reuse: reuse},
		child.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "middle:", err)
		return 1
	}
	switch spec.Scenario {
	case "kept", "reused":
		<-c.Done()
		p, ok := c.Keep()
		if !ok {
			fmt.Fprintln(os.Stderr, "middle: the job's process was not kept:", c.Result(), c.State())
			return 1
		}
		if spec.Scenario == "reused" {
			second := jobSpec{File: filepath.Join(spec.Dir, "second"), Block: true, Setsid: spec.Setsid}
			defer nextJob(p, wire.Request{Mode: wire.ModeRun, Job: "grandchild", Message: wire.Message{Body: second.body()}, Reuse: true}, nil).Release()
		}
		if err := writeFile(filepath.Join(spec.Dir, "kept"), pidToken(p.PID())); err != nil {
			fmt.Fprintln(os.Stderr, "middle:", err)
			return 1
		}
		defer p.Retire()
	case "returned":
		<-c.Done()
		kind := "none"
		if r := c.Result(); r != nil {
			kind = r.Kind
		}
		if err := writeFile(filepath.Join(spec.Dir, "returned"), kind); err != nil {
			fmt.Fprintln(os.Stderr, "middle:", err)
			return 1
		}
	case "guard":
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(jobFile); err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintln(os.Stderr, "middle: the job did not start")
				return 1
			}
			time.Sleep(10 * time.Millisecond)
		}
		cleanup := jobSpec{File: filepath.Join(spec.Dir, "cleanup"), Block: true}
		g, err := child.Spawn(wire.Request{Mode: wire.ModeCleanup, Job: "grandchild", GuardPGID: c.PID(),
			Message: wire.Message{Body: cleanup.body()}}, child.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "middle:", err)
			return 1
		}
		defer g.Release()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	c.Release()
	return 0
}

// middle is a middle process as the test sees it.
type middle struct {
	cmd  *exec.Cmd
	dir  string
	mark string
	done chan struct{}
}

// startMiddle starts the test binary as a middle process whose processes
// carry a marker of their own.
func startMiddle(t *testing.T, spec middleSpec) *middle {
	t.Helper()
	spec.Dir = t.TempDir()
	b, _ := json.Marshal(spec)
	m := &middle{dir: spec.Dir, mark: fmt.Sprintf("%s=%s-%d", envMark, strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano()),
		done: make(chan struct{})}
	m.cmd = exec.Command(os.Args[0])
	m.cmd.Env = append(os.Environ(), envMiddle+"="+string(b), m.mark)
	stdin, err := m.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	m.cmd.Stderr = &out
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = m.cmd.Process.Kill()
		<-m.done
		if left := waitNoneMarked(m.mark); len(left) > 0 {
			t.Errorf("processes of the middle outlived the test: %v", left)
			killAll(left)
		}
		if t.Failed() {
			t.Logf("middle process stderr:\n%s", out.String())
		}
	})
	return m
}

// kill SIGKILLs the middle process and waits until it is reaped.
func (m *middle) kill(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-m.done
}

func (m *middle) file(name string) string { return filepath.Join(m.dir, name) }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
