package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Cause tells a job's Cleanup why it runs.
type Cause struct {
	// Signal is the stop signal that interrupted the job, or nil when the
	// dispatcher's context was cancelled.
	Signal os.Signal
	// Reason says in words what happened.
	Reason string
	// ChildRunning is true when the job's process was still alive (and is
	// now suspended) as the cleanup started; false when it had died.
	ChildRunning bool
	// Attempt is 1 for the first try and 2 for the retry.
	Attempt int
}

// Exit codes of a child.
const (
	exitOK      = 0
	exitFailed  = 1 // the job failed and its result was reported
	exitRefused = 2 // no valid handshake: started by hand or by another version
)

// handshakeTimeout bounds how long a child waits for its request. A spare
// child waits here, so it exceeds Config.PrespawnMaxIdle's limit.
const handshakeTimeout = 10 * time.Minute

// Init must be the first call in main (and in TestMain). In an ordinary
// process it returns at once. In a child that the dispatcher re-executed, it
// reads the job name and message from the parent, runs the job, reports the
// result and exits; it never returns.
//
// A process that looks like a child but did not get the dispatcher's
// handshake (for example one started by hand) prints why it refuses to run
// and exits with code 2.
func Init(reg *Registry) {
	v, ok := os.LookupEnv(wire.EnvChild)
	if !ok {
		return
	}
	os.Exit(runChild(reg, v))
}

func refuse(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "sqsdispatch: "+format+"\n", args...)
	return exitRefused
}

func runChild(reg *Registry, version string) int {
	proc.NameAfter(os.Args[0])
	ppid := os.Getppid()
	_ = os.Unsetenv(wire.EnvChild) // the job's own subprocesses are not children of ours
	if os.Getenv(envStartProcs) != "" {
		_ = os.Unsetenv("GOMAXPROCS")
		_ = os.Unsetenv(envStartProcs)
		runtime.SetDefaultGOMAXPROCS()
	}
	if version != strconv.Itoa(wire.Version) {
		return refuse("child protocol version %q does not match this binary's %d; the parent and child must be the same build", version, wire.Version)
	}
	const notByHand = "this process is a job child of a dispatcher and cannot be started by hand (%s)"
	for _, fd := range []int{3, 4} {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return refuse(notByHand, fmt.Sprintf("file descriptor %d: %v", fd, err))
		}
		syscall.CloseOnExec(fd) // the job's subprocesses must not hold our pipes
	}
	reqPipe, resPipe := os.NewFile(3, "sqsdispatch-request"), os.NewFile(4, "sqsdispatch-result")

	req, err := readRequest(reqPipe)
	if err != nil {
		return refuse(notByHand, err.Error())
	}
	if reg == nil {
		return report(resPipe, wire.Result{Kind: wire.KindPermanent, Error: "sqsdispatch: Init was called with a nil Registry"})
	}

	// The lifeline: the parent holds the request pipe open for our whole
	// life, so EOF means it died. So does a SIGTERM (our Pdeathsig) that
	// arrives when our parent has changed.
	go func() {
		_, _ = io.Copy(io.Discard, reqPipe)
		proc.KillOwnGroup()
	}()
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	sigs := make(chan os.Signal, 4)
	var stoppedBy syscall.Signal
	sigSeen := make(chan struct{})
	go func() {
		// Enabling signal delivery starts a runtime thread; doing it here
		// lets the job start meanwhile. Until it is done a SIGTERM has its
		// default action, which is what an early stop wants anyway.
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
		for s := range sigs {
			if !proc.ParentAlive(ppid) {
				proc.KillOwnGroup()
			}
			if stoppedBy == 0 {
				stoppedBy = s.(syscall.Signal)
				close(sigSeen)
				stop(fmt.Errorf("sqsdispatch: job stopped by %s", s))
			}
		}
	}()

	res := runRequest(ctx, reg, req)
	select {
	case <-sigSeen:
		res.Signal = int(stoppedBy)
	default:
	}
	return report(resPipe, res)
}

func readRequest(r io.Reader) (*wire.Request, error) {
	timer := time.AfterFunc(handshakeTimeout, func() {
		os.Exit(refuse("this process is a job child of a dispatcher and cannot be started by hand (no handshake within %s)", handshakeTimeout))
	})
	defer timer.Stop()
	var req wire.Request
	switch err := wire.Read(r, &req); {
	case err != nil:
		return nil, fmt.Errorf("no handshake from a parent: %v", err)
	case req.Magic != wire.Magic:
		return nil, errors.New("the handshake is not a dispatcher's")
	case req.Version != wire.Version:
		return nil, fmt.Errorf("parent speaks protocol %d, this binary %d", req.Version, wire.Version)
	}
	return &req, nil
}

func report(w *os.File, res wire.Result) int {
	if err := wire.Write(w, res); err != nil {
		fmt.Fprintf(os.Stderr, "sqsdispatch: cannot report the job's result to the dispatcher: %v\n", err)
		return exitFailed
	}
	_ = w.Close()
	if res.Kind == wire.KindOK {
		return exitOK
	}
	return exitFailed
}

// runRequest runs the job (or its cleanup) and turns what it returned into
// a result. A panic becomes a result too, with its stack.
func runRequest(ctx context.Context, reg *Registry, req *wire.Request) (res wire.Result) {
	job, ok := reg.Lookup(req.Job)
	if !ok {
		return wire.Result{Kind: wire.KindPermanent, Error: fmt.Sprintf("%v: %q", ErrUnknownJob, req.Job)}
	}
	defer func() {
		if r := recover(); r != nil {
			res = wire.Result{Kind: wire.KindPanic, Error: fmt.Sprintf("panic: %v", r), Stack: string(debug.Stack())}
		}
	}()
	msg := messageFromWire(req.Message)
	var err error
	switch req.Mode {
	case wire.ModeRun:
		err = job.Run(ctx, msg)
	case wire.ModeCleanup:
		if job.Cleanup == nil {
			return wire.Result{Kind: wire.KindOK}
		}
		if req.TimeoutNS > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutNS))
			defer cancel()
		}
		err = job.Cleanup(ctx, msg, causeFromWire(req.Cause))
	default:
		return wire.Result{Kind: wire.KindPermanent, Error: fmt.Sprintf("sqsdispatch: unknown child mode %q", req.Mode)}
	}
	return resultOf(err)
}

func resultOf(err error) wire.Result {
	var (
		perm  *permanentError
		retry *retryError
	)
	switch {
	case err == nil:
		return wire.Result{Kind: wire.KindOK}
	case errors.As(err, &perm):
		return wire.Result{Kind: wire.KindPermanent, Error: perm.err.Error()}
	case errors.As(err, &retry):
		return wire.Result{Kind: wire.KindRetry, Error: retry.err.Error(), RetryAfterNS: int64(retry.after)}
	default:
		return wire.Result{Kind: wire.KindError, Error: err.Error()}
	}
}

func causeFromWire(c *wire.Cause) Cause {
	if c == nil {
		return Cause{Attempt: 1}
	}
	out := Cause{Reason: c.Reason, ChildRunning: c.ChildRunning, Attempt: c.Attempt}
	if c.Signal != 0 {
		out.Signal = syscall.Signal(c.Signal)
	}
	return out
}
