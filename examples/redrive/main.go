// Command redrive moves messages that sqsdispatch dead-lettered back to
// the queue they came from (or to -to), filtered by job and reason, with a
// progress line. It uses the standard AWS configuration (AWS_REGION,
// credentials, and AWS_ENDPOINT_URL_SQS for an SQS-compatible server).
//
//	go run ./examples/redrive -dlq URL -dry-run               # list what would move
//	go run ./examples/redrive -dlq URL -reason "timed out"    # move those
//	go run ./examples/redrive -dlq URL -job report -to URL -rate 5
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func main() {
	var cfg sqsdispatch.RedriveConfig
	jobs := flag.String("job", "", "move only messages of these jobs (comma-separated)")
	flag.StringVar(&cfg.DeadLetterQueueURL, "dlq", "", "URL of the dead-letter queue (required)")
	flag.StringVar(&cfg.Destination, "to", "", "queue to move to (default: each message's source queue)")
	flag.StringVar(&cfg.ReasonContains, "reason", "", "move only messages whose dead-letter reason contains this")
	flag.BoolVar(&cfg.DryRun, "dry-run", false, "list what would move; move nothing")
	flag.Float64Var(&cfg.PerSecond, "rate", sqsdispatch.RedrivePerSecondDefault, "messages moved per second at most")
	flag.IntVar(&cfg.Max, "max", 0, "move at most this many (0: all)")
	flag.Parse()
	if cfg.DeadLetterQueueURL == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *jobs != "" {
		cfg.Jobs = strings.Split(*jobs, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
	cfg.Client = sqs.NewFromConfig(awsCfg)
	cfg.Progress = func(r sqsdispatch.RedriveResult) {
		fmt.Fprintf(os.Stderr, "\rlooked at %d, %s %d", r.Seen, verb(cfg.DryRun), r.Moved)
	}
	res, err := sqsdispatch.Redrive(ctx, cfg)
	fmt.Fprintln(os.Stderr)
	for _, mv := range res.Moves {
		fmt.Printf("%s -> %s  job=%s  reason=%q  checkpoint=%t\n", mv.MessageID, mv.Destination, mv.DeadLetter.Job,
			mv.DeadLetter.Reason, mv.Checkpoint != nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
}

func verb(dry bool) string {
	if dry {
		return "would move"
	}
	return "moved"
}
