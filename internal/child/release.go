package child

import (
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// reapWithin bounds how long Release waits for the group's re-parented
// members to be reapable and for the stderr pipe to reach its end.
const reapWithin = 2 * time.Second

// Release kills whatever is left of the child's process group, waits
// until the child is reaped, reaps the members of its group that were
// re-parented to this process (when it is a child subreaper), and closes
// the pipes, which ends a request or body write the child no longer reads.
// When it returns, no goroutine of the child is left; a body copy
// (SendBody) in a Read of its source holds it until that Read returns.
// Calls after the first wait for the first to finish and do nothing else.
func (c *Child) Release() { c.releaseOnce.Do(c.release) }

func (c *Child) release() {
	c.mu.Lock()
	if !c.reaped {
		_ = signalGroup(c.pid, syscall.SIGKILL)
	}
	c.mu.Unlock()
	<-c.done
	if !isTracked(c.pid) { // else the id now names a new child's group
		proc.ReapGroup(c.pid, reapWithin)
	}
	_ = c.reqW.Close() // also ends a request or body write still in flight
	c.writes.Wait()
	if !isClosed(c.errDone) {
		t := time.NewTimer(reapWithin)
		select {
		case <-c.errDone:
		case <-t.C:
		}
		t.Stop()
	}
	_ = c.errR.Close() // unblocks the reader if a stray process holds the pipe
	<-c.errDone
}
