// Package testhook lets this module's own test programs (the chaos
// service) shorten the limits that real time makes untestable, such as
// SQS's 12-hour limit on a message's visibility. Nothing outside this
// module can import it, and nothing in the library sets it.
package testhook

import (
	"sync/atomic"
	"time"
)

// AgeLimit replaces SQS's 12-hour limit for the dispatchers created after
// SetAgeLimit: jobs are interrupted Margin before MaxAge, counted from
// each receive, and a continuation needs the original hidden for
// HideMin.
type AgeLimit struct {
	MaxAge, Margin, HideMin time.Duration
}

var ageLimit atomic.Pointer[AgeLimit]

// SetAgeLimit makes a the age limit of the dispatchers created from now on.
func SetAgeLimit(a AgeLimit) { ageLimit.Store(&a) }

// CurrentAgeLimit returns the age limit set, if one was.
func CurrentAgeLimit() (AgeLimit, bool) {
	a := ageLimit.Load()
	if a == nil {
		return AgeLimit{}, false
	}
	return *a, true
}
