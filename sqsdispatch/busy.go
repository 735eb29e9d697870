package sqsdispatch

import (
	"context"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/busy"
)

// BusyHook is told when the dispatcher goes from idle (holding no message)
// to busy and back, so that the platform can protect the process from
// scale-in while it works: ECS task scale-in protection (package
// ecsprotect is ready-made), or whatever a Kubernetes controller or a
// supervisor watches. A message counts from its receive until its fate is
// settled: deleted, given back, continued or dead-lettered.
type BusyHook interface {
	// SetBusy is called with true when the dispatcher takes its first
	// message after being idle, again every RenewEvery while it stays
	// busy, and with false when it holds no message any more and, unless
	// it was last told false, when Run returns. Calls are made one at a
	// time, from a goroutine of the dispatcher's own, and each says the
	// state of its moment: changes made while a call is in flight lead to
	// one more call at most. They never delay a job or a receive. An
	// error is logged and the call made again, for the state of that
	// moment, after a second, doubling up to 30 s while it keeps failing;
	// it never stops the dispatcher. SetBusy must return when ctx ends:
	// a call is given 10 s, the one made as Run returns 5 s.
	SetBusy(ctx context.Context, busy bool) error
	// RenewEvery is how often SetBusy(true) is repeated while the
	// dispatcher stays busy, counted from the last call that succeeded;
	// 0 means never. It is read once, when the dispatcher is made.
	RenewEvery() time.Duration
}

// A BusyHook is what the dispatcher's tracker calls.
var _ busy.Hook = BusyHook(nil)
