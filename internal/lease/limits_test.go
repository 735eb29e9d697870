package lease

import (
	"slices"
	"testing"
	"time"
)

func TestMaxAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxAge   time.Duration
		wantSecs []int32       // visibility asked by each call
		wantLost time.Duration // after t0
	}{
		{name: "extensions are capped, then stop", maxAge: 30 * time.Second,
			wantSecs: []int32{10, 10, 8}, wantLost: 20 * time.Second},
		{name: "nothing left to grant at the first extension", maxAge: 14500 * time.Millisecond,
			wantSecs: nil, wantLost: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, Config{Visibility: 10 * time.Second, Interval: 4 * time.Second, MaxAge: tt.maxAge}, nil)
			l := e.m.Hold("qa", "r", t0)
			for e.clk.Now().Before(t0.Add(tt.wantLost)) {
				if isClosed(l.Lost()) {
					t.Fatalf("lost at t0+%v, before t0+%v: %v", e.clk.Now().Sub(t0), tt.wantLost, l.Err())
				}
				e.advance(500 * time.Millisecond)
			}
			mustBeLost(t, l, "12-hour")
			e.advance(30 * time.Second)

			var secs []int32
			for _, c := range e.sqs.callsMade() {
				secs = append(secs, c.secs...)
				if end := c.at.Add(time.Duration(c.secs[0]) * time.Second); end.After(t0.Add(tt.maxAge - Margin)) {
					t.Errorf("call at t0+%v asked past MaxAge - Margin", c.at.Sub(t0))
				}
			}
			if !slices.Equal(secs, tt.wantSecs) {
				t.Errorf("visibilities asked = %v, want %v", secs, tt.wantSecs)
			}
		})
	}
}

func TestCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		d, age, max time.Duration
		want        time.Duration
	}{
		{name: "far from the limit", d: time.Minute, age: time.Hour, max: MaxAgeDefault, want: time.Minute},
		{name: "near the limit", d: time.Minute, age: 12*time.Hour - 40*time.Second, max: MaxAgeDefault, want: 30 * time.Second},
		{name: "inside the margin", d: time.Minute, age: 12*time.Hour - 5*time.Second, max: MaxAgeDefault, want: 0},
		{name: "past the limit", d: time.Minute, age: 13 * time.Hour, max: MaxAgeDefault, want: 0},
		{name: "zero asked", d: 0, age: 0, max: MaxAgeDefault, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Cap(tt.d, tt.age, tt.max); got != tt.want {
				t.Errorf("Cap(%v, %v, %v) = %v, want %v", tt.d, tt.age, tt.max, got, tt.want)
			}
		})
	}
}

func TestLeaseCap(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Visibility: 10 * time.Second, Interval: 4 * time.Second, MaxAge: time.Minute}, nil)
	// Only the receive time and the clock matter here, not whether the
	// lease still holds.
	l := e.m.Hold("qa", "r", t0.Add(-45*time.Second))
	t.Cleanup(l.Release)
	if got := l.Cap(30 * time.Second); got != 5*time.Second {
		t.Errorf("Cap(30s) 45s after the receive with MaxAge 1m = %v, want 5s", got)
	}
}

func TestGone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, code, message string
		want                bool
	}{
		{name: "invalid receipt", code: "ReceiptHandleIsInvalid", want: true},
		{name: "not in flight", code: "MessageNotInflight", want: true},
		{name: "not in flight, long code", code: "AWS.SimpleQueueService.MessageNotInflight", want: true},
		{name: "expired receipt", code: "InvalidParameterValue", message: "The Receipt handle has expired", want: true},
		{name: "other invalid parameter", code: "InvalidParameterValue", message: "VisibilityTimeout is too large"},
		{name: "server error", code: "InternalError", message: "receipt"},
		{name: "throttled", code: "ThrottlingException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Gone(tt.code, tt.message); got != tt.want {
				t.Errorf("Gone(%q, %q) = %v, want %v", tt.code, tt.message, got, tt.want)
			}
		})
	}
}
