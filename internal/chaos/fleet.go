//go:build linux

package chaos

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

// restartDelay is how long an exited dispatcher's slot stays empty, as a
// supervisor's back-off would leave it.
const restartDelay = 200 * time.Millisecond

// logTailBytes is how much of an unexpectedly ended dispatcher's log the
// report shows.
const logTailBytes = 1500

// session is how a dispatcher is started relative to the driver.
type session int

const (
	ownSession  session = iota // setsid: a session and group of its own
	ownGroup                   // a group of its own in the driver's session
	driverGroup                // the driver's own group and session
)

func (s session) String() string {
	return [...]string{"own session", "own group", "driver's group"}[s]
}

// slotSetup is how the dispatchers of one slot run: the slots differ so
// that every way of starting the service is exercised at once.
type slotSetup struct {
	session  session
	prespawn bool
	grace    time.Duration
	reuse    bool // its children run up to the fleet's reuse jobs each
}

// setupOf is the setup of slot; with children reused (reuse > 0), the
// even slots reuse them, in their own session and in the driver's group.
func setupOf(slot, reuse int) slotSetup {
	s := slotSetup{session: session(slot % 3), prespawn: slot%2 == 1, reuse: reuse > 0 && slot%2 == 0}
	if slot%4 >= 2 {
		s.grace = time.Second
	}
	return s
}

func (s slotSetup) String() string {
	return fmt.Sprintf("%s, prespawn %t, shutdown grace %s, reused children %t", s.session, s.prespawn, s.grace, s.reuse)
}

// dispatcher is one started dispatcher process.
type dispatcher struct {
	slot, gen int
	cmd       *exec.Cmd
	id        proctab.ID
	logPath   string
	done      chan struct{} // closed once reaped
	exitedAt  time.Time     // set before done closes

	// Written by the one goroutine that sends signals; read after done.
	signals    []string
	killed     bool
	stopSent   bool
	notStopped bool // had to be killed after the final SIGTERM
}

func (d *dispatcher) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// signal sends sig and records it; it reports whether the process was
// still there to get it.
func (d *dispatcher) signal(sig syscall.Signal) bool {
	if err := d.cmd.Process.Signal(sig); err != nil {
		return false
	}
	d.signals = append(d.signals, sigName(sig))
	switch sig {
	case syscall.SIGKILL:
		d.killed = true
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP:
		d.stopSent = true
	}
	return true
}

// fate says how the dispatcher ended. Call it once done is closed.
func (d *dispatcher) fate() DispatcherFate {
	f := DispatcherFate{ID: d.id, Slot: d.slot, Generation: d.gen, Killed: d.killed, Signals: d.signals, LogPath: d.logPath}
	st := d.cmd.ProcessState
	f.Exit = st.String()
	ws, _ := st.Sys().(syscall.WaitStatus)
	sent := map[string]bool{}
	for _, s := range d.signals {
		sent[s] = true
	}
	switch {
	case d.notStopped:
		f.Exit = "did not exit after the final SIGTERM; killed"
		f.Unexpected = true
	case ws.Signaled() && sent[sigName(ws.Signal())]:
	case ws.Exited() && ws.ExitStatus() > 128 && sent[sigName(syscall.Signal(ws.ExitStatus()-128))]:
	default:
		f.Unexpected = true
	}
	if f.Unexpected {
		f.LogTail = tailOf(d.logPath, logTailBytes)
	}
	return f
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGSTOP:
		return "SIGSTOP"
	case syscall.SIGCONT:
		return "SIGCONT"
	}
	return "signal " + strconv.Itoa(int(s))
}

