package sqsdispatch

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestStopBudget: the stop budget adds up every wait a stop can meet.
func TestStopBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want time.Duration
	}{
		{name: "defaults: a lookup, two cleanups of 30 s with their extensions, the settling calls",
			want: 10*time.Second + 2*(10*time.Second+30*time.Second+time.Second) + 20*time.Second},
		{name: "payloads: each cleanup fetches the payload first", cfg: Config{Payloads: noPayloads{}},
			want: 10*time.Second + 2*(10*time.Second+10*time.Second+30*time.Second+time.Second) + 20*time.Second},
		{name: "a drain comes first", cfg: Config{ShutdownGrace: time.Minute, CleanupTimeout: 15 * time.Second},
			want: time.Minute + 10*time.Second + 2*(10*time.Second+15*time.Second+time.Second) + 20*time.Second},
		{name: "a busy hook's last call", cfg: Config{BusyHook: nopHook{}},
			want: 10*time.Second + 2*(10*time.Second+30*time.Second+time.Second) + 20*time.Second + 5*time.Second},
		{name: "short cleanups", cfg: Config{CleanupTimeout: time.Second},
			want: 10*time.Second + 2*(10*time.Second+time.Second+time.Second) + 20*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cfg.StopBudget(); got != tt.want {
				t.Errorf("StopBudget = %s; want %s", got, tt.want)
			}
		})
	}
	// A receive in flight at the stop ends within its long poll (20 s at
	// most) and gives back what it returned within settleBudget: never the
	// longest wait.
	if short := (Config{CleanupTimeout: time.Nanosecond}).StopBudget(); short < maxWaitTime+settleBudget {
		t.Errorf("the shortest budget %s is less than a receive's long poll and its give-back", short)
	}
	if d := (Config{}).StopBudget(); d > 2*time.Minute {
		t.Errorf("the default budget %s does not fit ECS Fargate's largest stopTimeout (2m)", d)
	}
}

// noPayloads is a PayloadStore that holds nothing.
type noPayloads struct{}

func (noPayloads) OpenPayload(context.Context, string, string) (io.ReadCloser, int64, error) {
	return nil, 0, ErrPayloadNotFound
}

func (noPayloads) DeletePayload(context.Context, string, string) error { return nil }

// nopHook is a BusyHook that does nothing.
type nopHook struct{}

func (nopHook) SetBusy(context.Context, bool) error { return nil }
func (nopHook) RenewEvery() time.Duration           { return 0 }
