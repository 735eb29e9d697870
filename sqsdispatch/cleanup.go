package sqsdispatch

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/lease"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// cleaned is how an interrupted job's cleanup went.
type cleaned int

const (
	cleanedUp         cleaned = iota // the Cleanup succeeded, or the job has none
	cleanupFailed                    // it failed on every try made
	cleanupImpossible                // it could not run: no visibility to run it in, or its payload could not be fetched
	jobFinished                      // the job had returned before its suspension took hold: nothing was cleaned up
)

// Why a cleanup attempt did not run.
var (
	// errJobFinished: its guard found that the job had already returned.
	errJobFinished = errors.New("sqsdispatch: the job had finished before it was suspended")
	// errNoCleanupLease: the message's visibility could not be extended
	// to cover it; another consumer might run the message meanwhile.
	errNoCleanupLease = errors.New("sqsdispatch: the message's visibility could not be extended for the cleanup")
	// errNoCleanupPayload: the message's payload could not be fetched for
	// it in time.
	errNoCleanupPayload = errors.New("sqsdispatch: the message's payload could not be fetched for the cleanup")
)

// cleanup runs the job's Cleanup, and once more after killing the job if
// it failed or hung, unless a second stop signal has come.
func (t *turn) cleanup(ctx context.Context, cause Cause) (cleaned, error) {
	if t.job.Cleanup == nil {
		return cleanedUp, nil
	}
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		cause.Attempt = attempt
		if err = t.extendForCleanup(ctx); err != nil {
			return cleanupImpossible, err
		}
		err = t.runCleanup(ctx, cause)
		switch {
		case err == nil:
			t.log.Info("cleanup done", zap.Int("attempt", attempt))
			return cleanedUp, nil
		case errors.Is(err, errJobFinished):
			return jobFinished, nil
		case attempt == 1 && errors.Is(err, errNoCleanupPayload):
			return cleanupImpossible, err
		}
		t.log.Warn("cleanup failed; killing the job", zap.Int("attempt", attempt), zap.Error(err))
		t.kill()
		cause.ChildRunning = false
		if t.r.hard() {
			break
		}
	}
	return cleanupFailed, err
}

// kill kills what is left of the job's process group and waits for it to
// be reaped.
func (t *turn) kill() {
	t.c.Signal(syscall.SIGKILL)
	<-t.c.Done()
}

// extendForCleanup extends the message's visibility by CleanupTimeout plus
// a margin (and, for a message with a payload, the time to fetch it),
// trying twice within maxCallTime. Visibility that SQS's 12-hour limit
// would cut short is no extension: the message would come back while the
// cleanup runs.
func (t *turn) extendForCleanup(ctx context.Context) error {
	want := t.d.cfg.cleanupVisibility(t.pointer != nil)
	short := func(got time.Duration) error {
		return fmt.Errorf("%w: SQS's 12-hour limit leaves %s of the %s needed", errNoCleanupLease, got, want)
	}
	ctx, cancel := context.WithTimeout(ctx, maxCallTime)
	defer cancel()
	var err error
	for range 2 {
		if got := lease.Cap(want, time.Since(t.m.received), t.d.maxAge); got < want {
			return short(got) // asking would make the message visible before the job is gone
		}
		var got time.Duration
		if got, err = t.hide(ctx, want); err == nil && got < want {
			return short(got)
		}
		if err == nil {
			return nil
		}
		t.log.Warn("extending visibility for cleanup", zap.Error(err))
	}
	return fmt.Errorf("%w: %w", errNoCleanupLease, err)
}

// runCleanup runs the job's Cleanup in a child of its own, bounded by
// CleanupTimeout. While the job is suspended, that child guards it: if the
// dispatcher dies, the guard kills the job's process group. A Cleanup gets
// the message as its job did: with its payload.
func (t *turn) runCleanup(ctx context.Context, cause Cause) error {
	req := wire.Request{Magic: wire.Magic, Version: wire.Version, Mode: wire.ModeCleanup, Job: t.job.Name,
		Message: t.m.msg.toWire(), Cause: cause.toWire(), TimeoutNS: int64(t.d.cfg.CleanupTimeout)}
	body, err := t.reopenPayload(ctx, payloadCleanupOpen, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoCleanupPayload, err)
	}
	if cause.ChildRunning {
		// The cleanup child suspends the job once it is armed to kill it
		// should this process die, and kills it when the cleanup is done.
		req.GuardPGID = t.c.PID()
	}
	opts := t.d.childOptions(t.log.With(zap.String("phase", "cleanup")))
	opts.PIDKey = "cleanup_pid" // its log names the job's pid already
	cc, err := child.Start(opts)
	if err != nil {
		body.Close()
		return fmt.Errorf("%w: %w", ErrChildStart, err)
	}
	t.cleaning = true
	if body != nil {
		cc.SendBody(req, body.r, body.size, opts.Log)
	} else {
		cc.Send(req, opts.Log)
	}
	defer cc.Release()
	defer body.Close() // before the release: a read of the store that stalls must not hold it
	timer := time.NewTimer(t.d.cfg.CleanupTimeout)
	defer timer.Stop()
	select {
	case <-cc.Done():
		if res := cc.Result(); res == nil || res.Kind != wire.KindOK && res.Kind != wire.KindJobFinished {
			t.c.Signal(syscall.SIGKILL) // its guard is gone
		}
	case <-timer.C:
		t.c.Signal(syscall.SIGKILL) // before its guard goes
		return fmt.Errorf("sqsdispatch: cleanup timed out after %s", t.d.cfg.CleanupTimeout)
	}
	res, state := cc.Result(), cc.State()
	switch {
	case res != nil && res.Kind == wire.KindJobFinished:
		return errJobFinished
	case res != nil && res.Kind == wire.KindOK && state.Success():
		return nil
	case res != nil:
		return errors.New("sqsdispatch: cleanup failed: " + res.Error)
	default:
		return fmt.Errorf("sqsdispatch: cleanup process exited without a result (%s): %s", state, lastLine(cc.Stderr()))
	}
}
