package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Stat is what the process table says of one process.
type Stat struct {
	// State is the state letter: R running, S sleeping, D in disk sleep,
	// T stopped, t traced, Z zombie, X dead.
	State byte
	PPID  int
	PGID  int
	// Start is the time the process started, in clock ticks after boot;
	// with the pid it identifies a process across pid reuse.
	Start uint64
	// UTime and STime are the process's CPU time in user and kernel mode,
	// CUTime and CSTime that of the children it waited for, in clock
	// ticks (USER_HZ).
	UTime, STime, CUTime, CSTime int64
}

// ReadStat reads /proc/<pid>/stat.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return parseStat(b)
}

// parseStat parses the fields after the command name, which may itself
// hold spaces and parentheses.
func parseStat(b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, errors.New("proc: malformed stat")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime is field 14, starttime field 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, errors.New("proc: malformed stat")
	}
	st := Stat{State: f[0][0]}
	var errs [7]error
	st.PPID, errs[0] = strconv.Atoi(string(f[1]))
	st.PGID, errs[1] = strconv.Atoi(string(f[2]))
	st.Start, errs[2] = strconv.ParseUint(string(f[19]), 10, 64)
	for k, t := range []*int64{&st.UTime, &st.STime, &st.CUTime, &st.CSTime} {
		*t, errs[3+k] = strconv.ParseInt(string(f[11+k]), 10, 64)
	}
	if err := errors.Join(errs[:]...); err != nil {
		return Stat{}, fmt.Errorf("proc: malformed stat: %w", err)
	}
	return st, nil
}

// AwaitStop waits until process pid is stopped, dead or gone, polling the
// process table for at most within. A stop signal is delivered
// asynchronously; this lets the sender know it took effect.
func AwaitStop(pid int, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		st, err := ReadStat(pid)
		if err != nil {
			return
		}
		switch st.State {
		case 'T', 't', 'Z', 'X':
			return
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
