package sqsdispatchtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
)

// Bounds of the test helpers that wait for the server.
const (
	// serverStartTimeout bounds StartServer, the first install included.
	serverStartTimeout = 10 * time.Minute
	// serverWaitTimeout bounds Server.WaitDeadLetter and Server.WaitEmpty.
	serverWaitTimeout = time.Minute
)

// Server is a local SQS-compatible server (fauxqs) for integration tests.
// Create one with StartServer. Its methods fail the test that called them
// when they cannot do their part.
type Server struct {
	local *LocalServer
}

// Queue names a queue created with Server.CreateQueue.
type Queue struct {
	// URL is the queue's URL.
	URL string
	// DLQURL is the URL of its dead-letter queue, or "" when it has none.
	DLQURL string
}

// StartServer starts a local SQS-compatible server (fauxqs) on 127.0.0.1
// with a free port, and stops it when the test ends. Each call starts a
// server of its own, with no queues. The first start installs the server
// once per user, as StartLocalServer says. When the server cannot be
// installed or started, StartServer fails the test: it never skips it.
//
// In a job child of a test binary whose TestMain did not call
// sqsdispatch.Init first (see Main), StartServer prints why and exits with
// code 2 instead of starting a server for every child.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	if child.IsChild() {
		fmt.Fprintln(os.Stderr, "sqsdispatchtest: StartServer in a job child: the test binary's TestMain did not call "+
			"sqsdispatch.Init first, so its job children run the tests; use sqsdispatchtest.Main(m, registry) in TestMain")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(tb.Context(), serverStartTimeout)
	defer cancel()
	local, err := StartLocalServer(ctx)
	if err != nil {
		tb.Fatalf("sqsdispatchtest: StartServer: %v", err)
	}
	tb.Cleanup(local.Close)
	return &Server{local: local}
}

// Endpoint returns the server's base URL, http://127.0.0.1:PORT. An SDK
// client must send every request there (its BaseEndpoint, or
// AWS_ENDPOINT_URL_SQS), whatever host a queue URL names.
func (s *Server) Endpoint() string { return s.local.Endpoint() }

// Client returns an SQS client of the server, with dummy credentials and
// region us-east-1. It satisfies sqsdispatch.Client.
func (s *Server) Client() *sqs.Client { return s.local.Client() }

// Environ returns the environment that points the AWS SDK at the server
// (see LocalServer.Environ), for a service the test runs as a process.
func (s *Server) Environ() []string { return s.local.Environ() }

// CreateQueue creates the queue name on the server, with a dead-letter
// queue name-dlq and a redrive policy when MaxReceiveCount is given; with
// FIFO both are FIFO queues and their names end in ".fifo". Creating a
// queue that exists with the same attributes returns it again.
func (s *Server) CreateQueue(tb testing.TB, name string, opts ...QueueOption) Queue {
	tb.Helper()
	q, err := s.local.CreateQueue(tb.Context(), name, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// Send sends msg to the queue at url and returns its message ID; see
// LocalServer.Send for what of msg it sends.
func (s *Server) Send(tb testing.TB, url string, msg Message) string {
	tb.Helper()
	id, err := s.local.Send(tb.Context(), url, msg)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// WaitDeadLetter waits, for up to a minute, until a message is in the
// dead-letter queue at dlqURL (Queue.DLQURL), takes it off the queue and
// returns it with the reason the dispatcher gave.
func (s *Server) WaitDeadLetter(tb testing.TB, dlqURL string) DeadLetter {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), serverWaitTimeout)
	defer cancel()
	dl, err := s.local.WaitDeadLetter(ctx, dlqURL)
	if err != nil {
		tb.Fatal(err)
	}
	return dl
}

// WaitEmpty waits, for up to a minute, until the queue at url holds no
// message: none visible, none in flight and none delayed.
func (s *Server) WaitEmpty(tb testing.TB, url string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), serverWaitTimeout)
	defer cancel()
	if err := s.local.WaitEmpty(ctx, url); err != nil {
		tb.Fatal(err)
	}
}
