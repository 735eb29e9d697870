package sqsdispatch

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Exit ends the process the way Run's result says, so that a supervisor
// sees the true cause: for a *StoppedError naming a signal it re-raises
// that signal with its default disposition (the process dies by it, as it
// would have without a handler); for a *StoppedError caused by the context
// (no signal) and for nil it exits 0; for any other error, ErrRetired
// included, it prints the error to stderr and exits 1. Call it last in
// main:
//
//	sqsdispatch.Exit(d.Run(ctx))
func Exit(err error) {
	var se *StoppedError
	if errors.As(err, &se) {
		if s, ok := se.Signal.(syscall.Signal); ok {
			raiseDefault(s)
			// The signal was ignored when the process started (nohup, for
			// one): exit with the shell's convention for death by signal.
			os.Exit(128 + int(s))
		}
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// raiseWait bounds how long Exit waits for a re-raised signal to land.
const raiseWait = time.Second
