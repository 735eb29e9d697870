package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/ecsprotect"
)

// Settings read from the environment, so that a Deployment or an ECS task
// definition can set them (examples/kubernetes, examples/ecs). Each is
// optional; the stop budget, and so the supervisor's grace period,
// depends on the first two.
const (
	envShutdownGrace  = "SHUTDOWN_GRACE"  // Config.ShutdownGrace, a Go duration ("30s")
	envCleanupTimeout = "CLEANUP_TIMEOUT" // Config.CleanupTimeout, a Go duration; 10s when unset
	envConcurrency    = "CONCURRENCY"     // Config.Concurrency, a whole number
	envMaxJobs        = "MAX_JOBS"        // Config.MaxJobs: retire after this many jobs
	envMaxLifetime    = "MAX_LIFETIME"    // Config.MaxLifetime: retire after this long, a Go duration
	envSubreaper      = "SUBREAPER"       // Config.Subreaper: "true" where the worker is a container's PID 1
)

// settings applies the settings in the environment to cfg.
func settings(cfg sqsdispatch.Config, getenv func(string) string) (sqsdispatch.Config, error) {
	cfg.CleanupTimeout = 10 * time.Second
	for _, d := range []struct {
		env string
		to  *time.Duration
	}{{envShutdownGrace, &cfg.ShutdownGrace}, {envCleanupTimeout, &cfg.CleanupTimeout}, {envMaxLifetime, &cfg.MaxLifetime}} {
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
	}{{envConcurrency, &cfg.Concurrency}, {envMaxJobs, &cfg.MaxJobs}} {
		if v := getenv(n.env); v != "" {
			x, err := strconv.Atoi(v)
			if err != nil {
				return cfg, fmt.Errorf("%s=%q: %w", n.env, v, err)
			}
			*n.to = x
		}
	}
	if v := getenv(envSubreaper); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("%s=%q: %w", envSubreaper, v, err)
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

// printStopBudget prints the stop budget of the configuration that the
// environment gives: what a supervisor's grace period must cover.
func printStopBudget() error {
	cfg, err := settings(sqsdispatch.Config{}, os.Getenv)
	if err != nil {
		return err
	}
	fmt.Println(cfg.StopBudget())
	return nil
}
