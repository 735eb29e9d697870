package child_test

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
)

// An orphan re-parented to this subreaper process is reaped once it dies.
// (TestMain runs ReapAdopted for the whole test binary.) The shell that
// left it, in a process group of its own, is reaped by its owner.
func TestAdoptedOrphansAreReaped(t *testing.T) {
	t.Parallel()
	// The shell leaves a background sleep behind and exits: the sleep is
	// re-parented to this process, in the shell's process group.
	sh := exec.Command("sh", "-c", "sleep 0.2 & echo $!")
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := sh.Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	orphan := identify(t, pid)
	waitDead(t, "the adopted orphan", orphan)
}

// A child this process started by other means, in its own process group,
// is left for its owner to wait for.
func TestOwnChildrenAreLeftToTheirOwners(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := identify(t, cmd.Process.Pid)
	waitFor(t, "the child to exit", func() bool { return p.state() == 'Z' })
	child.ReapAdoptedOnce()
	if s := p.state(); s != 'Z' {
		t.Fatalf("own child in state %q after a reaping scan; want it left a zombie for its owner", s)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the owner's Wait failed: %v", err)
	}
}
