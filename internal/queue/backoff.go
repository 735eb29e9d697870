package queue

import (
	"math/rand/v2"
	"time"
)

// Back-off bounds: the first delay and the longest one.
const (
	BackoffBase = 100 * time.Millisecond
	BackoffMax  = 5 * time.Second
)

// Backoff spaces out the retries of a failing call: exponential from
// BackoffBase to BackoffMax with jitter (so that service resumes within
// seconds of an outage's end), giving up once failures have lasted GiveUp.
// The zero value gives up at the first failure. It is not safe for
// concurrent use.
type Backoff struct {
	// GiveUp is how long failures may last before Next gives up.
	GiveUp time.Duration

	failures int
	since    time.Time // of the first failure since the last success
}

// Next records a failure at now and returns how long to wait before the
// next try, or false once failures have lasted GiveUp. The wait is drawn
// from [d/2, d], d doubling with every failure from BackoffBase up to
// BackoffMax, and never runs past the moment Next would give up.
func (b *Backoff) Next(now time.Time) (time.Duration, bool) {
	if b.failures == 0 {
		b.since = now
	}
	b.failures++
	failing := now.Sub(b.since)
	if failing >= b.GiveUp {
		return 0, false
	}
	d := BackoffMax
	if b.failures < 20 { // beyond, the shift would only overshoot
		d = min(BackoffMax, BackoffBase<<(b.failures-1))
	}
	d = d/2 + rand.N(d/2+1)
	return min(d, b.GiveUp-failing), true
}

// Reset records a success: the next failure starts afresh.
func (b *Backoff) Reset() { b.failures = 0 }
