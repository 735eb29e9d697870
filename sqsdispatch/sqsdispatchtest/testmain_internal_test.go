package sqsdispatchtest

import "testing"

func TestWithRaceNoExitSleep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "unset", in: "", want: "atexit_sleep_ms=0"},
		{name: "other options kept", in: "halt_on_error=1 log_path=/tmp/race", want: "halt_on_error=1 log_path=/tmp/race atexit_sleep_ms=0"},
		{name: "the user's own exit sleep kept", in: "atexit_sleep_ms=500 halt_on_error=1", want: "atexit_sleep_ms=500 halt_on_error=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := withRaceNoExitSleep(tt.in); got != tt.want {
				t.Errorf("withRaceNoExitSleep(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
