package workerenv

import (
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// TestSettings: the environment sets the dispatcher's settings, and a
// value that does not parse names its variable.
func TestSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    sqsdispatch.Config
		wantErr string
	}{
		{name: "none", env: nil, want: sqsdispatch.Config{CleanupTimeout: 10 * time.Second}},
		{
			name: "all",
			env: map[string]string{"SHUTDOWN_GRACE": "30s", "CLEANUP_TIMEOUT": "15s", "CONCURRENCY": "4",
				"MAX_JOBS": "1", "MAX_LIFETIME": "5m", "SUBREAPER": "true"},
			want: sqsdispatch.Config{ShutdownGrace: 30 * time.Second, CleanupTimeout: 15 * time.Second,
				Concurrency: 4, MaxJobs: 1, MaxLifetime: 5 * time.Minute, Subreaper: true},
		},
		{name: "bad duration", env: map[string]string{"SHUTDOWN_GRACE": "30"}, wantErr: `SHUTDOWN_GRACE="30"`},
		{name: "bad number", env: map[string]string{"CONCURRENCY": "four"}, wantErr: `CONCURRENCY="four"`},
		{name: "bad bool", env: map[string]string{"SUBREAPER": "yes please"}, wantErr: `SUBREAPER="yes please"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Apply(sqsdispatch.Config{}, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply = %v; want an error saying %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ShutdownGrace != tt.want.ShutdownGrace || got.CleanupTimeout != tt.want.CleanupTimeout ||
				got.Concurrency != tt.want.Concurrency || got.MaxJobs != tt.want.MaxJobs || got.MaxLifetime != tt.want.MaxLifetime ||
				got.Subreaper != tt.want.Subreaper {
				t.Errorf("Apply = grace %s, cleanup %s, concurrency %d, max jobs %d, max lifetime %s, subreaper %t; want %+v",
					got.ShutdownGrace, got.CleanupTimeout, got.Concurrency, got.MaxJobs, got.MaxLifetime, got.Subreaper, tt.want)
			}
		})
	}
}
