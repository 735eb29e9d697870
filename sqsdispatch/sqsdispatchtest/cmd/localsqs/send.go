package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// attrs collects the -attr flags.
type attrs map[string]types.MessageAttributeValue

func (a attrs) String() string { return fmt.Sprint(len(a), " attributes") }

func (a attrs) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return errors.New("want name=value")
	}
	a[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	return nil
}

// send sends one message to a queue of the server running on -port.
func send(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localsqs send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", defaultPort, "the `port` of 127.0.0.1 the server listens on")
	queue := fs.String("queue", "", "the `name` of the queue to send to (required)")
	group := fs.String("group", "localsqs", "the message group `id`, on a FIFO queue")
	attributes := attrs{}
	fs.Var(attributes, "attr", "a String message attribute, `name=value` (repeat for more), such as job=report")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: localsqs send [-port 9324] -queue name [-attr name=value]... [-group id] body")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *queue == "" || fs.NArg() != 1 || fs.Arg(0) == "" {
		fs.Usage()
		return 2
	}
	c := sqs.New(sqs.Options{ // not from the environment, which names the user's own AWS set-up
		BaseEndpoint: aws.String("http://127.0.0.1:" + strconv.Itoa(*port)),
		Region:       fauxqs.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(fauxqs.AccessKey, fauxqs.SecretKey, ""),
	})
	url, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: queue})
	if err != nil {
		return fail(stderr, fmt.Errorf("queue %s on the server at 127.0.0.1:%d: %w", *queue, *port, err))
	}
	in := &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(fs.Arg(0))}
	if len(attributes) > 0 {
		in.MessageAttributes = attributes
	}
	if strings.HasSuffix(*queue, ".fifo") {
		in.MessageGroupId, in.MessageDeduplicationId = group, aws.String(rand.Text())
	}
	out, err := c.SendMessage(ctx, in)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintln(stdout, aws.ToString(out.MessageId))
	return 0
}
