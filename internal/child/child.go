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
// The child side (Serve) is the whole life of the re-executed process:
// the handshake, the handling of its parent's death, the job (which may
// record checkpoints: Checkpoint), the killing of everything the job left
// behind, and the report.
//
// Nothing a job starts may outlive the dispatcher. Several mechanisms
// cover each other's gaps:
//   - each child leads a process group of its own, and every signal the
//     dispatcher sends goes to the whole group;
//   - on Linux the kernel sends a child proc.DeathSignal when the thread
//     that started it ends; the child handles it, from before it reads its
//     request, by killing its whole group (and, as a cleanup's guardian,
//     the job's group first);
//   - the request pipe is the child's lifeline: its end of file means the
//     parent died, with the same consequence;
//   - a child is a child subreaper, and before it reports kills and reaps
//     every descendant the job left;
//   - when a child exits, its parent kills its process group before it
//     reaps it (the group's id cannot be reused until then);
//   - a suspended job is suspended by the child that runs its cleanup,
//     which is armed to kill it should the dispatcher die.
package child

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
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

// Child is one child process as its parent sees it. Its methods are safe
// for concurrent use.
type Child struct {
	pid int

	done    chan struct{} // closed once the child was reaped and its result read
	pending atomic.Int32  // of the reaping and the result read; the last closes done
	state   *os.ProcessState
	res     *wire.Result // nil when the child reported nothing
	ckptMu  sync.Mutex
	ckpt    checkpoint // the last checkpoint kept
	frozen  bool       // no more checkpoints are kept

	reqW    *os.File       // request pipe, held open as the child's lifeline
	writes  sync.WaitGroup // request writes in flight
	errR    *os.File
	errDone chan struct{} // closed when the stderr pipe reached its end
	stderr  tail

	pidKey  string                     // the log field of the pid
	lineLog atomic.Pointer[zap.Logger] // tags stderr lines; nil: copy them raw
	warnLog atomic.Pointer[zap.Logger] // never nil

	mu        sync.Mutex
	started   time.Time
	stoppedUs bool // the dispatcher stopped the child
	reaped    bool // the leader was waited for: its group id may be reused

	releaseOnce sync.Once
}

// PID returns the child's pid, which is also its process group's id.
func (c *Child) PID() int { return c.pid }

// Started returns when the child was started, or when it was handed its
// request if it waited as a spare.
func (c *Child) Started() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

// Done returns a channel that is closed once the child has exited, its
// process group has been killed, it has been reaped and its result read.
func (c *Child) Done() <-chan struct{} { return c.done }

// Result returns what the child reported, or nil when it reported nothing.
// Call it after Done is closed. Checkpoints are not results: see
// Checkpoint.
func (c *Child) Result() *wire.Result { return c.res }

// State returns the child's exit state. Call it after Done is closed. It
// is nil only when something else in this process reaped the child.
func (c *Child) State() *os.ProcessState { return c.state }

// Stderr returns the last bytes (up to 4 KiB) the child wrote to stderr.
// Once the child is done, it first waits (up to a second, in case a
// process that left the group still holds the pipe) for the stderr pipe
// to be read to its end, so that the last lines are in.
func (c *Child) Stderr() []byte {
	if isClosed(c.done) && !isClosed(c.errDone) {
		t := time.NewTimer(stderrWait)
		select {
		case <-c.errDone:
		case <-t.C:
		}
		t.Stop()
	}
	return c.stderr.bytes()
}

// stderrWait bounds how long Stderr waits for the end of a finished
// child's stderr.
const stderrWait = time.Second

// Signal sends sig to the child's whole process group and, unless sig is
// SIGCONT, records that the dispatcher stopped the child. Once the child
// has been reaped it only records.
func (c *Child) Signal(sig syscall.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sig != syscall.SIGCONT {
		c.stoppedUs = true
	}
	if !c.reaped {
		_ = signalGroup(c.pid, sig)
	}
}

// StoppedByUs reports whether this process sent the child's group a
// signal (Signal) other than SIGCONT, as opposed to a signal from
// elsewhere. A cleanup child that suspends and kills a job it guards
// (wire.Request.GuardPGID) is elsewhere.
func (c *Child) StoppedByUs() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stoppedUs
}

func (c *Child) warn(msg string, err error) {
	c.warnLog.Load().Warn(msg, zap.Error(err))
}

// partDone marks the reaping or the result read as finished; the second
// one closes done.
func (c *Child) partDone() {
	if c.pending.Add(-1) == 0 {
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
