//go:build linux

// Command chaos runs sqsdispatch's chaos test: several dispatcher
// processes consume a local SQS queue while dispatchers and their jobs are
// killed, stopped and suspended at random; then it checks that no message
// was lost, no job ran twice at once, no process was orphaned and every
// interrupted job was cleaned up. It exits 1 when a verdict fails, 2 when
// the run could not be made.
//
//	go run ./internal/chaos/cmd/chaos -messages 150 -kills 60 -seed 1 -checkpoints -age-limit -fail-deletes 20
//	go run ./internal/chaos/cmd/chaos -messages 1000 -kills 300
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos"
)

func main() {
	var cfg chaos.Config
	seed := flag.Int64("seed", -1, "seed of every random choice (default: drawn from the clock, and printed)")
	keep := flag.Bool("keep", false, "keep the work directory (ledger, logs) even when the run passes")
	flag.IntVar(&cfg.Messages, "messages", chaos.MessagesDefault, "messages to send")
	flag.IntVar(&cfg.Kills, "kills", chaos.KillsDefault, "chaos actions to take")
	flag.IntVar(&cfg.Dispatchers, "dispatchers", chaos.DispatchersDefault, "dispatcher processes")
	flag.IntVar(&cfg.Concurrency, "concurrency", chaos.ConcurrencyDefault, "jobs at once per dispatcher")
	flag.DurationVar(&cfg.Duration, "duration", chaos.DurationDefault, "cap on the whole run")
	flag.DurationVar(&cfg.Interval, "interval", chaos.IntervalDefault, "mean time between chaos actions")
	flag.StringVar(&cfg.ServiceBinary, "service", "", "prebuilt service binary (default: built from ./internal/chaos/service)")
	flag.BoolVar(&cfg.Checkpoints, "checkpoints", false, "jobs checkpoint halfway: interrupted ones are continued as new messages")
	flag.BoolVar(&cfg.AgeLimit, "age-limit", false, "shorten SQS's 12-hour limit so that long jobs reach it")
	flag.IntVar(&cfg.FailDeletes, "fail-deletes", 0, "percent of DeleteMessage calls that fail")
	flag.IntVar(&cfg.Reuse, "reuse", 0, "the even dispatcher slots reuse each child for up to this many jobs")
	flag.Parse()

	cfg.Seed = uint64(*seed)
	if *seed < 0 {
		cfg.Seed = uint64(time.Now().UnixNano() % 1_000_000)
	}
	dir, err := os.MkdirTemp("", "sqsdispatch-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	cfg.WorkDir, cfg.Out = dir, os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	v, err := chaos.Run(ctx, cfg)
	stop()
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintln(os.Stderr, "chaos: work directory kept:", dir)
		os.Exit(2)
	case !v.Passed():
		fmt.Printf("chaos: FAILED (seed %d): %v\nchaos: work directory kept: %s\n", cfg.Seed, v.Failures(), dir)
		os.Exit(1)
	case *keep:
		fmt.Println("chaos: work directory kept:", dir)
	default:
		_ = os.RemoveAll(dir)
	}
}
