package child

import (
	"bytes"
	"errors"
	"os"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// checkpoint is the latest checkpoint a child reported, and how many it
// reported so far.
type checkpoint struct {
	data []byte
	n    int
}

// Checkpoint returns the last checkpoint the child's job recorded (nil
// when it recorded none, or an empty one) and how many it recorded so far.
// Once Done is closed, every checkpoint the child wrote, even one it wrote
// just before it was killed, has been counted (unless they were frozen).
func (c *Child) Checkpoint() (data []byte, n int) {
	c.ckptMu.Lock()
	defer c.ckptMu.Unlock()
	return bytes.Clone(c.ckpt.data), c.ckpt.n
}

// FreezeCheckpoints returns what Checkpoint does and keeps no checkpoint
// from now on: a later one gets no answer, and the job's Checkpoint call
// waits (until the job is suspended and killed). Every checkpoint the job
// was told was kept is in what it returns.
func (c *Child) FreezeCheckpoints() (data []byte, n int) {
	c.ckptMu.Lock()
	defer c.ckptMu.Unlock()
	c.frozen = true
	return bytes.Clone(c.ckpt.data), c.ckpt.n
}

// readResult reads the frames the child reports: any number of
// checkpoints, each answered on the request pipe, then its result. The
// pipe keeps what the child wrote after the child is gone, so everything
// it wrote is read before Done closes.
func (c *Child) readResult(r *os.File) {
	defer c.partDone()
	defer r.Close()
	for {
		var res wire.Result
		if err := wire.Read(r, &res); err != nil {
			if !errors.Is(err, wire.ErrNoFrame) {
				c.warn("reading the child's result", err)
			}
			return
		}
		if res.Kind != wire.KindCheckpoint {
			c.res = &res
			return
		}
		// The checkpoint is stored before the child learns it is kept.
		// The request's body, if any, was all written before the job ran.
		if c.keepCheckpoint(res.Checkpoint) {
			_, _ = c.reqW.Write([]byte{AnswerKept})
		}
	}
}

// keepCheckpoint stores data unless checkpoints are frozen.
func (c *Child) keepCheckpoint(data []byte) bool {
	c.ckptMu.Lock()
	defer c.ckptMu.Unlock()
	if c.frozen {
		return false
	}
	c.ckpt = checkpoint{data: data, n: c.ckpt.n + 1}
	return true
}
