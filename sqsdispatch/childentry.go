package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Cause tells a job's Cleanup why it runs.
type Cause struct {
	// Signal is the stop signal that interrupted the job, or the signal
	// that killed it from outside; nil when the dispatcher's context was
	// cancelled.
	Signal os.Signal
	// Reason says in words what happened.
	Reason string
	// ChildRunning is true when the job's process was still alive (and is
	// now suspended) as the cleanup started; false when it had died.
	ChildRunning bool
	// Attempt is 1 for the first try and 2 for the retry.
	Attempt int
	// Checkpoint is the checkpoint the dispatcher keeps for the next run:
	// the last one the job was told was kept (see Checkpoint), or, when
	// it recorded none or a copy of the message cannot carry it, the
	// message's own Message.Checkpoint; nil when there is none. A Cleanup
	// undoes what the job did after it. Should the copy that carries it
	// fail to be sent, the next run resumes from the message's own
	// checkpoint, and the work between the two is done again.
	Checkpoint []byte
}

func (c Cause) toWire() *wire.Cause {
	wc := &wire.Cause{Reason: c.Reason, ChildRunning: c.ChildRunning, Attempt: c.Attempt, Checkpoint: c.Checkpoint}
	if s, ok := c.Signal.(syscall.Signal); ok {
		wc.Signal = int(s)
	}
	return wc
}

func causeFromWire(c *wire.Cause) Cause {
	if c == nil {
		return Cause{Attempt: 1}
	}
	out := Cause{Reason: c.Reason, ChildRunning: c.ChildRunning, Attempt: c.Attempt, Checkpoint: c.Checkpoint}
	if c.Signal != 0 {
		out.Signal = syscall.Signal(c.Signal)
	}
	return out
}

// Init must be the first call in main (and in TestMain). In an ordinary
// process it returns at once. In a child that the dispatcher re-executed,
// it reads the job name and message from the parent, runs the job,
// reports the result and exits; it never returns.
//
// A child is the same program as its parent, started with the parent's
// arguments and environment, so main may parse flags and build its
// registry before Init: everything main does before Init runs in every
// child too, before the job. Keep it to what the jobs need (flags,
// configuration, the registry); open connections in the job itself.
//
// A process that looks like a child but did not get the dispatcher's
// handshake (for example one started by hand) prints why it refuses to
// run and exits with code 2; so does a child whose registry is nil.
func Init(reg *Registry) {
	if !child.IsChild() {
		return
	}
	if reg == nil {
		os.Exit(child.Serve(nil))
	}
	os.Exit(child.Serve(func(ctx context.Context, req *wire.Request) wire.Result { return runRequest(ctx, reg, req) }))
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
	ctx = withTrace(ctx, msg)
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

// resultOf turns a job's error into plain data that crosses the process
// boundary.
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

// jobRequest is the request that runs m's job in a child.
func jobRequest(m *Message, job string) wire.Request {
	return wire.Request{Magic: wire.Magic, Version: wire.Version, Mode: wire.ModeRun, Job: job, Message: m.toWire()}
}
