package child

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// jobReturned reports whether the job of the child pid (suspended, or
// gone) had returned: its marker descriptor is no longer the parent's
// file (it is closed, or a pipe: see marker), or the process is gone
// altogether. When /proc cannot tell, the job is taken as running, so
// that its cleanup runs.
func jobReturned(pid int) bool {
	target, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(markerFD))
	switch {
	case err == nil:
		return strings.HasPrefix(target, "pipe:")
	case !errors.Is(err, fs.ErrNotExist):
		return false
	}
	_, err = os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil || errors.Is(err, fs.ErrNotExist)
}

// marker sets the child's marker descriptor for a guardian to read
// (jobReturned). While a job runs it is the file the parent gave (a run
// job's start sets it back); once the job has returned it is the read end
// of an empty pipe. Each change replaces the descriptor at once (dup3), so
// that markerFD is never free for another file to take between jobs.
type marker struct {
	running  int  // a copy of the parent's file; -1: none
	returned int  // the read end of a pipe; -1: none
	open     bool // markerFD holds the parent's file
}

// newMarker keeps what marker needs. Without it (markerFD was not
// given, or descriptors ran out) the marker is closed when the first job
// returns, and not set back.
func newMarker() *marker {
	m := &marker{running: -1, returned: -1}
	fd, err := unix.FcntlInt(uintptr(markerFD), unix.F_DUPFD_CLOEXEC, markerFD+1)
	if err != nil {
		return m // markerFD is not open
	}
	m.open = true
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		_ = unix.Close(fd)
		return m
	}
	_ = unix.Close(p[1])
	m.running, m.returned = fd, p[0]
	return m
}

// lasts reports whether the marker can be set for a next job.
func (m *marker) lasts() bool { return m.running >= 0 }

// jobRuns sets the marker for a job that starts.
func (m *marker) jobRuns() {
	if m.open || m.running < 0 {
		return
	}
	m.open = unix.Dup3(m.running, markerFD, unix.O_CLOEXEC) == nil
}

// jobDone sets the marker for a job that returned.
func (m *marker) jobDone() {
	if !m.open {
		return
	}
	m.open = false
	if m.returned >= 0 && unix.Dup3(m.returned, markerFD, unix.O_CLOEXEC) == nil {
		return
	}
	_ = unix.Close(markerFD)
	m.running = -1 // markerFD is free: setting it back could take another file's place
}
