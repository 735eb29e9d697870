//go:build linux

package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

// ErrHeld is returned by Lock when another process holds the lock.
var ErrHeld = errors.New("ledger: lock held by another process")

// Ledger is a ledger directory: the ledger file and one lock file per
// message key.
type Ledger struct{ dir string }

// Open returns the ledger in dir, creating its directories.
func Open(dir string) (*Ledger, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "locks"), 0o755); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return &Ledger{dir: dir}, nil
}

// Path is the ledger file.
func (l *Ledger) Path() string { return filepath.Join(l.dir, "ledger.jsonl") }

// Append writes r with one write to the ledger file opened with O_APPEND,
// stamping it with CLOCK_MONOTONIC.
func (l *Ledger) Append(r Record) error {
	r.Mono = Now()
	f, err := os.OpenFile(l.Path(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	_, werr := f.Write(r.Encode())
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("ledger: %w", werr)
	}
	return cerr
}

// Lock takes a non-blocking exclusive flock on key's lock file and returns
// the open file: the lock lasts until every process holding the
// descriptor (children it was passed to included) has closed it or died.
// When another process holds it, Lock returns ErrHeld wrapped with a
// description of the holders.
func (l *Ledger) Lock(key string) (*os.File, error) {
	path := filepath.Join(l.dir, "locks", key)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrHeld, describeHolders(path))
		}
		return nil, fmt.Errorf("ledger: flock %s: %w", path, err)
	}
	return f, nil
}

// describeHolders names the processes holding path's lock, as well as
// /proc can tell.
func describeHolders(path string) string {
	owners, err := proctab.LockHolders(path)
	if err != nil {
		return "lock owner unknown: " + err.Error()
	}
	var parts []string
	for _, pid := range proctab.FileHolders(path) {
		p, err := proctab.Stat(pid)
		if err != nil {
			parts = append(parts, fmt.Sprintf("pid %d (gone)", pid))
			continue
		}
		parts = append(parts, fmt.Sprintf("pid %d %s state %c ppid %d %q", pid, p.Comm, p.State, p.PPID, proctab.Cmdline(pid)))
	}
	return fmt.Sprintf("lock taken by pid %v, open in: %s", owners, strings.Join(parts, "; "))
}

// Now is CLOCK_MONOTONIC in nanoseconds: the same clock in every process.
func Now() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
