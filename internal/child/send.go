package child

import (
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// inlineWrite is the largest request written from the caller's goroutine:
// a fresh pipe always takes this much (PIPE_BUF) without blocking.
const inlineWrite = 4096

// Send hands a waiting child its request, stamped with this build's
// wire.Magic and wire.Version; call it once. From then on log (nil: raw
// copies to os.Stderr) receives the child's stderr lines. The write does
// not block the caller. A request that cannot be encoded closes the
// child's lifeline, so the child ends rather than waits.
func (c *Child) Send(req wire.Request, log *zap.Logger) {
	req.Magic, req.Version = wire.Magic, wire.Version
	c.setLog(log)
	c.mu.Lock()
	c.started = time.Now()
	c.mu.Unlock()
	frame, err := wire.Frame(req)
	if err != nil {
		c.warn("encoding the request for the child", err)
		_ = c.reqW.Close()
		return
	}
	if len(frame) <= inlineWrite {
		c.write(frame)
		return
	}
	c.writes.Go(func() { c.write(frame) })
}

func (c *Child) write(frame []byte) {
	if _, err := c.reqW.Write(frame); err != nil {
		c.warn("sending the request to the child", err)
	}
}
