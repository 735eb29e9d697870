package sqsdispatch

import (
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// TestOutcomeRetirement: a child that may be dirty is never reused, one
// reason each; a clean job's child may go on.
func TestOutcomeRetirement(t *testing.T) {
	t.Parallel()
	ok := &wire.Result{Kind: wire.KindOK}
	tests := []struct {
		name     string
		a        action
		x        exitInfo
		stopping bool
		want     string
	}{
		{"success", action{verb: doDelete}, exitInfo{res: ok}, false, ""},
		{"an ordinary error", action{verb: doLeave, failure: failJob}, exitInfo{res: &wire.Result{Kind: wire.KindError}}, false, ""},
		{"RetryAfter", action{verb: doVisibility, failure: failJob}, exitInfo{res: &wire.Result{Kind: wire.KindRetry}}, false, ""},
		{"Permanent", action{verb: doDeadLetter, failure: failJob}, exitInfo{res: &wire.Result{Kind: wire.KindPermanent}}, false, ""},
		{"a crash: no result", action{verb: doLeave}, exitInfo{exitCode: 3}, false, retireCrash},
		{"a panic", action{verb: doLeave}, exitInfo{res: &wire.Result{Kind: wire.KindPanic}}, false, retirePanic},
		{"a timeout", action{verb: doLeave}, exitInfo{res: ok, timedOut: true}, false, retireTimeout},
		{"a MaxRSS kill", action{verb: doLeave}, exitInfo{res: ok, memExceeded: true}, false, retireMaxRSS},
		{"a MaxRSS kill before a result", action{verb: doLeave}, exitInfo{signal: 9, memExceeded: true}, false, retireMaxRSS},
		{"a timeout's kill before a result", action{verb: doLeave}, exitInfo{signal: 9, timedOut: true}, false, retireTimeout},
		{"killed by a signal", action{verb: doInterrupt}, exitInfo{res: ok, signal: 9}, false, retireSignal},
		{"a signal made it return", action{verb: doInterrupt}, exitInfo{res: &wire.Result{Kind: wire.KindError, Signal: 15}}, false, retireSignal},
		{"a lost lease", action{verb: doLeave, failure: failLease}, exitInfo{res: ok}, false, retireLeaseLost},
		{"interrupted", action{verb: doInterrupt, byStop: true}, exitInfo{res: ok}, false, retireInterrupted},
		{"continued", action{verb: doContinue}, exitInfo{res: ok}, false, retireInterrupted},
		{"interrupted while it ran: no result yet", action{verb: doInterrupt, byStop: true}, exitInfo{}, false, retireInterrupted},
		{"its lease lost while it ran", action{verb: doLeave, failure: failLease}, exitInfo{signal: 9, killedByUs: true}, false, retireSignal},
		{"the dispatcher stops", action{verb: doDelete}, exitInfo{res: ok}, true, retireStopping},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := outcomeRetirement(tt.a, tt.x, tt.stopping); got != tt.want {
				t.Errorf("outcomeRetirement = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestWearRetirement: a clean child retires after its number of jobs, its
// lifetime, or with its memory above the fraction of the limit.
func TestWearRetirement(t *testing.T) {
	t.Parallel()
	p := Reuse{MaxJobs: 100}.withDefaults()
	tests := []struct {
		name string
		w    wear
		want string
	}{
		{"fresh", wear{jobs: 1, limit: 90, age: time.Second}, ""},
		{"its number of jobs", wear{jobs: 90, limit: 90}, retireJobs},
		{"its lifetime", wear{jobs: 1, limit: 90, age: time.Hour}, retireLifetime},
		{"memory within the fraction", wear{jobs: 1, limit: 90, rss: 50 << 20, memLimit: 100 << 20}, ""},
		{"memory above the fraction", wear{jobs: 1, limit: 90, rss: 51 << 20, memLimit: 100 << 20}, retireRSS},
		{"no memory limit: not checked", wear{jobs: 1, limit: 90, rss: 1 << 40}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := wearRetirement(p, tt.w); got != tt.want {
				t.Errorf("wearRetirement = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestReuseLimitJitter: each child's limit is drawn from [MaxJobs×(1−
// Jitter), MaxJobs], both ends included.
func TestReuseLimitJitter(t *testing.T) {
	t.Parallel()
	p := Reuse{MaxJobs: 100, Jitter: 0.2}
	if lo := p.limit(func(n int) int { return n - 1 }); lo != 80 {
		t.Errorf("lowest limit %d; want 80", lo)
	}
	if hi := p.limit(func(int) int { return 0 }); hi != 100 {
		t.Errorf("highest limit %d; want 100", hi)
	}
}

// TestReuseValidates: New names the field of a Reuse out of range.
func TestReuseValidates(t *testing.T) {
	t.Parallel()
	for _, r := range []Reuse{{MaxJobs: -1}, {MaxJobs: 5, Jitter: 1}, {MaxJobs: 5, MaxLifetime: -time.Second}, {MaxJobs: 5, MaxRSSFraction: 1.5}} {
		if err := r.validate("Config.Reuse"); err == nil {
			t.Errorf("%+v validated", r)
		}
	}
	if err := (Reuse{MaxJobs: 5, Jitter: 0.5, MaxRSSFraction: 1}).validate("Config.Reuse"); err != nil {
		t.Error(err)
	}
}
