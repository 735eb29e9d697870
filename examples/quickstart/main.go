// Command quickstart runs sqsdispatch end to end against a local
// SQS-compatible server that it starts itself: no AWS account needed.
//
// It creates a queue with a dead-letter queue, sends three messages (one
// succeeds, one fails permanently, one runs longer than its visibility
// timeout and is kept invisible by the heartbeat) and prints what happened
// to each.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fmt.Println("starting a local SQS-compatible server (fauxqs; installed into .tools on first use)...")
	srv, err := fauxqs.Start(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	client, err := srv.Client(ctx)
	if err != nil {
		return err
	}
	q, err := fauxqs.CreateQueues(ctx, client, fauxqs.QueueSpec{Name: "quickstart", MaxReceiveCount: 3})
	if err != nil {
		return err
	}
	fmt.Println("queue:", q.URL)

	for _, m := range []struct{ job, body string }{{"greet", "world"}, {"validate", "order-42"}, {"resize", "cat.jpg"}} {
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(m.body),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"job": {DataType: aws.String("String"), StringValue: aws.String(m.job)}}})
		if err != nil {
			return err
		}
	}

	d, err := sqsdispatch.New(sqsdispatch.Config{
		Client:            client,
		QueueURL:          q.URL,
		Registry:          reg,
		Route:             func(m *sqsdispatch.Message) (string, error) { return m.MessageAttributes["job"].StringValue, nil },
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
	return report(ctx, client, q)
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

func report(ctx context.Context, client *sqs.Client, q fauxqs.Queues) error {
	for _, url := range []string{q.URL, q.DLQURL} {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
		fmt.Printf("%s now holds %d message(s)\n", url[strings.LastIndexByte(url, '/')+1:], n)
	}
	return nil
}
