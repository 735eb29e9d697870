package sqsdispatchtest_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs/fauxqstest"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// A program's server: on the port asked for, reached by an SDK client
// configured by its environment alone, empty once its message is deleted,
// gone after Close. Not parallel: it sets the environment.
func TestLocalServer(t *testing.T) {
	port := fauxqstest.FreePort(t)
	s, err := sqsdispatchtest.StartLocalServer(t.Context(), sqsdispatchtest.Port(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if want := "http://127.0.0.1:" + strconv.Itoa(port); s.Endpoint() != want {
		t.Errorf("Endpoint() = %q, want %q", s.Endpoint(), want)
	}
	q, err := s.CreateQueue(t.Context(), "local", sqsdispatchtest.MaxReceiveCount(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(t.Context(), q.URL, sqsdispatchtest.Message{Body: "one"}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err = s.WaitEmpty(ctx, q.URL)
	if err == nil || !strings.Contains(err.Error(), "ApproximateNumberOfMessages=1") {
		t.Errorf("WaitEmpty on a queue with a message = %v, want an error that counts it", err)
	}

	for _, kv := range s.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := sqs.NewFromConfig(cfg)
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), WaitTimeSeconds: 5})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "one" {
		t.Fatalf("ReceiveMessage with the environment's client = %+v, %v; want the message sent", out, err)
	}
	if _, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q.URL),
		ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitEmpty(t.Context(), q.URL); err != nil {
		t.Errorf("WaitEmpty once the message was deleted: %v", err)
	}

	s.Close()
	select {
	case <-s.Done():
	default:
		t.Error("Done is open after Close")
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		t.Errorf("port %d still answers after Close", port)
	}
}

// WaitDeadLetter returns ctx's error when nothing arrives.
func TestLocalServerWaitDeadLetterEnds(t *testing.T) {
	t.Parallel()
	s, err := sqsdispatchtest.StartLocalServer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	q, err := s.CreateQueue(t.Context(), "quiet", sqsdispatchtest.MaxReceiveCount(2))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.WaitDeadLetter(ctx, q.DLQURL); err == nil || !strings.Contains(err.Error(), "no message arrived") {
		t.Errorf("WaitDeadLetter on an empty queue = %v, want an error saying no message arrived", err)
	}
}
