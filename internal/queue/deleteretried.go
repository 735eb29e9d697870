package queue

import (
	"context"
	"time"
)

// DeleteRetry says how long DeleteRetried keeps trying.
type DeleteRetry struct {
	// Until is when the last try must have ended: the end of the
	// message's hide, after which deleting it no longer keeps it from
	// running again.
	Until time.Time
	// PerCall bounds each try.
	PerCall time.Duration
	// Failed, when set, is told of each failed try that will be followed
	// by another.
	Failed func(attempt int, err error)
}

// DeleteRetried deletes a message whose copy was sent: a delete that
// fails is tried again, with back-off, until r.Until or until ctx ends,
// unless the error will not go away (the receipt handle no longer holds
// the message, or a fatal error). No try runs past r.Until, except a
// first one that starts after it. It returns the last error.
func (q *Queues) DeleteRetried(ctx context.Context, url, receipt, msgID string, r DeleteRetry) error {
	bo := Backoff{GiveUp: r.Until.Sub(q.clock.Now())}
	for attempt := 1; ; attempt++ {
		call := r.PerCall
		if left := r.Until.Sub(q.clock.Now()); attempt > 1 || left > 0 {
			call = min(call, left)
		}
		cctx, cancel := context.WithTimeout(ctx, call)
		err := q.Delete(cctx, url, receipt, msgID)
		cancel()
		if err == nil || LeaseGone(err) || IsFatal(err) || ctx.Err() != nil {
			return err
		}
		pause, ok := bo.Next(q.clock.Now())
		if !ok {
			return err
		}
		if r.Failed != nil {
			r.Failed(attempt, err)
		}
		t := q.clock.NewTimer(pause)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}
