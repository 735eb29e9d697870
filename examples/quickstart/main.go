// Command quickstart runs sqsdispatch end to end against a local
// SQS-compatible server that it starts itself: no AWS account needed, and
// nothing to configure.
//
// It creates a queue with a dead-letter queue, sends three messages (one
// succeeds, one fails permanently, one runs longer than its visibility
// timeout and is kept invisible by the heartbeat) and prints what happened
// to each. It uses the public API only, so it can be copied into a module
// of your own as it stands.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

func registry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	reg.Register("greet", func(_ context.Context, m *sqsdispatch.Message) error {
		fmt.Printf("    [child pid %d] hello, %s\n", os.Getpid(), m.Body)
		return nil
	})
	reg.Register("validate", func(_ context.Context, m *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(fmt.Errorf("order %q has no items", m.Body))
	})
	reg.Register("resize", func(ctx context.Context, m *sqsdispatch.Message) error {
		fmt.Printf("    [child pid %d] resizing %s for 5s (visibility timeout is 2s)\n", os.Getpid(), m.Body)
		select {
		case <-time.After(5 * time.Second):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return reg
}

func main() {
	reg := registry()
	sqsdispatch.Init(reg) // in a child: runs the job and exits
	if err := run(reg); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(reg *sqsdispatch.Registry) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // the first run installs the server
	defer cancel()
	fmt.Println("starting a local SQS-compatible server (fauxqs; installed with npm on first use, once per user)...")
	srv, err := sqsdispatchtest.StartLocalServer(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	q, err := srv.CreateQueue(ctx, "quickstart", sqsdispatchtest.MaxReceiveCount(3))
	if err != nil {
		return err
	}
	fmt.Println("queue:", q.URL)

	for _, m := range []struct{ job, body string }{{"greet", "world"}, {"validate", "order-42"}, {"resize", "cat.jpg"}} {
		if _, err := srv.Send(ctx, q.URL, sqsdispatchtest.Message{Body: m.body,
			Attributes: map[string]sqsdispatch.MessageAttribute{"job": {DataType: "String", StringValue: m.job}}}); err != nil {
			return err
		}
	}

	d, err := sqsdispatch.New(sqsdispatch.Config{
		Client:            srv.Client(),
		QueueURL:          q.URL,
		Registry:          reg,
		Route:             sqsdispatch.RouteByAttribute("job"),
		VisibilityTimeout: 2 * time.Second,
		WaitTime:          time.Second,
	})
	if err != nil {
		return err
	}
	fmt.Printf("dispatcher pid %d\n", os.Getpid())
	for done := 0; done < 3; {
		start := time.Now()
		handled, err := d.DispatchOne(ctx)
		if !handled {
			if err != nil {
				return err
			}
			continue
		}
		done++
		fmt.Printf("  message %d: %s after %s\n", done, describe(err), time.Since(start).Round(time.Millisecond))
	}

	if err := srv.WaitEmpty(ctx, q.URL); err != nil {
		return err
	}
	dl, err := srv.WaitDeadLetter(ctx, q.DLQURL)
	if err != nil {
		return err
	}
	fmt.Printf("the queue is empty; the dead-letter queue held %q (job %s, reason: %s)\n", dl.Body, dl.Job, dl.Reason)
	fmt.Println("3 messages processed locally")
	return nil
}

func describe(err error) string {
	var je *sqsdispatch.JobError
	switch {
	case err == nil:
		return "succeeded and was deleted"
	case errors.As(err, &je) && je.Permanent:
		return "failed permanently and was moved to the dead-letter queue (" + je.Message + ")"
	default:
		return "failed: " + err.Error()
	}
}
