package child

import (
	"os/exec"
	"sync"
)

// tracked holds the pids of the children this package started and has not
// reaped yet: ReapAdopted leaves them to their waiters. Starting a child
// holds start for reading, so that a scan (holding it for writing) never
// sees a child that exists but is not tracked yet.
var tracked = struct {
	start sync.RWMutex
	mu    sync.Mutex
	pids  map[int]struct{}
}{pids: make(map[int]struct{})}

func startTracked(cmd *exec.Cmd) error {
	tracked.start.RLock()
	defer tracked.start.RUnlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	tracked.mu.Lock()
	tracked.pids[cmd.Process.Pid] = struct{}{}
	tracked.mu.Unlock()
	return nil
}

func untrack(pid int) {
	tracked.mu.Lock()
	delete(tracked.pids, pid)
	tracked.mu.Unlock()
}

func isTracked(pid int) bool {
	tracked.mu.Lock()
	defer tracked.mu.Unlock()
	_, ok := tracked.pids[pid]
	return ok
}
