// Package proctab reads the Linux process table from /proc: a process's
// identity (pid and start time, which together never repeat), parent,
// state, name, environment and command line, and who holds a file's flock.
package proctab
