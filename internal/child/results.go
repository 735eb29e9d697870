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
// just before it was killed, has been counted.
func (c *Child) Checkpoint() (data []byte, n int) {
	p := c.ckpt.Load()
	if p == nil {
		return nil, 0
	}
	return bytes.Clone(p.data), p.n
}

// readResult reads the frames the child reports: any number of
// checkpoints, then its result. The pipe keeps what the child wrote after
// the child is gone, so everything it wrote is read before Done closes.
func (c *Child) readResult(r *os.File) {
	defer c.partDone()
	defer r.Close()
	n := 0
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
		n++
		c.ckpt.Store(&checkpoint{data: res.Checkpoint, n: n})
	}
}
