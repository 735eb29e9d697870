//go:build linux

package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func TestReaperFindsOrphansAndZombies(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("%s=test.%d.%d", ledger.EnvRun, os.Getpid(), time.Now().UnixNano())
	f := newFleet("", nil, nil, "", 0)
	r := newReaper(marker, f)

	// A marked process that does not reap its child: the child stays a
	// zombie under it.
	holder := exec.Command("sh", "-c", "sleep 0 & exec sleep 30")
	holder.Env = append(os.Environ(), marker)
	// A marked process orphaned at once: re-parented to this process.
	orphanMaker := exec.Command("sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!")
	orphanMaker.Env = append(os.Environ(), marker)
	unmarked := exec.Command("sleep", "30")
	f.mu.Lock() // the reaper must not reap what exec.Cmd waits for
	err := holder.Start()
	if err == nil {
		f.started[holder.Process.Pid] = true
		err = unmarked.Start()
	}
	if err == nil {
		f.started[unmarked.Process.Pid] = true
	}
	f.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = holder.Process.Kill()
		_ = unmarked.Process.Kill()
		_ = holder.Wait()
		_ = unmarked.Wait()
	})
	out, err := orphanMaker.Output()
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}

	// The holder's child may still be running (not yet a zombie) at the
	// first sweeps.
	var left []Leftover
	kinds := map[string]bool{}
	waitFor(t, "the orphan and the zombie", func() bool {
		r.sweep()
		left = r.leftovers()
		clear(kinds)
		for _, l := range left {
			switch {
			case l.PID == holder.Process.Pid:
				kinds["holder"] = !l.Zombie()
			case l.PID == orphan:
				kinds["orphan"] = !l.Zombie() && l.PPID == os.Getpid()
			case l.Zombie() && l.PPID == holder.Process.Pid:
				kinds["zombie"] = true
			case l.PID == unmarked.Process.Pid:
				kinds["unmarked"] = true
			}
		}
		return len(left) == 3 && kinds["holder"] && kinds["orphan"] && kinds["zombie"] || kinds["unmarked"]
	})
	if kinds["unmarked"] || len(left) != 3 {
		t.Errorf("leftovers %+v: found %v; want the holder, its zombie and the orphan, and no unmarked process", left, kinds)
	}

	// Killed, the adopted orphan becomes this process's zombie, which the
	// reaper reaps.
	if err := syscall.Kill(orphan, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the adopted orphan to be reaped", func() bool {
		r.sweep()
		for _, l := range r.leftovers() {
			if l.PID == orphan {
				return false
			}
		}
		return true
	})
	if adopted, reaped := r.counts(); adopted < 1 || reaped < 1 {
		t.Errorf("adopted=%d reaped=%d", adopted, reaped)
	}
}
