package child_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

const (
	envRun       = "CHILDTEST_RUN"    // set for the whole run: every process it starts carries it
	envMark      = "CHILDTEST_MARK"   // set per test on a middle process and inherited by its children
	envMiddle    = "CHILDTEST_MIDDLE" // run as a middle process (a stand-in dispatcher)
	envNilRunner = "CHILDTEST_NIL"    // serve as a child with a nil runner
)

func TestMain(m *testing.M) {
	if child.IsChild() {
		if os.Getenv(envNilRunner) != "" {
			os.Exit(child.Serve(nil))
		}
		os.Exit(child.Serve(testRunner))
	}
	if spec := os.Getenv(envMiddle); spec != "" {
		os.Exit(runMiddle(spec))
	}
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// Under -race every process sleeps a second at exit by default.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	run := strconv.Itoa(os.Getpid())
	os.Setenv(envRun, run)
	// Orphans of the tests' processes are re-parented here, as they
	// would be to a dispatcher in subreaper mode, and reaped.
	if err := proc.BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "FATAL: cannot become a child subreaper:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	reaped := make(chan struct{})
	go func() { child.ReapAdopted(ctx); close(reaped) }()
	code := m.Run()
	cancel()
	<-reaped
	if left := waitNoneMarked(envRun + "=" + run); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: processes started by the tests outlived them: %v\n", left)
		killAll(left)
		return 1
	}
	return code
}

// jobSpec is the body of a test job's message.
type jobSpec struct {
	File   string `json:"file"`   // where the job writes what it has to say
	Block  bool   `json:"block"`  // block until the job's context ends
	Setsid bool   `json:"setsid"` // start the grandchild in a session of its own
	// Checkpoints is how many checkpoints each of Workers goroutines (0:
	// one) records, each padded to Size bytes; with Die the job then
	// SIGKILLs itself.
	Checkpoints int  `json:"checkpoints"`
	Workers     int  `json:"workers"`
	Size        int  `json:"size"`
	Die         bool `json:"die"`
}

func (s jobSpec) body() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// testRunner runs the test jobs in a child.
func testRunner(ctx context.Context, req *wire.Request) wire.Result {
	if req.Job == "body" { // the body is the payload, not a spec
		return runBody(req)
	}
	var spec jobSpec
	_ = json.Unmarshal([]byte(req.Message.Body), &spec)
	if req.Mode == wire.ModeCleanup {
		return runCleanup(ctx, req, spec)
	}
	if res, ok := runReuseJob(ctx, req, spec); ok {
		return res
	}
	switch req.Job {
	case "ok":
		return wire.Result{Kind: wire.KindOK}
	case "fail":
		return wire.Result{Kind: wire.KindError, Error: "failed as asked"}
	case "panic":
		panic("boom")
	case "huge":
		return wire.Result{Kind: wire.KindPanic, Error: strings.Repeat("e", 20<<20), Stack: strings.Repeat("s", 20<<20)}
	case "args":
		b, _ := json.Marshal(os.Args)
		return resultOf(writeFile(spec.File, string(b)))
	case "stderr":
		fmt.Fprintln(os.Stderr, "first line")
		fmt.Fprintln(os.Stderr, strings.Repeat("x", 10<<10))
		fmt.Fprintln(os.Stderr, "last line")
		return wire.Result{Kind: wire.KindOK}
	case "sleep":
		if err := writeFile(spec.File, pidToken(os.Getpid())); err != nil {
			return resultOf(err)
		}
		<-ctx.Done()
		return wire.Result{Kind: wire.KindError, Error: context.Cause(ctx).Error()}
	case "grandchild":
		return runGrandchild(ctx, spec)
	case "checkpoint":
		return runCheckpoints(ctx, spec)
	case "checkpoint-refusals":
		return runCheckpointRefusals(ctx)
	case "checkpoint-freeze":
		return runCheckpointFreeze(ctx, spec)
	}
	return wire.Result{Kind: wire.KindPermanent, Error: "unknown test job " + req.Job}
}

// runGrandchild starts a long sleep (longer than any wait of the tests, so
// that it ends only when killed), writes "<job pid> <grandchild pid>",
// then blocks or returns.
func runGrandchild(ctx context.Context, spec jobSpec) wire.Result {
	cmd := exec.Command("sleep", "600")
	if spec.Setsid {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		return resultOf(err)
	}
	if err := writeFile(spec.File, pidToken(os.Getpid())+" "+pidToken(cmd.Process.Pid)); err != nil {
		return resultOf(err)
	}
	if spec.Block {
		<-ctx.Done()
		return wire.Result{Kind: wire.KindError, Error: context.Cause(ctx).Error()}
	}
	return wire.Result{Kind: wire.KindOK}
}

// runCleanup writes "<pid> <state of the guarded job's leader>", then
// blocks or returns.
func runCleanup(ctx context.Context, req *wire.Request, spec jobSpec) wire.Result {
	state := "-"
	if req.GuardPGID > 0 {
		if st, err := proc.ReadStat(req.GuardPGID); err == nil {
			state = string(st.State)
		}
	}
	if spec.Checkpoints > 0 {
		return resultOf(child.Checkpoint(ctx, []byte("from a cleanup")))
	}
	if err := writeFile(spec.File, pidToken(os.Getpid())+" "+state); err != nil {
		return resultOf(err)
	}
	if spec.Block {
		<-ctx.Done()
	}
	return wire.Result{Kind: wire.KindOK}
}

// pidToken identifies a live process as "pid:start", its start time
// telling it apart from a later process with the same pid.
func pidToken(pid int) string {
	st, _ := proc.ReadStat(pid)
	return fmt.Sprintf("%d:%d", pid, st.Start)
}

func resultOf(err error) wire.Result {
	if err != nil {
		return wire.Result{Kind: wire.KindError, Error: err.Error()}
	}
	return wire.Result{Kind: wire.KindOK}
}

// writeFile writes a whole file at once, so a reader never sees half of it.
func writeFile(path, content string) error {
	if err := os.WriteFile(path+".tmp", []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// waitNoneMarked waits until no process other than this one carries
// marker (NAME=value) in its environment, and returns the pids of those
// still left after the deadline.
func waitNoneMarked(marker string) []int {
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := marked(marker)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killAll SIGKILLs the processes a failed test left behind, continuing
// any that are stopped.
func killAll(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// marked returns the live processes whose environment holds marker.
// Zombies have no environment left and do not count.
func marked(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == marker {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
