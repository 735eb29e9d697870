// Command localsqs runs a local SQS-compatible server for a service that
// uses sqsdispatch, with the queues it needs, and prints the environment
// that points the service at it. No AWS account is needed.
//
//	go run github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest/cmd/localsqs -queue jobs
//
// It starts the server (fauxqs, installed with npm once per user; see
// sqsdispatchtest.StartLocalServer) on 127.0.0.1:9324, creates each queue
// named by -queue with a dead-letter queue NAME-dlq and a redrive policy
// (-max-receive-count), both FIFO when the name ends in ".fifo", and
// prints lines to paste into the service's shell:
//
//	export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324
//	export AWS_REGION=us-east-1
//	export AWS_ACCESS_KEY_ID=test
//	export AWS_SECRET_ACCESS_KEY=test
//	export QUEUE_URL=http://sqs.us-east-1.127.0.0.1:9324/000000000000/jobs
//
// The first queue's URL is QUEUE_URL; the others' are QUEUE_URL_NAME
// (QUEUE_URL_OTHER_FIFO for other.fifo). The other lines start with "#",
// so the whole output can be saved and sourced. Ctrl-C (SIGINT) or
// SIGTERM stops the server, and nothing of it is left running.
//
// With "send" first, it sends one message to a queue of the running
// server instead, and prints its ID:
//
//	go run github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest/cmd/localsqs send -queue jobs -attr job=report '{"id":"42"}'
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// defaultPort is the port the server listens on unless -port says
// otherwise: the one other local SQS servers (ElasticMQ, goaws) use.
const defaultPort = 9324

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command with args and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "send" {
		return send(ctx, args[1:], stdout, stderr)
	}
	return serve(ctx, args, stdout, stderr)
}

// fail prints err and returns the exit code of a failure.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "localsqs:", err)
	return 1
}