func tailOf(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// fleet starts the dispatchers, one per slot, and restarts them when told.
// Its mutex also guards the set of processes the driver started itself,
// which the reaper must leave to their own Wait.
type fleet struct {
	bin    string
	args   []string // common flags; per-slot flags are added
	reuse  int      // the jobs per reused child of the slots that reuse them
	env    []string
	logDir string

	mu      sync.Mutex
	started map[int]bool // pids started here and not yet reaped by Wait
	current []*dispatcher
	all     []*dispatcher
	changed chan struct{} // a dispatcher exited
	wg      sync.WaitGroup
}

func newFleet(bin string, args, env []string, logDir string, slots int) *fleet {
	return &fleet{bin: bin, args: args, env: env, logDir: logDir, started: map[int]bool{},
		current: make([]*dispatcher, slots), changed: make(chan struct{}, 1)}
}

// markStarted records a process started elsewhere in the driver (the SQS
// server) so that the reaper leaves it alone.
func (f *fleet) markStarted(pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started[pid] = true
}

// isStarted reports whether pid was started by the driver. The caller
// holds f.mu.
func (f *fleet) isStarted(pid int) bool { return f.started[pid] }

// start starts the dispatcher of slot.
func (f *fleet) start(slot int) (*dispatcher, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gen := 1
	if prev := f.current[slot]; prev != nil {
		gen = prev.gen + 1
	}
	setup := setupOf(slot, f.reuse)
	logPath := filepath.Join(f.logDir, fmt.Sprintf("dispatcher-%d-%03d.log", slot, gen))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer logf.Close() // the child has its own copy
	args := append([]string(nil), f.args...)
	args = append(args, "-shutdown-grace", setup.grace.String())
	if setup.reuse {
		args = append(args, "-reuse", fmt.Sprint(f.reuse))
	}
	if setup.prespawn {
		args = append(args, "-prespawn")
	}
	cmd := exec.Command(f.bin, args...)
	cmd.Env = f.env
	cmd.Stdout, cmd.Stderr = logf, logf
	switch setup.session {
	case ownSession:
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	case ownGroup:
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chaos: starting dispatcher: %w", err)
	}
	pid := cmd.Process.Pid
	id, err := proctab.Identify(pid) // not reaped yet: readable even if it died
	if err != nil {
		id = proctab.ID{PID: pid}
	}
	d := &dispatcher{slot: slot, gen: gen, cmd: cmd, id: id, logPath: logPath, done: make(chan struct{})}
	f.started[pid] = true
	f.current[slot] = d
	f.all = append(f.all, d)
	f.wg.Add(1)
	go f.wait(d)
	return d, nil
}

func (f *fleet) wait(d *dispatcher) {
	defer f.wg.Done()
	_ = d.cmd.Wait()
	f.mu.Lock()
	delete(f.started, d.cmd.Process.Pid)
	d.exitedAt = time.Now()
	f.mu.Unlock()
	close(d.done)
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// restartDue starts a new dispatcher in every slot whose dispatcher exited
// at least restartDelay ago. It returns how many it started and when the
// next restart falls due (zero if none is pending).
func (f *fleet) restartDue(now time.Time) (int, time.Time, error) {
	var due []int
	var next time.Time
	f.mu.Lock()
	for slot, d := range f.current {
		if d == nil || !d.exited() {
			continue
		}
		at := d.exitedAt.Add(restartDelay)
		if !now.Before(at) {
			due = append(due, slot)
		} else if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	f.mu.Unlock()
	for _, slot := range due {
		if _, err := f.start(slot); err != nil {
			return 0, next, err
		}
	}
	return len(due), next, nil
}

// running returns the dispatchers alive and not yet sent SIGKILL; with
// unstopped set, only those not yet sent a stop signal either.
func (f *fleet) running(unstopped bool) []*dispatcher {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*dispatcher
	for _, d := range f.current {
		if d != nil && !d.exited() && !d.killed && !(unstopped && d.stopSent) {
			out = append(out, d)
		}
	}
	return out
}

// pids returns the pids of the current dispatchers that are not reaped.
func (f *fleet) pids() map[int]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]bool{}
	for _, d := range f.current {
		if d != nil && !d.exited() {
			out[d.cmd.Process.Pid] = true
		}
	}
	return out
}

// stopAll sends SIGTERM to every current dispatcher and waits until
// deadline for all of them to exit; those still running then are killed
// and marked as not stopped. It returns how many had to be killed.
func (f *fleet) stopAll(deadline time.Time) int {
	f.mu.Lock()
	cur := append([]*dispatcher(nil), f.current...)
	f.mu.Unlock()
	for _, d := range cur {
		if d != nil && !d.exited() {
			d.signal(syscall.SIGTERM)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	killed := 0
	for _, d := range cur {
		if d == nil {
			continue
		}
		select {
		case <-d.done:
		case <-ctx.Done():
		}
		if !d.exited() {
			d.notStopped = true
			d.signal(syscall.SIGKILL)
			<-d.done
			killed++
		}
	}
	return killed
}

// fates returns how every dispatcher ended; call it after stopAll.
func (f *fleet) fates() []DispatcherFate {
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]DispatcherFate, 0, len(f.all))
	for _, d := range f.all {
		out = append(out, d.fate())
	}
	return out
}

// logs returns the log files of every dispatcher started.
func (f *fleet) logs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.all))
	for _, d := range f.all {
		out = append(out, d.logPath)
	}
	return out
}
