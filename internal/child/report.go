package child

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Errors of Checkpoint.
var (
	// ErrCheckpointTooLarge is returned for a checkpoint longer than
	// wire.MaxCheckpointBytes.
	ErrCheckpointTooLarge = errors.New("sqsdispatch: checkpoint too large")
	// ErrNotInJob is returned when the context does not come from a job
	// that runs in a job child (a cleanup's context, or one made
	// elsewhere).
	ErrNotInJob = errors.New("sqsdispatch: checkpoints are recorded only with the context a job child gives its job")
	// ErrJobReturned is returned once the job has returned: its result
	// is the last thing reported for it.
	ErrJobReturned = errors.New("sqsdispatch: the job has returned and can record no more checkpoints")
	// ErrNotKept is returned when the job's context ended and the parent
	// did not say soon after that it kept the checkpoint.
	ErrNotKept = errors.New("sqsdispatch: the checkpoint may not have been kept: the job's context ended and the dispatcher did not answer")
)

// lateAnswerWait is how long a checkpoint still waits for the parent's
// answer once the job's context has ended.
const lateAnswerWait = 2 * time.Second

// AnswerKept is the byte the parent writes on the request pipe for each
// checkpoint it keeps, in their order.
const AnswerKept byte = 1

// Checkpoint records data as the job's latest checkpoint. ctx is the
// context the job was given in its job child, or one derived from it. It
// returns nil once the parent holds data: a checkpoint Checkpoint
// returned nil for is kept, even if this process is killed right after.
// Once the parent has begun to interrupt the job it keeps no more, and
// does not answer: Checkpoint then waits until the job is suspended and
// killed, or returns ErrJobReturned when the job returns first, or
// ErrNotKept when no answer came within lateAnswerWait of ctx's end. It
// may be called from several goroutines of the job, but not once the job
// has returned.
func Checkpoint(ctx context.Context, data []byte) error {
	if len(data) > wire.MaxCheckpointBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrCheckpointTooLarge, len(data), wire.MaxCheckpointBytes)
	}
	r, _ := ctx.Value(reporterKey{}).(*reporter)
	if r == nil {
		return ErrNotInJob
	}
	return r.checkpoint(ctx, data)
}

// reporterKey is the context key under which a job finds its reporter.
type reporterKey struct{}

// reporter writes one job's frames to the result pipe: any number of
// checkpoints while the job runs, then the one result. Writes never
// interleave. Each job has a reporter of its own: once the result is
// written, checkpoints made with this one are refused (ErrJobReturned),
// even from a goroutine the job left running in a child that serves
// another job.
type reporter struct {
	mu     sync.Mutex
	w      *os.File
	closed bool  // the job returned: no more checkpoints
	err    error // a write failed: the stream may end mid-frame

	answered sync.Cond // signalled when the parent answers, or the job returns
	sent     int64     // checkpoints written
	kept     int64     // checkpoints the parent said it kept
}

func newReporter(w *os.File) *reporter {
	r := &reporter{w: w}
	r.answered.L = &r.mu
	return r
}

// checkpoint writes a checkpoint frame and waits for the parent to say it
// kept it.
func (r *reporter) checkpoint(ctx context.Context, data []byte) error {
	frame, err := wire.Frame(wire.Result{Kind: wire.KindCheckpoint, Checkpoint: data})
	if err != nil {
		return fmt.Errorf("sqsdispatch: record checkpoint: %w", err)
	}
	// Once ctx ends, the answer may still come: it is waited for a little.
	var gaveUp atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(lateAnswerWait, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			gaveUp.Store(true)
			r.answered.Broadcast()
		})
	})
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrJobReturned
	case r.err != nil:
		return fmt.Errorf("sqsdispatch: record checkpoint: an earlier write to the dispatcher failed: %w", r.err)
	}
	if _, err := r.w.Write(frame); err != nil {
		r.err = err
		return fmt.Errorf("sqsdispatch: record checkpoint: %w", err)
	}
	r.sent++
	seq := r.sent
	for r.kept < seq && !r.closed && !gaveUp.Load() {
		r.answered.Wait()
	}
	switch {
	case r.kept >= seq:
		return nil
	case r.closed:
		return ErrJobReturned
	default:
		return fmt.Errorf("%w: %w", ErrNotKept, context.Cause(ctx))
	}
}

// answer records the parent's answers read from the request pipe
// (inbox).
func (r *reporter) answer(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range p {
		if b == AnswerKept {
			r.kept++
		}
	}
	r.answered.Broadcast()
}

// jobReturned refuses checkpoints from now on.
func (r *reporter) jobReturned() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.answered.Broadcast()
}

// report writes the result, cut to fit a frame, and returns the exit code
// the child exits with if this is its last result, and false when the
// result could not be written. A last result closes the pipe; otherwise
// the pipe stays open for the next job's frames.
func (r *reporter) report(res wire.Result, last bool) (code int, ok bool) {
	if res.Kind == wire.KindCheckpoint { // would not end the stream
		res = wire.Result{Kind: wire.KindError, Error: "sqsdispatch: the job's runner returned a checkpoint as its result", Signal: res.Signal}
	}
	res.Checkpoint = nil
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.answered.Broadcast()
	err := r.err
	if err == nil {
		err = wire.Write(r.w, res.Fit())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sqsdispatch: cannot report the job's result to the dispatcher: %v\n", err)
		return ExitFailed, false
	}
	if last {
		_ = r.w.Close()
	}
	if res.Kind == wire.KindOK || res.Kind == wire.KindJobFinished {
		return ExitOK, true
	}
	return ExitFailed, true
}
