//go:build linux

package proctab

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// LockHolders returns the pids that /proc/locks names as holding a lock on
// the file at path (an flock is listed under the process that took it,
// even when others share the descriptor).
func LockHolders(path string) ([]int, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nil, err
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dev := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	return parseLocks(f, dev)
}

// parseLocks returns the pids of the granted locks on dev ("MAJ:MIN:INODE",
// as /proc/locks writes it) in r. Waiters ("->" lines) are left out.
func parseLocks(r io.Reader, dev string) ([]int, error) {
	var pids []int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// 1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF
		if len(f) < 6 || f[1] == "->" || f[5] != dev {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil {
			continue
		}
		pids = append(pids, pid)
	}
	return pids, sc.Err()
}

// FileHolders returns the processes that have the file at path open, found
// from their /proc/PID/fd links.
func FileHolders(path string) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		fdDir := "/proc/" + n + "/fd"
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(fdDir + "/" + fd.Name()); err == nil && target == path {
				pids = append(pids, pid)
				break
			}
		}
	}
	sort.Ints(pids)
	return pids
}
