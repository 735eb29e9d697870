package sqsdispatchtest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// raceNoExitSleep is the race detector's option that spares a process the
// second it otherwise sleeps when it exits.
const raceNoExitSleep = "atexit_sleep_ms=0"

// Main is the whole TestMain of a test binary that runs jobs (RunJob, or
// a dispatcher in a test), with the registry the service builds:
//
//	func TestMain(m *testing.M) {
//		sqsdispatchtest.Main(m, registry())
//	}
//
// The jobs run in child processes of the test binary, so Main first calls
// sqsdispatch.Init(reg): in a job child it runs the job and exits, and no
// test runs there. In the test process it refuses a nil registry or one
// without jobs before any test runs (a message on stderr, exit code 2);
// adds GORACE=atexit_sleep_ms=0 to the environment the children inherit,
// so that under -race each job's process exits at once rather than after
// the race detector's second (RunJob tests run about three times
// faster); and runs the tests. When TestMain returns, the testing package
// exits with their result, so TestMain may tidy up after Main.
//
// Everything TestMain does before Main runs in every job child too: keep
// set-up that the tests share (a server, a database) inside the tests or
// after a sync.Once, never before Main.
func Main(m *testing.M, reg *sqsdispatch.Registry) {
	sqsdispatch.Init(reg)
	if reg == nil || len(reg.Names()) == 0 {
		fmt.Fprintln(os.Stderr, "sqsdispatchtest: Main: the registry holds no jobs; "+
			"pass Main the registry the service builds, so that the test binary's children can run its jobs")
		os.Exit(2)
	}
	os.Setenv("GORACE", withRaceNoExitSleep(os.Getenv("GORACE")))
	m.Run()
}

// withRaceNoExitSleep adds raceNoExitSleep to the GORACE options opts,
// unless they set atexit_sleep_ms already.
func withRaceNoExitSleep(opts string) string {
	for _, o := range strings.Fields(opts) {
		if strings.HasPrefix(o, "atexit_sleep_ms=") {
			return opts
		}
	}
	return strings.TrimSpace(opts + " " + raceNoExitSleep)
}
