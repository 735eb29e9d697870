package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// queueNames collects the -queue flags.
type queueNames []string

func (q *queueNames) String() string { return strings.Join(*q, ",") }

func (q *queueNames) Set(name string) error {
	if strings.TrimSuffix(name, ".fifo") == "" {
		return errors.New("a queue needs a name")
	}
	*q = append(*q, name)
	return nil
}

// serve runs the server until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localsqs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", defaultPort, "the `port` of 127.0.0.1 to listen on (0: any free one)")
	var queues queueNames
	fs.Var(&queues, "queue", "create the queue `name` (repeat for more), with a dead-letter queue name-dlq; FIFO if the name ends in .fifo")
	maxReceives := fs.Int("max-receive-count", 5, "the redrive policy's maxReceiveCount: receives before SQS moves a message to the dead-letter queue (1 to 1000)")
	wait := fs.Int("wait-seconds", 20, "the queues' ReceiveMessageWaitTimeSeconds, the long poll of a receive that sets none (0 to 20)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: localsqs [-port 9324] [-queue name]... [-max-receive-count 5] [-wait-seconds 20]")
		fmt.Fprintln(stderr, "       localsqs send [-port 9324] -queue name [-attr name=value]... [-group id] body")
		fmt.Fprintln(stderr, "\nRuns a local SQS-compatible server until Ctrl-C, creates the queues, and prints the environment to export.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "localsqs: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *maxReceives < 1 || *maxReceives > 1000 || *wait < 0 || *wait > 20 {
		fmt.Fprintln(stderr, "localsqs: -max-receive-count must be 1 to 1000, -wait-seconds 0 to 20")
		return 2
	}

	srv, err := sqsdispatchtest.StartLocalServer(ctx, sqsdispatchtest.Port(*port))
	if err != nil {
		return fail(stderr, err)
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "# localsqs: a local SQS-compatible server (fauxqs) on %s; Ctrl-C stops it\n", srv.Endpoint())
	var exports []string
	for i, name := range queues {
		opts := []sqsdispatchtest.QueueOption{sqsdispatchtest.MaxReceiveCount(*maxReceives), sqsdispatchtest.WaitSeconds(*wait)}
		base, fifo := strings.CutSuffix(name, ".fifo")
		if fifo {
			opts = append(opts, sqsdispatchtest.FIFO())
		}
		q, err := srv.CreateQueue(ctx, base, opts...)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "# queue %s: %s\n#   dead-letter queue after %d receives: %s\n", name, q.URL, *maxReceives, q.DLQURL)
		exports = append(exports, queueVar(name, i == 0)+"="+q.URL)
	}
	for _, kv := range append(srv.Environ(), exports...) {
		fmt.Fprintln(stdout, "export "+kv)
	}

	select {
	case <-ctx.Done():
		srv.Close()
		fmt.Fprintln(stderr, "localsqs: stopped")
		return 0
	case <-srv.Done():
		return fail(stderr, errors.New("the server exited by itself"))
	}
}

// queueVar is the environment variable that holds the URL of the queue
// name: QUEUE_URL for the first queue, QUEUE_URL_NAME for the others, with
// the name in upper case and every character a shell does not allow in a
// name replaced by "_".
func queueVar(name string, first bool) string {
	if first {
		return "QUEUE_URL"
	}
	return "QUEUE_URL_" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		default:
			return '_'
		}
	}, name)
}
