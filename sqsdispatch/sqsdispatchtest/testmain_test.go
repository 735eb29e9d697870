package sqsdispatchtest_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// runTestBinary runs this test binary with env added and the given test
// flags, and returns its exit code and output.
func runTestBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// Main refuses a registry without jobs before any test runs.
func TestMainRefusesAnEmptyRegistry(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runTestBinary(t, []string{envMainNil + "=1"}, "-test.v", "-test.run=^TestServerQueues$")
	if code != 2 || !strings.Contains(stderr, "sqsdispatchtest: Main: the registry holds no jobs") {
		t.Errorf("exit code %d, stderr %q; want 2 and Main's refusal", code, stderr)
	}
	if strings.Contains(stdout, "=== RUN") {
		t.Errorf("a test ran:\n%s", stdout)
	}
}

// A job child of a test binary that forgot Init runs the tests; the
// first StartServer there refuses to start a server and ends the child.
func TestStartServerRefusesInAJobChild(t *testing.T) {
	t.Parallel()
	env := []string{envRunTestsNoInit + "=1", wire.EnvChild + "=1", "SQSDISPATCH_TOOLS_DIR=" + t.TempDir()}
	code, stdout, stderr := runTestBinary(t, env, "-test.v", "-test.run=^TestServerQueues$")
	if code != 2 || !strings.Contains(stderr, "StartServer in a job child") {
		t.Errorf("exit code %d, stderr %q; want 2 and StartServer's refusal", code, stderr)
	}
	if strings.Contains(stdout, "--- PASS") || strings.Contains(stderr, "installing") {
		t.Errorf("the child went on to install or run a server:\n%s\n%s", stdout, stderr)
	}
}

// Main spares the job children the race detector's second at exit.
func TestMainSetsTheRaceOptionForChildren(t *testing.T) {
	t.Parallel()
	out, err := sqsdispatchtest.RunJob(t.Context(), sqsdispatch.Config{Registry: testRegistry(), Job: "gorace"},
		sqsdispatchtest.Message{Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !out.DeadLettered || !strings.Contains(out.Reason, "atexit_sleep_ms=0") {
		t.Errorf("outcome = %v; want the child to report GORACE with atexit_sleep_ms=0", out)
	}
}
