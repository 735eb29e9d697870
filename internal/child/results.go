package child

import (
	"bytes"
	"errors"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// checkpoint is the latest checkpoint a job reported, and how many it
// reported so far.
type checkpoint struct {
	data []byte
	n    int
}

// Checkpoint returns the last checkpoint the job recorded (nil when it
// recorded none, or an empty one) and how many it recorded so far. Once
// Done is closed, every checkpoint the job wrote, even one it wrote just
// before it was killed, has been counted (unless they were frozen).
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

// readResult reads the frames the child reports for this job: any number
// of checkpoints, each answered on the request pipe, then its result. It
// reads nothing after the result: the pipe's next frames are the next
// job's. The pipe keeps what the child wrote after the child is gone, so
// everything it wrote is read before Done closes.
func (c *Child) readResult() {
	p := c.p
	defer p.readers.Done()
	for {
		var res wire.Result
		if err := wire.Read(p.resR, &res); err != nil {
			if !errors.Is(err, wire.ErrNoFrame) {
				p.warn("reading the child's result", err)
			}
			c.mu.Lock()
			c.readDone = true
			c.maybeDone()
			c.mu.Unlock()
			return
		}
		if res.Kind != wire.KindCheckpoint {
			c.gotResult(&res)
			return
		}
		// The checkpoint is stored before the child learns it is kept.
		// The request's body, if any, was all written before the job ran.
		if c.keepCheckpoint(res.Checkpoint) {
			_, _ = p.reqW.Write([]byte{AnswerKept})
		}
	}
}

// gotResult records the job's result and, for a job after its process's
// first or one whose process may live on, measures the process as the job
// leaves it. When the process waits for another request, the job is over.
func (c *Child) gotResult(res *wire.Result) {
	c.mu.Lock()
	reuse, seq := c.reuse, c.seq
	c.mu.Unlock()
	var end jobEnd
	if reuse || seq > 1 {
		end = measureEnd(c.p.pid)
	}
	lives := waitsAfter(reuse, res, true) // a child whose marker does not last exits: its kept process is found dead
	if lives {
		c.p.detach(c)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res, c.end, c.livesOn, c.readDone = res, end, lives, true
	c.maybeDone()
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
