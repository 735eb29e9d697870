package envelope

import (
	"maps"
	"testing"
)

func TestReserved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"sqsdispatch.resume", true},
		{"sqsdispatch.reason", true},
		{"sqsdispatch.anything.later", true},
		{"ExtendedPayloadSize", true},
		{"SQSLargePayloadSize", true},
		{"job", false},
		{"traceparent", false},
		{"sqsdispatch", false},
		{"extendedpayloadsize", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Reserved(tt.name); got != tt.want {
				t.Errorf("Reserved(%q) = %t; want %t", tt.name, got, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	in := map[string]int{"job": 1, "sqsdispatch.resume": 2, "ExtendedPayloadSize": 3, "traceparent": 4}
	user, own := Split(in)
	if want := map[string]int{"job": 1, "traceparent": 4}; !maps.Equal(user, want) {
		t.Errorf("user = %v; want %v", user, want)
	}
	if want := map[string]int{"sqsdispatch.resume": 2, "ExtendedPayloadSize": 3}; !maps.Equal(own, want) {
		t.Errorf("own = %v; want %v", own, want)
	}
	if len(in) != 4 {
		t.Errorf("Split modified its argument: %v", in)
	}
	if u, o := Split(map[string]int{}); u != nil || o != nil {
		t.Errorf("Split of nothing = %v, %v; want nil, nil", u, o)
	}
}
