package stop

import (
	"os"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/clock"
)

// Config says what stops a Stopper and how long running jobs may go on
// afterwards. The zero value watches no signals, does not drain and uses
// the wall clock.
type Config struct {
	// Signals are the stop signals. Empty: none; the context and Request
	// still stop the Stopper.
	Signals []os.Signal
	// Drain is how long running jobs may go on after the first stop before
	// Interrupt closes. Zero or negative: Interrupt closes with Stopping.
	Drain time.Duration
	// OnSignal, if not nil, is called once for each stop signal received,
	// once Signal reports it and before the stop it makes (Stopping,
	// Interrupt, Hard) takes effect, on the Stopper's own goroutine. It
	// must return promptly and must not call Close.
	OnSignal func(os.Signal)
	// Clock times the drain. Defaults to clock.Real{}.
	Clock clock.Clock
}
