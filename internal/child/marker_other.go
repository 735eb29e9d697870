//go:build !linux

package child

import "syscall"

// jobReturned cannot look into another process here: the job is taken as
// running, so that its cleanup runs.
func jobReturned(int) bool { return false }

// marker is the child's marker descriptor, which nothing reads on this
// platform: it is closed when the first job returns, as a sign for those
// who look.
type marker struct{ open bool }

func newMarker() *marker { return &marker{open: true} }

// lasts is true: nothing reads the marker here.
func (m *marker) lasts() bool { return true }

func (m *marker) jobRuns() {}

func (m *marker) jobDone() {
	if m.open {
		m.open = false
		_ = syscall.Close(markerFD)
	}
}
