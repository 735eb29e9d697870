package sqsdispatch_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// TestOutcomePredicates: job code and tests can tell the outcome helpers'
// errors apart, also when wrapped.
func TestOutcomePredicates(t *testing.T) {
	t.Parallel()
	base := errors.New("boom")
	tests := []struct {
		name      string
		err       error
		permanent bool
		delay     time.Duration
		retry     bool
	}{
		{"nil", nil, false, 0, false},
		{"plain error", base, false, 0, false},
		{"Permanent", sqsdispatch.Permanent(base), true, 0, false},
		{"wrapped Permanent", fmt.Errorf("ctx: %w", sqsdispatch.Permanent(base)), true, 0, false},
		{"RetryAfter", sqsdispatch.RetryAfter(time.Minute, base), false, time.Minute, true},
		{"wrapped RetryAfter", fmt.Errorf("ctx: %w", sqsdispatch.RetryAfter(2*time.Second, nil)), false, 2 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sqsdispatch.IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent = %t", got)
			}
			if d, ok := sqsdispatch.RetryDelay(tt.err); d != tt.delay || ok != tt.retry {
				t.Errorf("RetryDelay = %s, %t", d, ok)
			}
		})
	}
	if !errors.Is(sqsdispatch.Permanent(base), base) {
		t.Error("Permanent does not unwrap to its error")
	}
}
