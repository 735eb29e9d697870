package sqsdispatchtest_test

import (
	"os"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// Environment variables that make the test binary play another part.
const (
	// envNoInit makes the test binary's children behave as those of a
	// test binary whose TestMain does not call sqsdispatch.Init.
	envNoInit = "SQSDISPATCHTEST_NO_INIT"
	// envRunTestsNoInit makes TestMain run the tests without
	// sqsdispatch.Init, as a TestMain that forgot it does.
	envRunTestsNoInit = "SQSDISPATCHTEST_RUN_TESTS_NO_INIT"
	// envMainNil makes TestMain pass Main a nil registry.
	envMainNil = "SQSDISPATCHTEST_MAIN_NIL"
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envNoInit) != "":
		// A child of a test binary without Init gets as far as the
		// first New, which refuses to run in a child.
		_, _ = sqsdispatch.New(sqsdispatch.Config{})
		os.Exit(1)
	case os.Getenv(envRunTestsNoInit) != "":
		os.Exit(m.Run())
	case os.Getenv(envMainNil) != "":
		sqsdispatchtest.Main(m, nil)
		return
	}
	sqsdispatchtest.Main(m, testRegistry())
}
