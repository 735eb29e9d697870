package sqsdispatch

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// child is one running child process as its parent sees it.
type child struct {
	pid     int
	started time.Time

	done    chan struct{} // closed once the child was waited for and its result read
	pending atomic.Int32  // of the wait and the result read; the last closes done
	state   *os.ProcessState
	res     *wire.Result // nil when the child reported nothing

	reqW    *os.File // request pipe, held open as the child's lifeline
	errR    *os.File
	errDone chan struct{} // closed when the stderr pipe reached its end
	stderr  tail

	releaseOnce sync.Once

	sigMu    sync.Mutex
	signaled bool // the dispatcher sent a stopping signal to the group

	log atomic.Pointer[zap.Logger] // tags the child's stderr lines
}

const (
	stderrTailBytes = 4 << 10
	stderrLineBytes = 4 << 10
	reapWithin      = 2 * time.Second
)

// spawn starts a child and sends it req.
func spawn(req wire.Request, log *zap.Logger) (*child, error) {
	c, err := startChild(log)
	if err != nil {
		return nil, err
	}
	c.send(req, log)
	return c, nil
}

// startChild starts a child that waits for its request. The child is in
// its own process group and has Pdeathsig set from an OS thread that stays
// locked until the child is waited for.
func startChild(log *zap.Logger) (*child, error) {
	exe, err := proc.ExePath()
	if err != nil {
		return nil, err
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		closeAll(reqR, reqW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(reqR, reqW, resR, resW)
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        []string{os.Args[0]},
		Env:         childEnv(),
		Stdout:      os.Stdout,
		Stderr:      errW,
		ExtraFiles:  []*os.File{reqR, resW},
		SysProcAttr: proc.SysProcAttr(),
	}
	c := &child{done: make(chan struct{}), reqW: reqW, errR: errR, errDone: make(chan struct{}), stderr: tail{max: stderrTailBytes}}
	c.pending.Store(2)
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the child ends, so
		// this goroutine keeps its thread until the child is gone.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		c.state = cmd.ProcessState
		c.partDone()
	}()
	err = <-started
	closeAll(reqR, resW, errW)
	if err != nil {
		closeAll(reqW, resR, errR)
		return nil, err
	}
	c.pid, c.started = cmd.Process.Pid, time.Now()
	log = log.With(zap.Int("pid", c.pid))
	c.log.Store(log)

	go func() {
		defer c.partDone()
		defer resR.Close()
		var res wire.Result
		if err := wire.Read(resR, &res); err != nil {
			if !errors.Is(err, wire.ErrNoFrame) {
				log.Warn("reading child result", zap.Error(err))
			}
			return
		}
		c.res = &res
	}()
	go c.forwardStderr()
	return c, nil
}

// partDone marks the wait or the result read as finished; the second one
// closes done.
func (c *child) partDone() {
	if c.pending.Add(-1) == 0 {
		close(c.done)
	}
}

// send hands the child its request; log (tagged with the message) then
// receives the child's stderr lines. The write does not block the caller.
func (c *child) send(req wire.Request, log *zap.Logger) {
	log = log.With(zap.Int("pid", c.pid))
	c.log.Store(log)
	c.started = time.Now()
	frame, err := wire.Frame(req)
	if err != nil {
		log.Warn("encoding the request for the child", zap.Error(err))
		return
	}
	write := func() {
		if _, err := c.reqW.Write(frame); err != nil {
			log.Warn("sending request to child", zap.Error(err))
		}
	}
	if len(frame) <= inlineWrite {
		write()
	} else {
		go write()
	}
}

// inlineWrite is the largest request written from the caller's goroutine:
// a fresh pipe always takes this much (PIPE_BUF) without blocking.
const inlineWrite = 4096

// envStartProcs tells a child that the parent set GOMAXPROCS=1 only for
// its start-up, and that it must restore the default before the job runs.
const envStartProcs = "SQSDISPATCH_START_PROCS"

// childEnv is the parent's environment plus the child marker. Unless the
// user set GOMAXPROCS, a child starts with one P, which makes the runtime's
// and the packages' initialisation cheaper, and restores the default
// (container-aware) setting in Init before the job runs.
func childEnv() []string {
	env := append(os.Environ(), wire.EnvChild+"="+strconv.Itoa(wire.Version))
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		env = append(env, "GOMAXPROCS=1", envStartProcs+"=1")
	}
	return env
}

// forwardStderr logs each line the child writes to its stderr and keeps a
// tail of it for errors. Over-long lines are split.
func (c *child) forwardStderr() {
	defer close(c.errDone)
	r := bufio.NewReaderSize(c.errR, stderrLineBytes)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			c.stderr.write(line)
			c.log.Load().Info("child stderr", zap.ByteString("line", trimNewline(line)))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// signalGroup sends sig to the child's process group and records that the
// dispatcher, not someone else, is stopping it.
func (c *child) signalGroup(sig syscall.Signal) {
	c.sigMu.Lock()
	if sig != syscall.SIGCONT {
		c.signaled = true
	}
	c.sigMu.Unlock()
	_ = proc.SignalGroup(c.pid, sig)
}

func (c *child) stoppedByUs() bool {
	c.sigMu.Lock()
	defer c.sigMu.Unlock()
	return c.signaled
}

// release kills whatever is left of the child's process group, waits for
// the child and reaps its re-parented descendants, and closes the pipes.
// Calls after the first wait for the first to finish and do nothing else.
func (c *child) release() { c.releaseOnce.Do(c.releaseNow) }

func (c *child) releaseNow() {
	_ = proc.SignalGroup(c.pid, syscall.SIGKILL)
	<-c.done
	proc.ReapGroup(c.pid, reapWithin)
	_ = c.reqW.Close()
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

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
