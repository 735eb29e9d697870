// Package child runs each job in a child process re-executed from the
// running binary, and is that child's runtime once it runs.
//
// The parent side starts a child (Start, Spawn), hands it its request over
// a pipe (Send, or SendBody to stream a large body after it), keeps the
// checkpoints its job records (Child.Checkpoint), forwards its stderr,
// times and measures it (Watch), signals its process group and, when done
// with it, kills what is left of the group and reaps it (Release). Spares
// keeps children started ahead of need.
//
// A Child is the handle of one job. A request with wire.Request.Reuse
// asks the child to wait, once it has reported its result, for another
// request: Keep then detaches the process from the finished job as a
// Process, whose Send runs the next job (a new Child) in the same
// process, and whose Retire ends it.
//
// The child side (Serve) is the whole life of the re-executed process:
// the handshake, the handling of its parent's death, the job (which may
// record checkpoints: Checkpoint), the killing of everything the job left
// behind, and the report; with Reuse, then the wait for the next request.
//
// Nothing a job starts may outlive the dispatcher, nor the job when its
// process runs another. Several mechanisms cover each other's gaps:
//   - each child leads a process group of its own, and every signal the
//     dispatcher sends goes to the whole group;
//   - on Linux the kernel sends a child proc.DeathSignal when the thread
//     that started it ends; the child handles it, from before it reads its
//     first request until it exits, by killing its whole group (and, as a
//     cleanup's guardian, the job's group first);
//   - the request pipe is the child's lifeline: its end of file means the
//     parent died (or retired the child), with the same consequence, also
//     while the child waits for its next request;
//   - a child is a child subreaper, and before it reports each job's
//     result kills and reaps every descendant the job left;
//   - when a child exits, its parent kills its process group before it
//     reaps it (the group's id cannot be reused until then);
//   - a suspended job is suspended by the child that runs its cleanup,
//     which is armed to kill it should the dispatcher die, and which tells
//     a job that had returned from one that runs by the child's marker
//     descriptor (set while each job runs);
//   - a job's checkpoints, its context and its stop signals are its own: a
//     goroutine a job left behind can record nothing for the next job, and
//     a job that a stop signal reached (or that panicked) ends its process.
package child

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Options configure a child's start.
type Options struct {
	// Log receives the child's stderr, one entry per line tagged with the
	// child's pid, and warnings about the child. When nil, the child's
	// stderr is copied to os.Stderr as it is and warnings are dropped.
	Log *zap.Logger
	// PIDKey is the log field that carries the child's pid. Defaults to
	// "pid"; a child that works for another (a cleanup's, whose log
	// already names the job's pid) takes another key.
	PIDKey string
}

// ErrInChild is returned by Start in a process that was itself started as
// a job child: a child never starts children of its own.
var ErrInChild = errors.New("sqsdispatch: a job child cannot start job children")

// Child is one job in a child process, as its parent sees it: the first
// job of a process Start started (or a spare's), or a later one that
// Process.Next handed a kept process. Its methods are safe for concurrent
// use.
type Child struct {
	p *Process

	done  chan struct{}    // closed once the job is over: see Done
	res   *wire.Result     // nil when the child reported nothing
	state *os.ProcessState // set when the process exited during this job

	ckptMu sync.Mutex
	ckpt   checkpoint // the last checkpoint kept
	frozen bool       // no more checkpoints are kept

	writes sync.WaitGroup // this job's request and body writes in flight

	mu         sync.Mutex
	started    time.Time
	seq        int      // this job's number in its process, from 1; 0 until sent
	reuse      bool     // the request asked the child to wait afterwards
	cpu0       cpuTimes // the process's CPU times when this job was sent
	end        jobEnd   // measured when the result was read
	stoppedUs  bool     // the dispatcher stopped the job
	signalled  bool     // any signal was sent through this handle
	readDone   bool     // the result, or the end of the stream, was read
	exitSeen   bool     // the process exited (and was reaped) during this job
	livesOn    bool     // the result says the process waits for another request
	doneClosed bool
	kept       bool // Keep detached the process from this job
	released   bool

	releaseOnce sync.Once
}

func newChild(p *Process) *Child {
	return &Child{p: p, done: make(chan struct{}), started: time.Now()}
}

// PID returns the pid of the job's process, which is also its process
// group's id.
func (c *Child) PID() int { return c.p.pid }

// Started returns when the job was handed its request, or when its
// process was started while it has none.
func (c *Child) Started() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

// Done returns a channel that is closed once the job is over: once its
// result has been read when, by that result, its process waits for
// another request (Keep); otherwise once the process has exited, its
// process group has been killed, it has been reaped and its result read.
func (c *Child) Done() <-chan struct{} { return c.done }

// Result returns what the child reported for this job, or nil when it
// reported nothing. Call it after Done is closed. Checkpoints are not
// results: see Checkpoint.
func (c *Child) Result() *wire.Result { return c.res }

// State returns the process's exit state when it exited during this job.
// Call it after Done is closed. It is nil when the process lives on,
// waiting for another request (Exited reports false), and when something
// else in this process reaped the child.
func (c *Child) State() *os.ProcessState { return c.state }

// Exited reports whether the job's process exited during this job, as
// opposed to living on after reporting its result, waiting for another
// request. Call it after Done is closed.
func (c *Child) Exited() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitSeen
}

// Stderr returns the last bytes (up to 4 KiB) the job's process wrote to
// stderr, in this job or before. Once the job is done and its process has
// exited, it first waits (up to a second, in case a process that left the
// group still holds the pipe) for the stderr pipe to be read to its end,
// so that the last lines are in. While the process lives on, what it wrote
// just before its result may not be in yet.
func (c *Child) Stderr() []byte {
	p := c.p
	if isClosed(c.done) && isClosed(p.done) && !isClosed(p.errDone) {
		t := time.NewTimer(stderrWait)
		select {
		case <-p.errDone:
		case <-t.C:
		}
		t.Stop()
	}
	return p.stderr.bytes()
}

// stderrWait bounds how long Stderr waits for the end of a finished
// child's stderr.
const stderrWait = time.Second

// Signal sends sig to the process group of the job's process and, unless
// sig is SIGCONT, records that the dispatcher stopped the job. Once the
// process has been reaped, or handed on by Keep, it only records. A job
// that was sent any signal is not kept.
func (c *Child) Signal(sig syscall.Signal) {
	c.mu.Lock()
	if sig != syscall.SIGCONT {
		c.stoppedUs = true
	}
	c.signalled = true
	owns := !c.kept
	c.mu.Unlock()
	if owns {
		c.p.signal(sig)
	}
}

// StoppedByUs reports whether this process sent the job's group a signal
// (Signal) other than SIGCONT, as opposed to a signal from elsewhere. A
// cleanup child that suspends and kills a job it guards
// (wire.Request.GuardPGID) is elsewhere.
func (c *Child) StoppedByUs() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stoppedUs
}

// exited records that the process exited, and was reaped, with st while
// this job held it.
func (c *Child) exited(st *os.ProcessState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.doneClosed {
		return
	}
	c.state, c.exitSeen = st, true
	c.maybeDone()
}

// maybeDone closes done once the job is over. c.mu is held.
func (c *Child) maybeDone() {
	if !c.doneClosed && c.readDone && (c.livesOn || c.exitSeen) {
		c.doneClosed = true
		close(c.done)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
