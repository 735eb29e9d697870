package sqsdispatch

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/stop"
)

// runState is what the owners of one Run's (or DispatchOne's) messages
// share: whether and how the dispatcher is stopping.
type runState struct {
	stop  *stop.Stopper
	abort chan struct{} // closed on a fatal error: interrupt at once
	halt  chan struct{} // closed at the first stop or fatal error: no job may start
	intr  chan struct{} // closed when running jobs must be interrupted

	mu    sync.Mutex
	fatal error

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func newRunState(ctx context.Context, cfg stop.Config) *runState {
	r := &runState{stop: stop.New(ctx, cfg), abort: make(chan struct{}), halt: make(chan struct{}), intr: make(chan struct{}),
		done: make(chan struct{})}
	r.wg.Go(func() {
		select {
		case <-r.stop.Stopping():
		case <-r.abort:
		case <-r.done:
			return
		}
		close(r.halt)
		select {
		case <-r.stop.Interrupt():
		case <-r.abort:
		case <-r.done:
			return
		}
		close(r.intr)
	})
	return r
}

// close releases the stop signals and ends the watcher; a stop signal
// that came before it is recorded. Idempotent.
func (r *runState) close() {
	r.closeOnce.Do(func() {
		close(r.done)
		r.wg.Wait()
		r.stop.Close()
	})
}

// stopping reports whether no new job may start.
func (r *runState) stopping() bool { return r.stop.IsStopping() || isClosed(r.abort) }

// halted is closed at the first stop or fatal error.
func (r *runState) halted() <-chan struct{} { return r.halt }

// errSettleBudget ends the SQS calls that settle a message once the
// dispatcher has been stopping for settleBudget.
var errSettleBudget = errors.New("sqsdispatch: the stop's time for settling the message ran out")

// settling returns ctx bounded, once the dispatcher is stopping, by
// settleBudget counted from the stop (or from now, if it stopped before).
// Call the cancel function when the calls are done.
func (r *runState) settling(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-r.halt:
		case <-ctx.Done():
			return
		}
		t := time.NewTimer(settleBudget)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(errSettleBudget)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// receiving returns a context for receives. It does not end with ctx (the
// end of Run's context is a stop, and a long poll cancelled under way can
// leave what SQS already handed out to it hidden for a whole visibility
// timeout), but receiveDrain after the first stop, or at once on a fatal
// error. Call the cancel function when done receiving.
func (r *runState) receiving(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-r.halt:
		case <-ctx.Done():
			return
		}
		drain := time.NewTimer(receiveDrain)
		defer drain.Stop()
		select {
		case <-r.abort:
		case <-drain.C:
		case <-ctx.Done():
			return
		}
		cancel()
	}()
	return ctx, cancel
}

// receiveDrain bounds how long a receive under way is let finish after a
// stop: its long poll (20 s at most) and a margin. Only a connection that
// hangs reaches it.
const receiveDrain = maxWaitTime + 5*time.Second

// interrupt is closed when running jobs must be interrupted.
func (r *runState) interrupt() <-chan struct{} { return r.intr }

// hard reports whether a second stop signal has come.
func (r *runState) hard() bool { return r.stop.IsHard() }

// setFatal records the first fatal error and interrupts running jobs.
func (r *runState) setFatal(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal == nil {
		r.fatal = err
		close(r.abort)
	}
}

func (r *runState) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// why returns the stop signal (nil for a context) and the error Run
// returns for the stop.
func (r *runState) why() (os.Signal, error) {
	return r.stop.Signal(), r.stopErr()
}

func (r *runState) stopErr() error {
	return &StoppedError{Signal: r.stop.Signal(), Cause: r.stop.Cause()}
}

// childGone frees m's slot once its child is gone, before its outcome's
// SQS calls are done.
func (r *runState) childGone(m *inflight) {
	if m.free != nil {
		m.free()
	}
}
