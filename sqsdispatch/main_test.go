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

const (
	envOutDir   = "SQSDISPATCH_TEST_OUT"  // inherited by the job children
	envBare     = "SQSDISPATCH_TEST_BARE" // exit at once: the bare cost of a re-exec
	envRunProc  = "SQSDISPATCH_TEST_RUN"  // run a dispatcher in this process (signal tests)
	envEndpoint = "SQSDISPATCH_TEST_SQS"  // the server's endpoint for such a process
)

func TestMain(m *testing.M) {
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
