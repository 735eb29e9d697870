//go:build linux

package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeFleet returns a fleet whose service is a shell script. The script
// creates $READY once its traps are set; ready waits for that.
func fakeFleet(t *testing.T, script string, slots int) (f *fleet, ready func()) {
	t.Helper()
	dir := t.TempDir()
	path, flag := filepath.Join(dir, "svc.sh"), filepath.Join(dir, "ready")
	if err := os.WriteFile(path, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Run by sh, not executed: an executable written here could be busy
	// in a fork of a parallel test.
	f = newFleet("/bin/sh", []string{path}, append(os.Environ(), "READY="+flag), dir, slots)
	return f, func() {
		t.Helper()
		waitFor(t, "the fake service to be ready", func() bool {
			_, err := os.Stat(flag)
			return err == nil
		})
	}
}

// sleeper is a fake service that sleeps.
const sleeper = "touch \"$READY\"; exec sleep 30"

func TestDispatcherFate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		script         string
		act            func(d *dispatcher)
		wantUnexpected bool
		wantKilled     bool
	}{
		{name: "stop signal sent", script: sleeper, act: func(d *dispatcher) { d.signal(syscall.SIGTERM) }},
		{name: "SIGKILL sent", script: sleeper, act: func(d *dispatcher) { d.signal(syscall.SIGKILL) }, wantKilled: true},
		{name: "exit code of the signal sent", script: "trap 'exit 129' HUP; touch \"$READY\"; sleep 30 & wait",
			act: func(d *dispatcher) { d.signal(syscall.SIGHUP) }},
		{name: "exit code of another signal", script: "trap 'exit 143' HUP; touch \"$READY\"; sleep 30 & wait",
			act: func(d *dispatcher) { d.signal(syscall.SIGHUP) }, wantUnexpected: true},
		{name: "exits by itself", script: "touch \"$READY\"; exit 3", act: func(*dispatcher) {}, wantUnexpected: true},
		{name: "killed by a signal not sent", script: sleeper,
			act: func(d *dispatcher) { _ = syscall.Kill(d.cmd.Process.Pid, syscall.SIGSEGV) }, wantUnexpected: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, ready := fakeFleet(t, tc.script, 1)
			d, err := f.start(0)
			if err != nil {
				t.Fatal(err)
			}
			ready()
			if d.id.PID != d.cmd.Process.Pid || d.id.Start == 0 {
				t.Errorf("identity %v of pid %d", d.id, d.cmd.Process.Pid)
			}
			tc.act(d)
			<-d.done
			fates := f.fates()
			if len(fates) != 1 {
				t.Fatalf("%d fates", len(fates))
			}
			got := fates[0]
			if got.Unexpected != tc.wantUnexpected || got.Killed != tc.wantKilled {
				t.Errorf("fate %+v: unexpected=%t killed=%t, want %t and %t", got, got.Unexpected, got.Killed, tc.wantUnexpected, tc.wantKilled)
			}
		})
	}
}

func TestFleetRestartsAfterDelay(t *testing.T) {
	t.Parallel()
	f, _ := fakeFleet(t, "exec sleep 30", 2) // no ready file: nothing may write after the stop
	for slot := range 2 {
		if _, err := f.start(slot); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { f.stopAll(time.Now().Add(10 * time.Second)) })
	first := f.running(false)[0]
	first.signal(syscall.SIGKILL)
	<-first.done
	if len(f.running(false)) != 1 {
		t.Errorf("running = %d, want 1", len(f.running(false)))
	}
	n, next, err := f.restartDue(first.exitedAt)
	if err != nil || n != 0 || !next.Equal(first.exitedAt.Add(restartDelay)) {
		t.Fatalf("restartDue at exit = %d, %v, %v; want none until %v", n, next, err, first.exitedAt.Add(restartDelay))
	}
	n, next, err = f.restartDue(first.exitedAt.Add(restartDelay))
	if err != nil || n != 1 || !next.IsZero() {
		t.Fatalf("restartDue after the delay = %d, %v, %v; want 1 restart", n, next, err)
	}
	if got := f.current[first.slot]; got.gen != 2 || got == first {
		t.Errorf("slot %d holds generation %d", first.slot, got.gen)
	}
	if len(f.running(false)) != 2 || len(f.pids()) != 2 {
		t.Errorf("running = %d, pids = %v", len(f.running(false)), f.pids())
	}
}

func TestStopAllKillsWhatIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	f, ready := fakeFleet(t, "trap '' TERM; touch \"$READY\"; exec sleep 30", 1)
	if _, err := f.start(0); err != nil {
		t.Fatal(err)
	}
	ready()
	if n := f.stopAll(time.Now().Add(300 * time.Millisecond)); n != 1 {
		t.Fatalf("stopAll killed %d, want 1", n)
	}
	fate := f.fates()[0]
	if !fate.Unexpected || !fate.Killed || !strings.Contains(fate.Exit, "did not exit") {
		t.Errorf("fate %+v", fate)
	}
}
