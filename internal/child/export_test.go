package child

import (
	"context"
	"time"
)

// IsClosed reports whether ch is closed.
var IsClosed = isClosed

// ReapAdoptedOnce lets the tests run one scan of ReapAdopted, which has
// seen no zombie before.
func ReapAdoptedOnce() { newReaper().scan(time.Now()) }

// CheckpointsSent returns how many checkpoints the job whose context ctx
// is has written so far.
func CheckpointsSent(ctx context.Context) int64 {
	r, _ := ctx.Value(reporterKey{}).(*reporter)
	if r == nil {
		return 0
	}
	return r.sentCount()
}
