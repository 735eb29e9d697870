package sqsdispatchtest

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// LocalServer is a local SQS-compatible server (fauxqs) on 127.0.0.1 that
// runs until Close: for a program, such as a quick start, a demo or a
// local run of a service. Tests use StartServer, which stops the server
// when the test ends. Start one with StartLocalServer.
type LocalServer struct {
	srv    *fauxqs.Server
	client *sqs.Client
}

// ServerOption configures StartLocalServer.
type ServerOption interface {
	applyServer(*serverSettings)
}

type serverSettings struct {
	port int
}

type serverOption func(*serverSettings)

func (f serverOption) applyServer(s *serverSettings) { f(s) }

// Port makes the server listen on port n of 127.0.0.1. Defaults to a free
// port that the system picks.
func Port(n int) ServerOption {
	return serverOption(func(s *serverSettings) { s.port = n })
}

// StartLocalServer starts a local SQS-compatible server (fauxqs) on
// 127.0.0.1, with no queues, and returns once it answers. The caller stops
// it with Close; the server also dies with the process that started it,
// however that process ends.
//
// The server runs on Node.js. The first start installs fauxqs and a Node
// 22 of its own with npm, which must be on PATH (about 230 MB; a line on
// stderr says so), once per user: into $SQSDISPATCH_TOOLS_DIR if set, else
// into sqsdispatch/tools in the user's cache folder (os.UserCacheDir; for
// example ~/.cache/sqsdispatch/tools on Linux). Every later start, from
// any module, test binary or program, uses that install; concurrent first
// starts install once, and an install that was cut off is redone. Remove
// the folder to remove the server.
//
// ctx bounds the start, the first install included; the server outlives
// it. StartLocalServer refuses to run in a job child (a program that did
// not call sqsdispatch.Init first).
func StartLocalServer(ctx context.Context, opts ...ServerOption) (*LocalServer, error) {
	if child.IsChild() {
		return nil, errors.New("sqsdispatchtest: StartLocalServer in a job child: the program did not call sqsdispatch.Init first")
	}
	var set serverSettings
	for _, o := range opts {
		o.applyServer(&set)
	}
	srv, err := fauxqs.StartOnPort(ctx, set.port)
	if err != nil {
		return nil, fmt.Errorf("sqsdispatchtest: the local SQS server did not start: %w", err)
	}
	client, err := srv.Client(ctx)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("sqsdispatchtest: %w", err)
	}
	return &LocalServer{srv: srv, client: client}, nil
}

// Close stops the server and waits until it has exited.
func (s *LocalServer) Close() { s.srv.Close() }

// Done is closed once the server has exited: after Close, or when it
// stopped by itself (killed from outside, say).
func (s *LocalServer) Done() <-chan struct{} { return s.srv.Exited() }

// Endpoint returns the server's base URL, http://127.0.0.1:PORT. An SDK
// client must send every request there (its BaseEndpoint, or
// AWS_ENDPOINT_URL_SQS), whatever host a queue URL names: the server's
// queue URLs name a host that does not resolve.
func (s *LocalServer) Endpoint() string { return s.srv.Endpoint }

// Client returns an SQS client of the server, with dummy credentials and
// region us-east-1. It satisfies sqsdispatch.Client.
func (s *LocalServer) Client() *sqs.Client { return s.client }

// Environ returns the environment that points the AWS SDK's default
// configuration (config.LoadDefaultConfig, in Go and in other languages'
// SDKs and the AWS CLI) at the server, as NAME=value entries:
// AWS_ENDPOINT_URL_SQS, AWS_REGION, AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY. Append them to a service's environment to run it
// against the server.
func (s *LocalServer) Environ() []string {
	return []string{
		"AWS_ENDPOINT_URL_SQS=" + s.srv.Endpoint,
		"AWS_REGION=" + fauxqs.Region,
		"AWS_ACCESS_KEY_ID=" + fauxqs.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + fauxqs.SecretKey,
	}
}

// CreateQueue creates the queue name on the server, with a dead-letter
// queue name-dlq and a redrive policy when MaxReceiveCount is given; with
// FIFO both are FIFO queues and their names end in ".fifo". Creating a
// queue that exists with the same attributes returns it again.
func (s *LocalServer) CreateQueue(ctx context.Context, name string, opts ...QueueOption) (Queue, error) {
	spec := fauxqs.QueueSpec{Name: name}
	for _, o := range opts {
		o.applyQueue(&spec)
	}
	q, err := fauxqs.CreateQueues(ctx, s.client, spec)
	if err != nil {
		return Queue{}, fmt.Errorf("sqsdispatchtest: CreateQueue(%q): %w", name, err)
	}
	return Queue{URL: q.URL, DLQURL: q.DLQURL}, nil
}
