package sqsdispatch_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	valid := func() sqsdispatch.Config {
		return sqsdispatch.Config{Client: unusedClient{}, QueueURL: "http://q", Registry: testRegistry(), Job: "noop"}
	}
	route := func(*sqsdispatch.Message) (string, error) { return "noop", nil }
	tests := []struct {
		name   string
		modify func(*sqsdispatch.Config)
		want   string // substring of the error; "" for no error
	}{
		{"defaults", func(*sqsdispatch.Config) {}, ""},
		{"short visibility gets a shorter heartbeat", func(c *sqsdispatch.Config) { c.VisibilityTimeout = 2 * time.Second }, ""},
		{"several queues", func(c *sqsdispatch.Config) { c.QueueURL, c.QueueURLs = "", []string{"http://a", "http://b"} }, ""},
		{"route", func(c *sqsdispatch.Config) { c.Job, c.Route = "", route }, ""},
		{"no client", func(c *sqsdispatch.Config) { c.Client = nil }, "Config.Client is required"},
		{"no queue", func(c *sqsdispatch.Config) { c.QueueURL = "" }, "Config.QueueURL (or Config.QueueURLs) is required"},
		{"queue twice", func(c *sqsdispatch.Config) { c.QueueURLs = []string{"http://b"} }, "mutually exclusive"},
		{"empty queue in the list", func(c *sqsdispatch.Config) { c.QueueURL, c.QueueURLs = "", []string{"http://a", ""} }, "Config.QueueURLs[1] is empty"},
		{"no registry", func(c *sqsdispatch.Config) { c.Registry = nil }, "Config.Registry is required"},
		{"no job", func(c *sqsdispatch.Config) { c.Job = "" }, "one of Config.Job and Config.Route"},
		{"job and route", func(c *sqsdispatch.Config) { c.Route = route }, "Config.Job and Config.Route are mutually exclusive"},
		{"unknown job", func(c *sqsdispatch.Config) { c.Job = "nope" }, `Config.Job "nope" is not registered`},
		{"heartbeat not shorter than visibility", func(c *sqsdispatch.Config) {
			c.HeartbeatInterval, c.VisibilityTimeout = 60*time.Second, 30*time.Second
		}, "Config.HeartbeatInterval (1m0s) must be shorter than Config.VisibilityTimeout (30s)"},
		{"fractional visibility", func(c *sqsdispatch.Config) { c.VisibilityTimeout = 1500 * time.Millisecond }, "Config.VisibilityTimeout (1.5s) must be a whole number of seconds"},
		{"visibility over 12h", func(c *sqsdispatch.Config) { c.VisibilityTimeout = 13 * time.Hour }, "Config.VisibilityTimeout"},
		{"wait over 20s", func(c *sqsdispatch.Config) { c.WaitTime = 21 * time.Second }, "Config.WaitTime"},
		{"long poll outlasts the lease", func(c *sqsdispatch.Config) { c.VisibilityTimeout, c.WaitTime = 20*time.Second, 20*time.Second },
			"Config.VisibilityTimeout (20s) must be longer than Config.WaitTime (20s) plus Config.HeartbeatInterval (5s)"},
		{"negative grace", func(c *sqsdispatch.Config) { c.ShutdownGrace = -time.Second }, "Config.ShutdownGrace (-1s) must not be negative"},
		{"negative concurrency", func(c *sqsdispatch.Config) { c.Concurrency = -1 }, "Config.Concurrency (-1) must be positive"},
		{"negative MaxJobs", func(c *sqsdispatch.Config) { c.MaxJobs = -1 }, "Config.MaxJobs"},
		{"negative MaxRSS", func(c *sqsdispatch.Config) { c.MaxRSS = -1 }, "Config.MaxRSS"},
		{"spares idle too long", func(c *sqsdispatch.Config) { c.PrespawnMaxIdle = time.Hour }, "Config.PrespawnMaxIdle"},
		{"retry jitter over 1", func(c *sqsdispatch.Config) { c.Retry = sqsdispatch.ExponentialBackoff{Jitter: 2} }, "Jitter"},
		{"retry cap over 12h", func(c *sqsdispatch.Config) { c.Retry = sqsdispatch.ExponentialBackoff{Max: 13 * time.Hour} }, "12h"},
		{"cleanup past the visibility limit", func(c *sqsdispatch.Config) { c.CleanupTimeout = 12 * time.Hour }, "Config.CleanupTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tt.modify(&cfg)
			before := cfg
			_, err := sqsdispatch.New(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New error = %v; want it to contain %q", err, tt.want)
			case err != nil && !strings.HasPrefix(err.Error(), "sqsdispatch: "):
				t.Fatalf("error %q lacks the sqsdispatch: prefix", err)
			}
			if cfg.HeartbeatInterval != before.HeartbeatInterval || cfg.VisibilityTimeout != before.VisibilityTimeout ||
				cfg.Logger != before.Logger || cfg.Concurrency != before.Concurrency {
				t.Fatal("New modified the caller's Config")
			}
		})
	}
}
