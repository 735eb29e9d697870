package sqsdispatchtest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// serverStartTimeout bounds StartServer, the first install included.
const serverStartTimeout = 10 * time.Minute

// Server is a local SQS-compatible server (fauxqs) for integration tests.
// Create one with StartServer.
type Server struct {
	srv    *fauxqs.Server
	client *sqs.Client
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
// server of its own, with no queues.
//
// The server runs on Node.js. The first call installs fauxqs and a Node 22
// of its own with npm, which must be on PATH (about 250 MB; a line on
// stderr says so), into $SQSDISPATCH_TOOLS_DIR if set, else into
// sqsdispatch/tools in the user's cache folder (os.UserCacheDir); later
// calls, also from other test binaries, reuse it. When the server cannot
// be installed or started, StartServer fails the test: it never skips it.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), serverStartTimeout)
	defer cancel()
	srv, err := fauxqs.Start(ctx)
	if err != nil {
		tb.Fatalf("sqsdispatchtest: StartServer: the local SQS server did not start: %v", err)
	}
	tb.Cleanup(srv.Close)
	client, err := srv.Client(ctx)
	if err != nil {
		tb.Fatalf("sqsdispatchtest: StartServer: %v", err)
	}
	return &Server{srv: srv, client: client}
}

// Endpoint returns the server's base URL, http://127.0.0.1:PORT. An SDK
// client must send every request there (its BaseEndpoint, or
// AWS_ENDPOINT_URL_SQS), whatever host a queue URL names.
func (s *Server) Endpoint() string { return s.srv.Endpoint }

// Client returns an SQS client of the server, with dummy credentials and
// region us-east-1. It satisfies sqsdispatch.Client.
func (s *Server) Client() *sqs.Client { return s.client }

// CreateQueue creates the queue name on the server, with a dead-letter
// queue name-dlq and a redrive policy when MaxReceiveCount is given; with
// FIFO both are FIFO queues and their names end in ".fifo". It fails the
// test if the queue cannot be created. Creating a queue that exists with
// the same attributes returns it again.
func (s *Server) CreateQueue(tb testing.TB, name string, opts ...QueueOption) Queue {
	tb.Helper()
	spec := fauxqs.QueueSpec{Name: name}
	for _, o := range opts {
		o.applyQueue(&spec)
	}
	q, err := fauxqs.CreateQueues(tb.Context(), s.client, spec)
	if err != nil {
		tb.Fatalf("sqsdispatchtest: CreateQueue(%q): %v", name, err)
	}
	return Queue{URL: q.URL, DLQURL: q.DLQURL}
}
