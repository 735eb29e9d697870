// Package workerenv reads the worker's settings from its environment, as
// a Deployment (examples/kubernetes) or an ECS task definition
// (examples/ecs) gives them; their tests check the stop budget of what
// they set with it.
package workerenv

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/ecsprotect"
)

// Names of the environment variables, set by a Deployment or an ECS task
// definition (examples/kubernetes, examples/ecs). Each is
// optional; the stop budget, and so the supervisor's grace period,
// depends on the first two.
const (
	EnvShutdownGrace  = "SHUTDOWN_GRACE"  // Config.ShutdownGrace, a Go duration ("30s")
	EnvCleanupTimeout = "CLEANUP_TIMEOUT" // Config.CleanupTimeout, a Go duration; 10s when unset
	EnvConcurrency    = "CONCURRENCY"     // Config.Concurrency, a whole number
	EnvMaxJobs        = "MAX_JOBS"        // Config.MaxJobs: retire after this many jobs
	EnvMaxLifetime    = "MAX_LIFETIME"    // Config.MaxLifetime: retire after this long, a Go duration
	EnvSubreaper      = "SUBREAPER"       // Config.Subreaper: "true" where the worker is a container's PID 1
)

// Apply applies the settings in the environment (read with getenv) to
// cfg: each one set replaces cfg's, and CleanupTimeout is 10s when unset.
func Apply(cfg sqsdispatch.Config, getenv func(string) string) (sqsdispatch.Config, error) {
	cfg.CleanupTimeout = 10 * time.Second
	for _, d := range []struct {
		env string
		to  *time.Duration
	}{{EnvShutdownGrace, &cfg.ShutdownGrace}, {EnvCleanupTimeout, &cfg.CleanupTimeout}, {EnvMaxLifetime, &cfg.MaxLifetime}} {
		if v := getenv(d.env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil {
				return cfg, fmt.Errorf("%s=%q: %w", d.env, v, err)
			}
			*d.to = x
		}
	}
	for _, n := range []struct {
		env string
		to  *int
	}{{EnvConcurrency, &cfg.Concurrency}, {EnvMaxJobs, &cfg.MaxJobs}} {
		if v := getenv(n.env); v != "" {
			x, err := strconv.Atoi(v)
			if err != nil {
				return cfg, fmt.Errorf("%s=%q: %w", n.env, v, err)
			}
			*n.to = x
		}
	}
	if v := getenv(EnvSubreaper); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("%s=%q: %w", EnvSubreaper, v, err)
		}
		cfg.Subreaper = b
	}
	if uri := getenv(ecsprotect.EnvAgentURI); uri != "" { // in an ECS task: no scale-in while jobs run
		protect, err := ecsprotect.New(ecsprotect.Config{AgentURI: uri})
		if err != nil {
			return cfg, err
		}
		cfg.BusyHook = protect
	}
	return cfg, nil
}
