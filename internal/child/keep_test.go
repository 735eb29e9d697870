package child_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// A kept process waiting for its next request ends with its parent's
// order or death, or a signal from elsewhere; a job sent to it then ends
// without a result.
func TestKeptProcessEndsWhileItWaits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		end  func(*child.Process)
		want syscall.Signal
	}{
		{"retired", (*child.Process).Retire, syscall.SIGKILL},
		{"death signal", func(p *child.Process) { _ = syscall.Kill(p.PID(), proc.DeathSignal) }, syscall.SIGKILL},
		{"killed from elsewhere", func(p *child.Process) { _ = syscall.Kill(p.PID(), syscall.SIGKILL) }, syscall.SIGKILL},
		{"stop signal", func(p *child.Process) { _ = syscall.Kill(p.PID(), syscall.SIGTERM) }, syscall.SIGTERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := spawn(t, reused("ok", jobSpec{}))
			self := identify(t, c.PID())
			p := keep(t, c)
			tt.end(p)
			waitFor(t, "the process to end", func() bool { return child.IsClosed(p.Done()) })
			if s := self.state(); s != 0 {
				t.Fatalf("process %d in state %q once Done; want it reaped", self.pid, s)
			}
			late := sendNext(t, p, reused("ok", jobSpec{}))
			waitDone(t, late)
			if late.Result() != nil || !late.Exited() || signaled(late) != tt.want {
				t.Fatalf("job sent to the ended process ended with %+v, exited %v by %v; want no result, %v", late.Result(), late.Exited(), signaled(late), tt.want)
			}
		})
	}
}

// A job that panicked, or that a stop signal reached, ends its process
// even when its request asked the process to wait; so does one whose
// request did not ask it to. Keep refuses each, and any job that was
// killed, signalled through its handle, released or kept already.
func TestKeepRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		req    wire.Request
		act    func(*testing.T, *child.Child) // before the job is done
		after  func(*child.Child)             // once it is done, before Keep
		exited bool
	}{
		{"not asked to wait", job("ok", jobSpec{}), nil, nil, true},
		{"panicked", reused("panic", jobSpec{}), nil, nil, true},
		{"a stop signal from elsewhere reached it", reused("sleep", jobSpec{}), func(t *testing.T, c *child.Child) {
			_ = syscall.Kill(c.PID(), syscall.SIGTERM)
		}, nil, true},
		{"killed itself", reused("checkpoint", jobSpec{Checkpoints: 1, Die: true}), nil, nil, true},
		{"killed by us", reused("sleep", jobSpec{}), func(t *testing.T, c *child.Child) { c.Signal(syscall.SIGKILL) }, nil, true},
		{"signalled after its result", reused("ok", jobSpec{}), nil, func(c *child.Child) { c.Signal(syscall.SIGCONT) }, false},
		{"released", reused("ok", jobSpec{}), nil, (*child.Child).Release, false},
		{"kept already", reused("ok", jobSpec{}), nil, func(c *child.Child) { p, _ := c.Keep(); p.Retire() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "pid")
			if tt.req.Job == "sleep" {
				tt.req = reused("sleep", jobSpec{File: file})
			}
			c := spawn(t, tt.req)
			self := identify(t, c.PID())
			if tt.act != nil {
				if tt.req.Job == "sleep" {
					readPIDs(t, file, 1)
				}
				if _, ok := c.Keep(); ok {
					t.Fatal("Keep took the process of a running job")
				}
				tt.act(t, c)
			}
			waitDone(t, c)
			if tt.after != nil {
				tt.after(c)
			}
			if c.Exited() != tt.exited || (c.State() != nil) != tt.exited {
				t.Fatalf("exited %v (%v); want %v", c.Exited(), c.State(), tt.exited)
			}
			if p, ok := c.Keep(); ok {
				p.Retire()
				t.Fatalf("Keep took the process of a job that ended with %+v", c.Result())
			}
			c.Release()
			waitDead(t, "the process", self)
		})
	}
}

// A dispatcher SIGKILLed while its kept process waits for a request, or
// runs its second job, takes the process with it, and the job's
// grandchild.
func TestKilledDispatcherTakesKeptProcess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario string
	}{
		{"waiting for its next request", "kept"},
		{"running its second job", "reused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := startMiddle(t, middleSpec{Scenario: tt.scenario})
			first := readPIDs(t, m.file("job"), 2)
			kept := readPIDs(t, m.file("kept"), 1)
			if kept[0] != first[0] {
				t.Fatalf("kept process %v; want the first job's %v", kept[0], first[0])
			}
			left := kept
			if tt.scenario == "reused" {
				second := readPIDs(t, m.file("second"), 2)
				if second[0] != first[0] {
					t.Fatalf("second job ran in %v; want the kept process %v", second[0], first[0])
				}
				left = second
			}
			if s := first[1].state(); s != 0 {
				t.Fatalf("the first job's grandchild %d in state %q while its process was kept; want it reaped", first[1].pid, s)
			}
			m.kill(t)
			waitDead(t, "the kept process and what it runs", left...)
		})
	}
}
