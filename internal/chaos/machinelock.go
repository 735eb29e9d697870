//go:build linux

package chaos

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lockRetry is how often a run waiting for another one to finish tries
// the machine lock again.
const lockRetry = 250 * time.Millisecond

// lockMachine makes chaos runs on one machine take turns (two at once
// would share two cores and each look slower than it is). It returns the
// function that releases the lock.
func lockMachine(ctx context.Context, out io.Writer) (func(), error) {
	path := filepath.Join(os.TempDir(), "sqsdispatch-chaos.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	t := time.NewTicker(lockRetry)
	defer t.Stop()
	for said := false; ; said = true {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if err != unix.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("chaos: locking %s: %w", path, err)
		}
		if !said {
			fmt.Fprintf(out, "chaos: another chaos run holds %s; waiting for it\n", path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
