package sqsdispatchtest_test

import (
	"os"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// envNoInit makes the test binary's children behave as those of a test
// binary whose TestMain does not call sqsdispatch.Init.
const envNoInit = "SQSDISPATCHTEST_NO_INIT"

func TestMain(m *testing.M) {
	if os.Getenv(envNoInit) != "" {
		// A child of a test binary without Init gets as far as the
		// first New, which refuses to run in a child.
		_, _ = sqsdispatch.New(sqsdispatch.Config{})
		os.Exit(1)
	}
	sqsdispatch.Init(testRegistry())
	// Under -race every process sleeps a second at exit; the job
	// children need not.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	os.Exit(m.Run())
}
