//go:build linux

package chaos

import (
	"context"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

// sweepEvery is how often the reaper looks for adopted processes.
const sweepEvery = 100 * time.Millisecond

// reaper reaps the processes the driver adopts as a child subreaper
// (orphans of the dispatchers' process trees), and remembers every
// process it saw carrying the run's marker, so that a zombie found at the
// end can be told to belong to the run although a zombie's environment
// can no longer be read.
type reaper struct {
	self   int
	marker string
	fleet  *fleet

	mu      sync.Mutex
	checked map[proctab.ID]bool // identities whose environment was read
	marked  map[proctab.ID]bool // those that carried the marker
	adopted map[proctab.ID]bool
	reaped  int
}

func newReaper(marker string, f *fleet) *reaper {
	return &reaper{self: os.Getpid(), marker: marker, fleet: f,
		checked: map[proctab.ID]bool{}, marked: map[proctab.ID]bool{}, adopted: map[proctab.ID]bool{}}
}

// run sweeps until ctx ends.
func (r *reaper) run(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		r.sweep()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep reads the process table once: it notes marked processes and reaps
// adopted zombies.
func (r *reaper) sweep() {
	// The table is read under the fleet's lock, so that no process the
	// fleet starts or reaps changes hands while it is read.
	r.fleet.mu.Lock()
	procs, err := proctab.List()
	if err != nil {
		r.fleet.mu.Unlock()
		return
	}
	r.reapAdopted(procs)
	r.fleet.mu.Unlock()
	r.note(procs)
}

// reapAdopted reaps the zombies among the adopted processes. The caller
// holds the fleet's lock.
func (r *reaper) reapAdopted(procs []proctab.Proc) {
	for _, p := range procs {
		if p.PPID != r.self || r.fleet.isStarted(p.PID) {
			continue
		}
		r.mu.Lock()
		r.adopted[p.ID] = true
		r.mu.Unlock()
		if p.Zombie() {
			var ws unix.WaitStatus
			if pid, err := unix.Wait4(p.PID, &ws, unix.WNOHANG, nil); err == nil && pid == p.PID {
				r.mu.Lock()
				r.reaped++
				r.mu.Unlock()
			}
		}
	}
}

// note reads the environment of every live process not seen before.
func (r *reaper) note(procs []proctab.Proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range procs {
		if p.Zombie() || r.checked[p.ID] {
			continue
		}
		r.checked[p.ID] = true
		if proctab.HasEnv(p.PID, r.marker) {
			r.marked[p.ID] = true
		}
	}
}

// marked reports whether p carries the run's marker, or carried it when
// it was last seen alive.
func (r *reaper) isMarked(p proctab.Proc) bool {
	if !p.Zombie() && proctab.HasEnv(p.PID, r.marker) {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.marked[p.ID]
}

// leftovers returns the run's processes that are alive, and the zombies
// that belong to it: marked ones, children of marked ones, and adopted
// ones the reaper has not reaped yet.
func (r *reaper) leftovers() []Leftover {
	procs, err := proctab.List()
	if err != nil {
		return nil
	}
	r.note(procs)
	byPID := make(map[int]proctab.Proc, len(procs))
	for _, p := range procs {
		byPID[p.PID] = p
	}
	var out []Leftover
	for _, p := range procs {
		if p.PID == r.self {
			continue
		}
		belongs := r.isMarked(p)
		if !belongs && p.Zombie() {
			parent, ok := byPID[p.PPID]
			r.fleet.mu.Lock()
			adopted := p.PPID == r.self && !r.fleet.isStarted(p.PID)
			r.fleet.mu.Unlock()
			belongs = adopted || (ok && r.isMarked(parent))
		}
		if belongs {
			out = append(out, Leftover{Proc: p, Cmdline: proctab.Cmdline(p.PID)})
		}
	}
	return out
}

// counts returns how many processes were adopted and how many reaped.
func (r *reaper) counts() (adopted, reaped int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.adopted), r.reaped
}
