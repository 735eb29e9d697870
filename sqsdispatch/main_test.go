package sqsdispatch_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// Set by TestMain for every test.
var (
	server *fauxqs.Server
	client *sqs.Client
)

// Environment variables that make the test binary play another part.
const (
	envOutDir     = "SQSDISPATCH_TEST_OUT"          // where jobs write what they saw; inherited by the children
	envBare       = "SQSDISPATCH_TEST_BARE"         // exit at once: the bare cost of a re-exec
	envRunProc    = "SQSDISPATCH_TEST_RUN"          // run a dispatcher in this process (signal tests)
	envEndpoint   = "SQSDISPATCH_TEST_SQS"          // the server's endpoint for such a process
	envNewInChild = "SQSDISPATCH_TEST_NEW_IN_CHILD" // call New without Init, as a child that forgot it
)

func TestMain(m *testing.M) {
	if os.Getenv(envNewInChild) != "" {
		newWithoutInit() // never returns
	}
	sqsdispatch.Init(testRegistry())
	if os.Getenv(envBare) != "" {
		os.Exit(0)
	}
	if os.Getenv(envRunProc) != "" {
		runDispatcherProcess() // never returns
	}
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sqsdispatch-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FATAL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Setenv(envOutDir, dir)
	// Under -race, every process sleeps a second at exit by default; the
	// job children need not.
	os.Setenv("GORACE", "atexit_sleep_ms=0")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	server, err = fauxqs.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FATAL: the local SQS server (fauxqs) could not start, so the integration tests cannot run:", err)
		return 1
	}
	defer server.Close()
	os.Setenv(envEndpoint, server.Endpoint)
	client, err = server.Client(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FATAL: SQS client:", err)
		return 1
	}
	return m.Run()
}

// newWithoutInit is the body of a test binary started as a job child that
// skips Init and calls New: New must refuse (exit 2) rather than start
// children of its own.
func newWithoutInit() {
	_, err := sqsdispatch.New(sqsdispatch.Config{Client: unusedClient{}, QueueURL: "http://q", Registry: testRegistry(), Job: "noop"})
	fmt.Fprintln(os.Stderr, "New returned in a job child:", err)
	os.Exit(0)
}
