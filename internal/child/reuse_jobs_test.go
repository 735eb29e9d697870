package child_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// The test jobs below run in a child that may serve several jobs in turn:
// what one job leaves in the process (a goroutine, these variables) is
// there for the next.

// runReuseJob runs the test jobs about a child that serves several jobs,
// and reports false for a job it does not know.
func runReuseJob(ctx context.Context, req *wire.Request, spec jobSpec) (wire.Result, bool) {
	switch req.Job {
	case "pid":
		return wire.Result{Kind: wire.KindOK, Error: pidToken(os.Getpid())}, true
	case "burn":
		return runBurn(), true
	case "leak":
		return runLeak(ctx), true
	case "leak-fire":
		return runLeakFire(ctx), true
	case "stray":
		return runStray(ctx), true
	case "set-procs":
		return runSetProcs(), true
	}
	return wire.Result{}, false
}

// leaked links the "leak" job, which leaves a goroutine behind, to the
// "leak-fire" job, which makes that goroutine record a checkpoint.
var leaked = struct {
	fire   chan struct{}
	result chan error
}{make(chan struct{}), make(chan error, 1)}

// runLeak leaves a goroutine that, once fired, records a checkpoint with
// this job's context, after the job returned.
func runLeak(ctx context.Context) wire.Result {
	go func() {
		<-leaked.fire
		leaked.result <- child.Checkpoint(ctx, []byte("leaked"))
	}()
	return wire.Result{Kind: wire.KindOK}
}

// runLeakFire fires the goroutine "leak" left, then records a checkpoint
// of its own, and reports "<leaked refused> <own error>" in its result's
// error.
func runLeakFire(ctx context.Context) wire.Result {
	close(leaked.fire)
	var err error
	select {
	case err = <-leaked.result:
	case <-ctx.Done():
		return resultOf(errors.New("no leaked goroutine to fire"))
	}
	own := child.Checkpoint(ctx, []byte("own"))
	return wire.Result{Kind: wire.KindOK, Error: fmt.Sprint(errors.Is(err, child.ErrJobReturned), " ", own)}
}

// runStray returns as soon as a checkpoint a goroutine of it records is
// written, without waiting for the parent's answer, which may come after
// the job returned, even after the child reported.
func runStray(ctx context.Context) wire.Result {
	go func() { _ = child.Checkpoint(ctx, []byte("stray")) }()
	for child.CheckpointsSent(ctx) == 0 {
		if ctx.Err() != nil {
			return resultOf(ctx.Err())
		}
		runtime.Gosched()
	}
	return wire.Result{Kind: wire.KindOK}
}

// runSetProcs reports GOMAXPROCS in its result's error, and changes it.
func runSetProcs() wire.Result {
	n := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(n%4 + 1)
	return wire.Result{Kind: wire.KindOK, Error: strconv.Itoa(n)}
}

// burnCPU is the CPU time the "burn" job uses, and burnBytes the memory
// it touches (and gives back before it returns).
const (
	burnCPU   = 300 * time.Millisecond
	burnBytes = 64 << 20
)

// runBurn touches burnBytes of memory and spins until this process has
// used burnCPU more CPU time (however busy the machine), then gives the
// memory back to the system.
func runBurn() wire.Result {
	spin(make([]byte, burnBytes))
	debug.FreeOSMemory()
	return wire.Result{Kind: wire.KindOK}
}

// spin touches every page of buf, then uses burnCPU of CPU time.
func spin(buf []byte) {
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	start := cpuTime()
	for x := uint64(1); cpuTime()-start < burnCPU; {
		for range 100000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		buf[x%uint64(len(buf))]++
	}
}

// cpuTime is this process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
