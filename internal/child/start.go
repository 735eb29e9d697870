package child

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// envStartProcs tells a child that the parent set GOMAXPROCS=1 only for
// its start-up, and that it must restore the default before the job runs.
const envStartProcs = "SQSDISPATCH_START_PROCS"

// Spawn starts a child and sends it req, its stderr lines tagged by
// opts.Log, and returns the handle of that job.
func Spawn(req wire.Request, opts Options) (*Child, error) {
	c, err := Start(opts)
	if err != nil {
		return nil, err
	}
	c.Send(req, opts.Log)
	return c, nil
}

// Start starts a child that waits for its request (Send), and returns
// the handle of its first job. The child runs this binary with this
// process's arguments and environment, plus the marker that makes it a
// child; it leads a process group of its own. On Linux it is started from
// an OS thread that stays locked until the child is reaped, since the
// kernel sends it proc.DeathSignal when that thread ends.
func Start(opts Options) (*Child, error) {
	if IsChild() {
		return nil, ErrInChild
	}
	exe, err := proc.ExePath()
	if err != nil {
		return nil, fmt.Errorf("sqsdispatch: start child: %w", err)
	}
	var files [6]*os.File // request, result and stderr pipes: read, write
	for i := 0; i < len(files); i += 2 {
		if files[i], files[i+1], err = os.Pipe(); err != nil {
			closeAll(files[:i]...)
			return nil, fmt.Errorf("sqsdispatch: start child: %w", err)
		}
	}
	reqR, reqW, resR, resW, errR, errW := files[0], files[1], files[2], files[3], files[4], files[5]
	marker, err := devNull()
	if err != nil {
		closeAll(files[:]...)
		return nil, fmt.Errorf("sqsdispatch: start child: %w", err)
	}
	args := append([]string(nil), os.Args...)
	if len(args) == 0 {
		args = []string{exe}
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        args,
		Env:         childEnv(),
		Stdout:      os.Stdout,
		Stderr:      errW,
		ExtraFiles:  []*os.File{reqR, resW, marker},
		SysProcAttr: proc.SysProcAttr(),
	}
	p := &Process{done: make(chan struct{}), reqW: reqW, resR: resR, errR: errR, errDone: make(chan struct{}),
		stderr: tail{max: stderrTailBytes}, started: time.Now(), pidKey: cmp.Or(opts.PIDKey, "pid")}
	c := newChild(p)
	c.started = p.started
	p.cur = c
	started := make(chan error, 1)
	go p.run(cmd, started)
	err = <-started
	closeAll(reqR, resW, errW)
	if err != nil {
		closeAll(reqW, resR, errR)
		return nil, fmt.Errorf("sqsdispatch: start child: %w", err)
	}
	p.pid = cmd.Process.Pid
	p.setLog(opts.Log)
	p.readers.Add(1)
	go c.readResult()
	go p.forwardStderr()
	return c, nil
}

// run starts the child and waits for it on a locked OS thread. Once the
// child has exited, and before it is reaped, its process group is killed:
// the group's id cannot be reused while the leader is unreaped, and
// nothing the job started may run on after it (a leader killed by the OOM
// killer would otherwise leave its processes running through the cleanup).
// The job that holds the process then ends.
func (p *Process) run(cmd *exec.Cmd, started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := startTracked(cmd); err != nil {
		started <- err
		return
	}
	started <- nil
	pid := cmd.Process.Pid
	var job *Child
	reaped := func() { // p.mu is held
		p.reaped, p.state = true, cmd.ProcessState
		job, p.cur = p.cur, nil
	}
	waited, err := proc.WaitExited(pid)
	if waited {
		if err == nil {
			_ = signalGroup(pid, syscall.SIGKILL)
		}
		p.mu.Lock() // the leader exited: reaping it is immediate
		_ = cmd.Wait()
		reaped()
		p.mu.Unlock()
	} else {
		_ = cmd.Wait()
		p.mu.Lock()
		reaped()
		p.mu.Unlock()
		_ = signalGroup(pid, syscall.SIGKILL) // at once, before the id can be reused
	}
	untrack(pid)
	close(p.done)
	if job != nil {
		job.exited(cmd.ProcessState)
	}
}

// childEnv is the parent's environment plus the child marker. Unless the
// user set GOMAXPROCS, a child starts with one P, which makes the runtime's
// and the packages' initialisation cheaper, and restores the default
// (container-aware) setting before the job runs.
func childEnv() []string {
	env := append(os.Environ(), wire.EnvChild+"="+strconv.Itoa(wire.Version))
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		env = append(env, "GOMAXPROCS=1", envStartProcs+"=1")
	}
	return env
}

// signalGroup sends sig to process group pgid, which must not have been
// reaped yet.
func signalGroup(pgid int, sig syscall.Signal) error { return proc.SignalGroup(pgid, sig) }

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}
