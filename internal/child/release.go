package child

import (
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// reapWithin bounds how long Retire waits for the group's re-parented
// members to be reapable and for the stderr pipe to reach its end.
const reapWithin = 2 * time.Second

// Keep detaches the job's process from the job and returns it, to run
// another job (Process.Next) or be retired (Process.Retire); Release then
// leaves the process running. It does so once Done is closed, and only
// when the job's request had wire.Request.Reuse, the job ended by
// reporting a result after which its process waits for another request
// (not a panic, not a stop signal), no signal was sent through this handle
// (Signal), the process has not exited, and Release has not been called.
// Otherwise, and on any later call, it returns nil and false. A process
// may still die between Keep and its next job: see Process.Next.
func (c *Child) Keep() (*Process, bool) {
	if !isClosed(c.done) {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.livesOn || c.exitSeen || c.signalled || c.released || c.kept || isClosed(c.p.done) {
		return nil, false
	}
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.retiring {
		return nil, false
	}
	c.kept, p.idle = true, true
	return p, true
}

// Release ends the job's handle. Unless Keep handed the process on, it
// retires the process (Process.Retire): it kills whatever is left of its
// process group, waits until it is reaped, reaps the members of its group
// that were re-parented to this process (when it is a child subreaper),
// and closes the pipes, which ends a request or body write the child no
// longer reads. It returns once this job's request and body writes have
// ended. When it returns, no goroutine of this job is left, nor of its
// process unless that was kept; a body copy (SendBody) in a Read of its
// source holds it until that Read returns. Calls after the first wait for
// the first to finish and do nothing else.
func (c *Child) Release() { c.releaseOnce.Do(c.release) }

func (c *Child) release() {
	c.mu.Lock()
	kept := c.kept
	c.released = true
	c.mu.Unlock()
	if !kept {
		c.p.Retire()
	}
	<-c.done
	c.writes.Wait()
}

func (p *Process) retire() {
	p.mu.Lock()
	p.retiring = true
	if !p.reaped {
		_ = signalGroup(p.pid, syscall.SIGKILL)
	}
	p.mu.Unlock()
	<-p.done
	p.readers.Wait()
	if !isTracked(p.pid) { // else the id now names a new child's group
		proc.ReapGroup(p.pid, reapWithin)
	}
	_ = p.reqW.Close() // also ends a request or body write still in flight
	p.writes.Wait()
	_ = p.resR.Close()
	if !isClosed(p.errDone) {
		t := time.NewTimer(reapWithin)
		select {
		case <-p.errDone:
		case <-t.C:
		}
		t.Stop()
	}
	_ = p.errR.Close() // unblocks the reader if a stray process holds the pipe
	<-p.errDone
}
