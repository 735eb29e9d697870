// Package busy tells a platform when the dispatcher holds messages, so
// that the platform can protect the process from scale-in while it works
// (ECS task scale-in protection, say). The dispatcher counts the messages
// in its care with Acquire and Release, which never block; one goroutine,
// Run, makes the calls to the hook, one at a time, each reflecting the
// latest state.
package busy

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// Hook is the platform's side: sqsdispatch.BusyHook.
type Hook interface {
	SetBusy(ctx context.Context, busy bool) error
	RenewEvery() time.Duration
}

const (
	// CallTimeout bounds one call to the hook made while Run runs.
	CallTimeout = 10 * time.Second
	// FinalTimeout bounds the SetBusy(false) Run makes as it returns.
	FinalTimeout = 5 * time.Second
	// RetryMin is the wait after a call failed before the next one; it
	// doubles with each failure in a row, up to RetryMax.
	RetryMin = time.Second
	// RetryMax bounds the wait between calls to a failing hook.
	RetryMax = 30 * time.Second
)

// Tracker counts the messages the dispatcher holds and keeps the hook told
// whether there are any. A nil *Tracker is valid and does nothing, so the
// dispatcher need not check whether a hook was configured.
type Tracker struct {
	hook  Hook
	clock clock.Clock
	log   *zap.Logger
	renew time.Duration

	held atomic.Int64
	wake chan struct{} // capacity 1: a change of busy-ness not yet looked at
}

// New returns a tracker for hook, or nil when hook is nil. renew is read
// from hook.RenewEvery once, here. c (nil: the real clock) times the
// renewals and retries.
func New(hook Hook, c clock.Clock, log *zap.Logger) *Tracker {
	if hook == nil {
		return nil
	}
	if c == nil {
		c = clock.Real{}
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Tracker{hook: hook, clock: c, log: log, renew: max(hook.RenewEvery(), 0), wake: make(chan struct{}, 1)}
}

// Acquire counts a message taken into the dispatcher's care. It never
// blocks.
func (t *Tracker) Acquire() {
	if t == nil {
		return
	}
	if t.held.Add(1) == 1 {
		t.poke()
	}
}

// Release counts a message whose fate is settled (deleted, given back,
// continued or dead-lettered, or given up on). It never blocks. A Release
// without its Acquire is logged and ignored.
func (t *Tracker) Release() {
	if t == nil {
		return
	}
	for {
		n := t.held.Load()
		if n <= 0 {
			t.log.Error("busy: Release without Acquire; ignored")
			return
		}
		if t.held.CompareAndSwap(n, n-1) {
			if n == 1 {
				t.poke()
			}
			return
		}
	}
}

// Busy reports whether the tracker counts any message now.
func (t *Tracker) Busy() bool { return t != nil && t.held.Load() > 0 }

func (t *Tracker) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Run calls the hook until ctx ends, then, unless the hook was last told
// false (or never told anything), makes a final SetBusy(false) bounded by
// FinalTimeout, and returns. It must be called at most once. It returns
// within CallTimeout + FinalTimeout of ctx's end if the hook returns when
// its context ends.
//
// A call is made when the state differs from what the hook was last told:
// SetBusy(true) when the first message is acquired, SetBusy(false) when
// the last one is released. Calls are never made in parallel and never
// queue up: after each call the current state is read again, so changes
// made while a call was in flight cost at most one more call, for the
// latest state, and none if the state is back where the call left it.
// While busy, SetBusy(true) is repeated RenewEvery after the last call
// that succeeded (never when RenewEvery is 0). A failed call is logged
// and, after RetryMin (doubling up to RetryMax while calls keep failing),
// followed by a call for the state of that moment, whatever it is.
func (t *Tracker) Run(ctx context.Context) {
	if t == nil {
		return
	}
	timer := t.clock.NewTimer(time.Hour)
	stopTimer(timer)
	var (
		told     bool // what the last call that succeeded said
		stale    bool // a call is due whatever the state: a renewal, or the last call failed
		waiting  bool // the timer is a retry's: no call before it fires
		failures int  // calls failed in a row
	)
	for ctx.Err() == nil {
		if want := t.Busy(); !waiting && (stale || want != told) {
			stopTimer(timer)
			if err := t.call(ctx, want); err != nil {
				stale = true
				if ctx.Err() != nil {
					break
				}
				failures++
				d := retryDelay(failures)
				t.log.Warn("busy hook failed", zap.Bool("busy", want), zap.Error(err),
					zap.Int("failures", failures), zap.Duration("retry_in", d))
				waiting = true
				timer.Reset(d)
				continue
			}
			if failures > 0 {
				t.log.Info("busy hook answered again", zap.Bool("busy", want), zap.Int("failures", failures))
			}
			told, stale, failures = want, false, 0
			if want && t.renew > 0 {
				timer.Reset(t.renew)
			}
			continue // the state may have changed during the call
		}
		select {
		case <-ctx.Done():
		case <-t.wake:
		case <-timer.C():
			// A retry is due, or, while busy, a renewal: either way the
			// hook is told the state again.
			waiting, stale = false, true
		}
	}
	stopTimer(timer)
	if !stale && !told {
		return // the hook was last told false, and it held
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FinalTimeout)
	defer cancel()
	if err := t.hook.SetBusy(fctx, false); err != nil {
		t.log.Warn("busy hook failed at stop", zap.Bool("busy", false), zap.Error(err))
	}
}

// stopTimer stops timer and drops a firing it may have left unread.
func stopTimer(timer clock.Timer) {
	if !timer.Stop() {
		select {
		case <-timer.C():
		default:
		}
	}
}

// call makes one call to the hook, bounded by CallTimeout.
func (t *Tracker) call(ctx context.Context, busy bool) error {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	return t.hook.SetBusy(cctx, busy)
}

// retryDelay is the wait after the n-th failure in a row.
func retryDelay(n int) time.Duration {
	d := RetryMin
	for i := 1; i < n && d < RetryMax; i++ {
		d *= 2
	}
	return min(d, RetryMax)
}
