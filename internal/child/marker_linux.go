package child

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// jobReturned reports whether the job of the child pid (suspended, or
// gone) had returned: its marker descriptor is closed, or the process is
// gone altogether. When /proc cannot tell, the job is taken as running, so
// that its cleanup runs.
func jobReturned(pid int) bool {
	_, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(markerFD))
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, err = os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil || errors.Is(err, fs.ErrNotExist)
}
