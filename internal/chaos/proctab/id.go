package proctab

import "fmt"

// ID names one process for good: a pid may be reused, a pid with its start
// time (in clock ticks since boot) is not.
type ID struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// String returns "pid@start".
func (id ID) String() string { return fmt.Sprintf("%d@%d", id.PID, id.Start) }

// Proc is one entry of the process table.
type Proc struct {
	ID
	PPID int
	// State is the one-letter state of /proc/PID/stat: R, S, D, T (stopped),
	// t, Z (zombie), X, I.
	State byte
	Comm  string
}

// Zombie reports whether the process has exited and waits to be reaped.
func (p Proc) Zombie() bool { return p.State == 'Z' || p.State == 'X' }
