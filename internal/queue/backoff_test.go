package queue

import (
	"testing"
	"time"
)

// backoffStep is one failure fed to Backoff.Next and what it should answer.
type backoffStep struct {
	at       time.Duration // since the first failure
	reset    bool          // Reset before this failure
	min, max time.Duration
	wantOK   bool
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name   string
		giveUp time.Duration
		steps  []backoffStep
	}{
		{name: "doubles from the base, capped at the maximum", giveUp: time.Hour, steps: []backoffStep{
			{at: 0, min: 50 * ms, max: 100 * ms, wantOK: true},
			{at: 1 * time.Second, min: 100 * ms, max: 200 * ms, wantOK: true},
			{at: 2 * time.Second, min: 200 * ms, max: 400 * ms, wantOK: true},
			{at: 3 * time.Second, min: 400 * ms, max: 800 * ms, wantOK: true},
			{at: 4 * time.Second, min: 800 * ms, max: 1600 * ms, wantOK: true},
			{at: 5 * time.Second, min: 1600 * ms, max: 3200 * ms, wantOK: true},
			{at: 6 * time.Second, min: 2500 * ms, max: 5000 * ms, wantOK: true},
			{at: 7 * time.Second, min: 2500 * ms, max: 5000 * ms, wantOK: true},
		}},
		{name: "no overflow after many failures", giveUp: time.Hour, steps: manyBackoffSteps(100)},
		{name: "gives up after giveUp", giveUp: 10 * time.Second, steps: []backoffStep{
			{at: 0, min: 50 * ms, max: 100 * ms, wantOK: true},
			{at: 9 * time.Second, min: 100 * ms, max: 200 * ms, wantOK: true},
			{at: 10 * time.Second, wantOK: false},
		}},
		{name: "never waits past giveUp", giveUp: 10 * time.Second, steps: []backoffStep{
			{at: 0, min: 50 * ms, max: 100 * ms, wantOK: true},
			{at: 1 * ms, min: 100 * ms, max: 200 * ms, wantOK: true},
			{at: 2 * ms, min: 200 * ms, max: 400 * ms, wantOK: true},
			{at: 3 * ms, min: 400 * ms, max: 800 * ms, wantOK: true},
			{at: 10*time.Second - 300*ms, min: 300 * ms, max: 300 * ms, wantOK: true},
		}},
		{name: "reset starts afresh", giveUp: 10 * time.Second, steps: []backoffStep{
			{at: 0, min: 50 * ms, max: 100 * ms, wantOK: true},
			{at: time.Second, min: 100 * ms, max: 200 * ms, wantOK: true},
			{at: 20 * time.Second, reset: true, min: 50 * ms, max: 100 * ms, wantOK: true},
			{at: 29 * time.Second, min: 100 * ms, max: 200 * ms, wantOK: true},
			{at: 30 * time.Second, wantOK: false},
		}},
		{name: "zero giveUp gives up at once", steps: []backoffStep{{at: 0, wantOK: false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := Backoff{GiveUp: tt.giveUp}
			for i, s := range tt.steps {
				if s.reset {
					b.Reset()
				}
				d, ok := b.Next(testStart.Add(s.at))
				if ok != s.wantOK || (ok && (d < s.min || d > s.max)) || (!ok && d != 0) {
					t.Errorf("failure %d at +%v: Next = %v, %t; want %t with a delay in [%v, %v]",
						i+1, s.at, d, ok, s.wantOK, s.min, s.max)
				}
			}
		})
	}
}

// manyBackoffSteps returns n failures a second apart; from the seventh on
// the delay is at the cap.
func manyBackoffSteps(n int) []backoffStep {
	steps := make([]backoffStep, n)
	for i := range steps {
		steps[i] = backoffStep{at: time.Duration(i) * time.Second, max: BackoffMax, wantOK: true}
		if i >= 6 {
			steps[i].min = BackoffMax / 2
		}
	}
	return steps
}
