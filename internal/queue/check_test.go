package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		build      func(f *fakeClient) []string // returns the queue URLs
		requireDLQ bool
		wantConfig bool
		wantErr    bool
		wantFatal  bool
		wantWarn   string
	}{
		{name: "queue with a DLQ", build: func(f *fakeClient) []string {
			f.addQueue("dlq", nil)
			return []string{f.withDLQ("q", "dlq", 5, nil)}
		}},
		{name: "FIFO queue with a FIFO DLQ", build: func(f *fakeClient) []string {
			f.addQueue("dlq.fifo", nil)
			return []string{f.withDLQ("q.fifo", "dlq.fifo", 5, nil)}
		}},
		{name: "missing DLQ", build: func(f *fakeClient) []string {
			return []string{f.withDLQ("q", "gone", 5, nil)}
		}, wantErr: true, wantConfig: true, wantFatal: true},
		{name: "DLQ denied", build: func(f *fakeClient) []string {
			f.addQueue("dlq", nil)
			f.attributes = func(_ context.Context, url string) error {
				if url == queueURL("dlq") {
					return apiError("AccessDenied")
				}
				return nil
			}
			return []string{f.withDLQ("q", "dlq", 5, nil)}
		}, wantErr: true, wantConfig: true, wantFatal: true},
		{name: "FIFO queue with a standard DLQ", build: func(f *fakeClient) []string {
			f.addQueue("dlq", nil)
			return []string{f.withDLQ("q.fifo", "dlq", 5, nil)}
		}, wantErr: true, wantConfig: true},
		{name: "standard queue with a FIFO DLQ", build: func(f *fakeClient) []string {
			f.addQueue("dlq.fifo", nil)
			return []string{f.withDLQ("q", "dlq.fifo", 5, nil)}
		}, wantErr: true, wantConfig: true},
		{name: "no redrive policy", build: func(f *fakeClient) []string {
			return []string{f.addQueue("q", nil)}
		}, wantWarn: "queue has no redrive policy"},
		{name: "no redrive policy, DLQ required", build: func(f *fakeClient) []string {
			return []string{f.addQueue("q", nil)}
		}, requireDLQ: true, wantErr: true, wantConfig: true},
		{name: "higher-priority queue long-polls", build: func(f *fakeClient) []string {
			return []string{f.addQueue("high", map[string]string{"ReceiveMessageWaitTimeSeconds": "20"}), f.addQueue("low", nil)}
		}, wantWarn: "a higher-priority queue long-polls"},
		{name: "missing queue", build: func(f *fakeClient) []string {
			return []string{queueURL("gone")}
		}, wantErr: true, wantFatal: true},
		{name: "transient failure", build: func(f *fakeClient) []string {
			f.attributes = func(context.Context, string) error { return apiError("ServiceUnavailable") }
			return []string{f.addQueue("q", nil)}
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{})
			urls := tt.build(b.client)
			err := b.q.Check(b.ctx, urls, tt.requireDLQ)
			if (err != nil) != tt.wantErr || errors.Is(err, ErrConfig) != tt.wantConfig || IsFatal(err) != tt.wantFatal {
				t.Fatalf("Check: err = %v; want error %t, config error %t, fatal %t", err, tt.wantErr, tt.wantConfig, tt.wantFatal)
			}
			if tt.wantErr && !strings.HasPrefix(err.Error(), "sqsdispatch: ") {
				t.Errorf("error %q lacks the sqsdispatch: prefix", err)
			}
			warned := false
			for _, e := range b.logs.All() {
				warned = warned || strings.HasPrefix(e.Message, tt.wantWarn)
			}
			if tt.wantWarn != "" && !warned {
				t.Errorf("no warning %q logged; logs: %v", tt.wantWarn, b.logs.All())
			}
			if tt.wantWarn == "" && b.logs.Len() > 0 {
				t.Errorf("unexpected logs: %v", b.logs.All())
			}
		})
	}
}
