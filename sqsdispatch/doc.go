// Package sqsdispatch consumes Amazon SQS messages and runs each message's
// job in a fresh child process of the same binary.
//
// The parent never runs job code. While a child runs, the parent keeps the
// message invisible to other consumers by extending its visibility timeout
// (the heartbeat). When the child ends, the job's result decides the
// message's fate: success deletes it, [Permanent] moves it to the queue's
// dead-letter queue, [RetryAfter] delays its next delivery, and any other
// failure leaves it to its visibility timeout and the queue's redrive
// policy. A job that leaks, panics, calls os.Exit, deadlocks or is
// OOM-killed takes only its own process down.
//
// When the process is asked to stop (SIGTERM, SIGINT, SIGHUP, SIGQUIT,
// SIGABRT, or the context), the dispatcher suspends the running job's
// process group, runs the job's Cleanup in a child of its own, and gives
// the message back to the queue, or dead-letters it when cleanup fails
// twice or the queue allows no retries.
//
// A long job records its progress with [Checkpoint]. Interrupted after a
// checkpoint, or still running as its message nears SQS's 12-hour limit,
// it is continued as a new message that carries the checkpoint, and its
// next run resumes from [Message].Checkpoint. Payloads that producers
// stored in S3 in either format of AWS's extended clients reach the job as
// its Body when [Config].Payloads is set (see [PayloadStore] and package
// s3payload).
//
// Both the parent and every child build the same [Registry], and [Init] is
// the first call of main: in a child it runs the job and exits.
//
//	package main
//
//	import (
//		"context"
//		"log"
//		"os"
//		"time"
//
//		"github.com/aws/aws-sdk-go-v2/config"
//		"github.com/aws/aws-sdk-go-v2/service/sqs"
//		"go.uber.org/zap"
//
//		"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
//	)
//
//	func registry() *sqsdispatch.Registry {
//		reg := sqsdispatch.NewRegistry()
//		reg.Handle(sqsdispatch.Job{
//			Name:    "report",
//			Run:     runReport,
//			Cleanup: cleanupReport,
//			Timeout: 2 * time.Hour,
//		})
//		return reg
//	}
//
//	func runReport(ctx context.Context, msg *sqsdispatch.Message) error {
//		// ... build the report described by msg.Body ...
//		return nil
//	}
//
//	func cleanupReport(ctx context.Context, msg *sqsdispatch.Message, cause sqsdispatch.Cause) error {
//		// ... remove the partial report ...
//		return nil
//	}
//
//	func main() {
//		reg := registry()
//		sqsdispatch.Init(reg) // in a child: runs the job and exits
//
//		logger, _ := zap.NewProduction()
//		awsCfg, err := config.LoadDefaultConfig(context.Background())
//		if err != nil {
//			log.Fatal(err)
//		}
//		d, err := sqsdispatch.New(sqsdispatch.Config{
//			Client:   sqs.NewFromConfig(awsCfg),
//			QueueURL: os.Getenv("QUEUE_URL"),
//			Registry: reg,
//			Job:      "report",
//			Logger:   logger,
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//		// Run returns when a stop signal arrives; Exit then ends the
//		// process by that same signal, so the supervisor sees the cause.
//		sqsdispatch.Exit(d.Run(context.Background()))
//	}
//
// Supported platforms: Linux (Pdeathsig, child subreaper) and other Unix
// systems (lifeline pipe only). Windows is not supported.
package sqsdispatch
