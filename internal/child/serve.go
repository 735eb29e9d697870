package child

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Runner runs the job (wire.ModeRun) or its cleanup (wire.ModeCleanup)
// that req names, and turns what it returned into a result. It runs in
// the child; ctx ends when the child is asked to stop (SIGTERM, SIGHUP).
type Runner func(ctx context.Context, req *wire.Request) wire.Result

// Exit codes of a child.
const (
	ExitOK      = 0
	ExitFailed  = 1 // the job failed and its result was reported
	ExitRefused = 2 // no valid handshake, or nothing to run the job with
)

// IsChild reports whether this process was started as a job child (its
// environment holds the marker wire.EnvChild).
func IsChild() bool {
	_, ok := os.LookupEnv(wire.EnvChild)
	return ok
}

// Serve is the whole life of a job child; main calls it first thing when
// IsChild reports true, and exits with the code it returns. It arms the
// handling of its parent's death, checks the handshake, reads the request
// (and the body that follows it, if one does), runs it with run (a job may
// record checkpoints meanwhile: Checkpoint), kills every process the job
// left behind, and reports the result to the parent. It refuses to run
// (ExitRefused, with a message on stderr) when run is nil, when it was
// started by hand, by a different build, or got no whole request within
// HandshakeTimeout.
//
// When the request has wire.Request.Reuse, the child then waits (again
// within HandshakeTimeout) for its next request on the same pipes, unless
// the job panicked or a stop signal (SIGTERM, SIGHUP) reached it: such a
// child exits after its report. A stop signal that comes while the child
// waits ends it by that signal.
func Serve(run Runner) int {
	d := armDeath() // first of all: from here on the parent's death kills the group
	proc.NameAfter(os.Args[0])
	version, isChild := os.LookupEnv(wire.EnvChild)
	_ = os.Unsetenv(wire.EnvChild) // the job's own subprocesses are not children of ours
	_, customProcs := os.LookupEnv("GOMAXPROCS")
	if os.Getenv(envStartProcs) != "" {
		_ = os.Unsetenv("GOMAXPROCS")
		_ = os.Unsetenv(envStartProcs)
		runtime.SetDefaultGOMAXPROCS()
		customProcs = false
	}
	switch {
	case !isChild:
		return refuse("this process was not started as a job child")
	case version != strconv.Itoa(wire.Version):
		return refuse("child protocol version %q does not match this binary's %d; the parent and child must be the same build", version, wire.Version)
	case run == nil:
		return refuse("this job child has nothing to run jobs with (was Init called with a nil Registry?)")
	}
	reqPipe, resPipe, err := pipes()
	if err != nil {
		return refuse(notByHand, err)
	}
	_ = proc.BecomeSubreaper() // the job's orphans come to us, to be killed and reaped
	stops := watchStops()
	in := newInbox(reqPipe, d.die)
	go in.run()
	mark := newMarker()
	procs := runtime.GOMAXPROCS(0)
	for first := true; ; first = false {
		req, code, ok := in.next(first, stops)
		if !ok {
			return code
		}
		d.guard(req.GuardPGID)
		rep := newReporter(resPipe)
		in.serve(rep)
		res := serveRequest(d, run, req, rep, stops, mark)
		d.drop() // a guarded job that had returned was resumed, not killed: it is guarded no more
		in.serve(nil)
		last := !waitsAfter(req.Reuse, &res, mark.lasts())
		if code, ok := rep.report(res, last); last || !ok {
			return code
		}
		if runtime.GOMAXPROCS(0) != procs { // the job changed it: the next one gets what this one got
			if customProcs {
				runtime.GOMAXPROCS(procs)
			} else {
				runtime.SetDefaultGOMAXPROCS()
			}
		}
	}
}

// waitsAfter reports whether a child that reports res for a request with
// reuse waits for another request rather than exiting: not after a panic,
// nor once a stop signal reached the job, nor when its marker cannot be
// set for a next job (a guardian would take that job for one that had
// returned, and skip its cleanup). The parent decides alike what a result
// it reads means, and takes a child that exits after all for one that
// cannot be kept.
func waitsAfter(reuse bool, res *wire.Result, markerLasts bool) bool {
	return reuse && markerLasts && res.Kind != wire.KindPanic && res.Signal == 0
}

// errJobOver ends a job's context once the job has returned.
var errJobOver = errors.New("sqsdispatch: the job has returned")

// serveRequest runs req and then makes sure that nothing the job started
// is left: the guarded job's group and this process's descendants. A job
// (not a cleanup) finds rep in its context, to record checkpoints with;
// its context ends when it returns, or when a stop signal comes.
func serveRequest(d *death, run Runner, req *wire.Request, rep *reporter, stops *stopWatch, mark *marker) wire.Result {
	ctx, end := context.WithCancelCause(stops.ctx)
	defer end(errJobOver)
	if req.Mode == wire.ModeRun {
		mark.jobRuns()
		ctx = context.WithValue(ctx, reporterKey{}, rep)
	}
	// The job is suspended only now that an armed guardian lives. A job
	// that had returned before the suspension took hold is not cleaned up:
	// it is resumed to report its own result.
	if req.GuardPGID != 0 {
		// A job that is gone already (its parent has yet to see it) or
		// had returned is its own result; the parent applies that.
		if !d.signalGuarded(syscall.SIGSTOP) {
			return wire.Result{Kind: wire.KindJobFinished}
		}
		proc.AwaitStop(req.GuardPGID, suspendWait)
		if jobReturned(req.GuardPGID) {
			d.resume()
			return wire.Result{Kind: wire.KindJobFinished}
		}
	}
	res := runSafely(ctx, run, req)
	if req.Mode == wire.ModeRun {
		rep.jobReturned()
		mark.jobDone() // the job has returned
	}
	// After the first cleanup try the job is killed in every case: success
	// leaves nothing of it; a failure is retried without it.
	d.unguard()
	proc.KillDescendants()
	if s := stops.signal(); s != 0 {
		res.Signal = int(s)
	}
	return res
}

// runSafely runs the runner, turning a panic that escapes it into a
// result.
func runSafely(ctx context.Context, run Runner, req *wire.Request) (res wire.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = wire.Result{Kind: wire.KindPanic, Error: fmt.Sprintf("panic: %v", r), Stack: string(debug.Stack())}
		}
	}()
	return run(ctx, req)
}
