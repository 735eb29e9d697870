//go:build linux

package proctab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrGone is returned for a process that no longer exists.
var ErrGone = errors.New("proctab: no such process")

// Stat reads /proc/PID/stat.
func Stat(pid int) (Proc, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return Proc{}, fmt.Errorf("%w: %d", ErrGone, pid)
		}
		return Proc{}, err
	}
	return parseStat(pid, b)
}

// parseStat parses "pid (comm) S ppid ... starttime ...". The command name
// may hold spaces and parentheses, so the fields after it are found from
// the last ')'.
func parseStat(pid int, b []byte) (Proc, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Proc{}, fmt.Errorf("proctab: malformed stat of %d", pid)
	}
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return Proc{}, fmt.Errorf("proctab: short stat of %d", pid)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return Proc{}, fmt.Errorf("proctab: ppid of %d: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return Proc{}, fmt.Errorf("proctab: start time of %d: %w", pid, err)
	}
	return Proc{ID: ID{PID: pid, Start: start}, PPID: ppid, State: f[0][0], Comm: string(b[open+1 : end])}, nil
}

// Identify returns the identity of the process with this pid now.
func Identify(pid int) (ID, error) {
	p, err := Stat(pid)
	return p.ID, err
}

// List returns every process, sorted by pid. Processes that exit while the
// table is read are left out.
func List() ([]Proc, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	procs := make([]Proc, 0, len(names))
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		p, err := Stat(pid)
		if err != nil {
			continue
		}
		procs = append(procs, p)
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].PID < procs[j].PID })
	return procs, nil
}

// HasEnv reports whether the process's environment holds the entry kv
// ("NAME=value"). A zombie has no environment left to read.
func HasEnv(pid int, kv string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, e := range bytes.Split(b, []byte{0}) {
		if string(e) == kv {
			return true
		}
	}
	return false
}

// Cmdline returns the process's arguments joined by spaces, or "" for a
// zombie or a process that is gone.
func Cmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}
