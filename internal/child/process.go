package child

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// Process is a child process that outlives its job: Child.Keep returns it
// once a job whose request had wire.Request.Reuse has reported its result,
// and the process waits for another request. Send runs its next job;
// Retire ends it. Its methods are safe for concurrent use.
//
// A process keeps its process group, its death signal and its lifeline
// for its whole life, whatever job it runs; nothing a job started is left
// when the next one starts. What a job leaves in the process itself (a
// goroutine, a global, the environment, the working directory) is still
// there for the next one; only GOMAXPROCS is set back.
type Process struct {
	pid     int
	started time.Time
	done    chan struct{} // closed once the process exited, its group was killed and it was reaped

	reqW    *os.File       // request pipe, held open as the child's lifeline
	resR    *os.File       // result pipe, read by one job's reader at a time
	writes  sync.WaitGroup // request writes in flight, of every job
	readers sync.WaitGroup // result readers, of every job
	errR    *os.File
	errDone chan struct{} // closed when the stderr pipe reached its end
	stderr  tail

	pidKey  string                     // the log field of the pid
	lineLog atomic.Pointer[zap.Logger] // tags stderr lines; nil: copy them raw
	warnLog atomic.Pointer[zap.Logger] // never nil

	jobs atomic.Int64 // requests sent

	mu       sync.Mutex
	reaped   bool             // the leader was waited for: its group id may be reused
	state    *os.ProcessState // set once reaped
	cur      *Child           // the job the process's exit ends; nil while it waits for a request
	idle     bool             // Keep handed it out: Send may give it a job
	retiring bool             // Retire began: no more writes or readers

	retireOnce sync.Once
}

// PID returns the process's pid, which is also its process group's id.
func (p *Process) PID() int { return p.pid }

// Started returns when the process was started.
func (p *Process) Started() time.Time { return p.started }

// Jobs returns how many jobs the process has been sent so far, the one it
// runs included.
func (p *Process) Jobs() int { return int(p.jobs.Load()) }

// Done returns a channel that is closed once the process has exited, its
// process group has been killed and it has been reaped, whether it ran a
// job then or waited for one.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited: reaped (Done), or dead
// and about to be.
func (p *Process) Exited() bool { return isClosed(p.done) || proc.Exited(p.pid) }

// RSS returns the resident memory, in bytes, of the process and its
// descendants now; 0 once it is gone. While the process waits for a
// request it has no descendants.
func (p *Process) RSS() int64 { return treeRSS(p.pid) }

// Next returns the handle of the process's next job, which its exit ends
// from now on, and starts reading its result; the caller sends the job's
// request with its Send or SendBody. Call it once after each Keep that
// returned p; it panics otherwise. Should the process have died since
// (killed from outside while it waited), or been retired, the job ends,
// as after a crash, without a result.
func (p *Process) Next() *Child {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.idle {
		panic("sqsdispatch: Process.Next on a process that no Keep handed out, or sent a job already")
	}
	p.idle = false
	c := newChild(p)
	switch {
	case p.reaped:
		c.readDone = true
		c.state, c.exitSeen = p.state, true
		c.maybeDone()
	case p.retiring:
		c.readDone = true // the result pipe is not read any more
		p.cur = c
	default:
		p.cur = c
		p.readers.Add(1)
		go c.readResult()
	}
	return c
}

// Retire ends the process: it kills its process group, waits until it is
// reaped, reaps the members of its group that were re-parented to this
// process, and closes its pipes, its lifeline among them. When it returns,
// no goroutine of the process is left; a body copy (SendBody) in a Read
// of its source holds it until that Read returns. A job that still runs
// in the process ends with it. Calls after the first wait for the first
// to finish and do nothing else.
func (p *Process) Retire() { p.retireOnce.Do(p.retire) }

// signal sends sig to the process group unless the leader was reaped.
func (p *Process) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reaped {
		_ = signalGroup(p.pid, sig)
	}
}

// detach makes the process's exit no longer end c, whose result says the
// process waits for another request.
func (p *Process) detach(c *Child) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == c {
		p.cur = nil
	}
}

// beginWrite counts a write of c's in flight, unless the process is
// being retired.
func (p *Process) beginWrite(c *Child) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.retiring {
		return false
	}
	p.writes.Add(1)
	c.writes.Add(1)
	return true
}

func (p *Process) endWrite(c *Child) {
	c.writes.Done()
	p.writes.Done()
}

// setLog makes log (nil: raw copies) receive the process's stderr lines.
func (p *Process) setLog(log *zap.Logger) {
	if log == nil {
		p.lineLog.Store(nil)
		p.warnLog.Store(zap.NewNop())
		return
	}
	log = log.With(zap.Int(p.pidKey, p.pid))
	p.lineLog.Store(log)
	p.warnLog.Store(log)
}

func (p *Process) warn(msg string, err error) {
	p.warnLog.Load().Warn(msg, zap.Error(err))
}
