//go:build linux

// Command service is the service the chaos test runs: a dispatcher built on
// the public sqsdispatch API whose one job records every run, result and
// cleanup in the ledger named by $SQSDISPATCH_CHAOS_LEDGER, and holds a
// per-message flock for the life of its process tree, so that two runs of
// one message at once show as a failed lock.
//
//	service -endpoint http://127.0.0.1:PORT -queue URL [-concurrency 3] [-prespawn]
//	        [-age-limit 1m -age-margin 55s -age-hide-min 20s] [-fail-deletes 20]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/testhook"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func main() {
	// The children run with these arguments too: they parse them before
	// Init to build the same registry.
	var (
		endpoint       = flag.String("endpoint", os.Getenv("AWS_ENDPOINT_URL_SQS"), "SQS endpoint")
		queue          = flag.String("queue", "", "queue URL")
		concurrency    = flag.Int("concurrency", 3, "jobs at once")
		prespawn       = flag.Bool("prespawn", false, "keep a spare child per slot")
		visibility     = flag.Duration("visibility", 4*time.Second, "visibility timeout")
		heartbeat      = flag.Duration("heartbeat", time.Second, "heartbeat interval")
		wait           = flag.Duration("wait", time.Second, "long-poll wait")
		cleanupTimeout = flag.Duration("cleanup-timeout", 5*time.Second, "cleanup timeout")
		shutdownGrace  = flag.Duration("shutdown-grace", 0, "time running jobs get to finish after a stop signal")
		checkpoints    = flag.Bool("checkpoints", false, "jobs checkpoint halfway")
		ageLimit       = flag.Duration("age-limit", 0, "replaces SQS's 12-hour limit (0: keep it)")
		ageMargin      = flag.Duration("age-margin", 0, "jobs are interrupted this long before the age limit")
		ageHideMin     = flag.Duration("age-hide-min", 0, "hide a continuation needs at the age limit")
		failDeletes    = flag.Int("fail-deletes", 0, "percent of DeleteMessage calls that fail")
		reuse          = flag.Int("reuse", 0, "jobs per reused child (0: one job per child)")
	)
	flag.Parse()
	reg := registry(*checkpoints)
	sqsdispatch.Init(reg) // in a child: runs the job or its cleanup and exits
	if *queue == "" || *endpoint == "" {
		fmt.Fprintln(os.Stderr, "chaos service: -queue and -endpoint (or AWS_ENDPOINT_URL_SQS) are required")
		os.Exit(2)
	}
	if *ageLimit > 0 {
		testhook.SetAgeLimit(testhook.AgeLimit{MaxAge: *ageLimit, Margin: *ageMargin, HideMin: *ageHideMin})
	}
	var client sqsdispatch.Client = sqs.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, func(o *sqs.Options) { o.BaseEndpoint = aws.String(*endpoint) })
	if *failDeletes > 0 {
		client = &failingDeletes{Client: client, percent: *failDeletes}
	}

	logCfg := zap.NewProductionConfig()
	logCfg.Sampling = nil // every outcome line is read back
	log, err := logCfg.Build()
	if err != nil {
		sqsdispatch.Exit(err)
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{
		Client:            client,
		QueueURL:          *queue,
		Registry:          reg,
		Job:               jobName,
		VisibilityTimeout: *visibility,
		HeartbeatInterval: *heartbeat,
		WaitTime:          *wait,
		Concurrency:       *concurrency,
		Prespawn:          *prespawn,
		CleanupTimeout:    *cleanupTimeout,
		ShutdownGrace:     *shutdownGrace,
		Reuse:             sqsdispatch.Reuse{MaxJobs: *reuse},
		Logger:            log,
	})
	if err != nil {
		sqsdispatch.Exit(err)
	}
	err = d.Run(context.Background())
	_ = log.Sync()
	sqsdispatch.Exit(err)
}
