package sqsdispatch

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy decides how long a message whose job failed stays invisible
// before its next delivery. Delays are capped below SQS's 12-hour limit.
type RetryPolicy interface {
	// Delay returns the delay after the receiveCount-th delivery failed.
	Delay(receiveCount int) time.Duration
}

// Defaults of ExponentialBackoff's zero fields.
const (
	// RetryBaseDefault is the delay after the first failed delivery.
	RetryBaseDefault = 10 * time.Second
	// RetryMaxDefault caps every delay. It stays far below SQS's 12-hour
	// visibility limit so a retried message is never held past it.
	RetryMaxDefault = 15 * time.Minute
)

// ExponentialBackoff is a RetryPolicy whose delay doubles with each
// delivery: Base, 2×Base, 4×Base, ... up to Max. With Jitter j > 0 each
// delay is drawn uniformly from [(1-j)×d, d], so a burst of failures does
// not come back at once.
type ExponentialBackoff struct {
	// Base is the first delay. Defaults to RetryBaseDefault.
	Base time.Duration
	// Max caps the delay; at most 12 h. Defaults to RetryMaxDefault.
	Max time.Duration
	// Jitter is the fraction (0 to 1) of each delay that is random.
	// Defaults to 0: no jitter.
	Jitter float64
}

// Delay implements RetryPolicy.
func (b ExponentialBackoff) Delay(receiveCount int) time.Duration {
	base, ceiling := cmp.Or(b.Base, RetryBaseDefault), min(cmp.Or(b.Max, RetryMaxDefault), maxVisibility)
	d := ceiling
	if n := max(receiveCount, 1) - 1; n < 62 && base<<n > 0 && base<<n < ceiling {
		d = base << n
	}
	if j := min(max(b.Jitter, 0), 1); j > 0 {
		lo := time.Duration(float64(d) * (1 - j))
		d = lo + rand.N(d-lo+1)
	}
	return d
}

func (b ExponentialBackoff) validate() error {
	switch {
	case b.Base < 0 || b.Max < 0:
		return fmt.Errorf("sqsdispatch: Config.Retry: ExponentialBackoff.Base (%s) and Max (%s) must not be negative", b.Base, b.Max)
	case b.Max > maxVisibility:
		return fmt.Errorf("sqsdispatch: Config.Retry: ExponentialBackoff.Max (%s) exceeds SQS's 12h visibility limit", b.Max)
	case b.Jitter < 0 || b.Jitter > 1:
		return fmt.Errorf("sqsdispatch: Config.Retry: ExponentialBackoff.Jitter (%g) must be between 0 and 1", b.Jitter)
	}
	return nil
}
