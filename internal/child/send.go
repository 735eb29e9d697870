package child

import (
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// inlineWrite is the largest request written from the caller's goroutine:
// a pipe the child keeps reading always takes this much (PIPE_BUF)
// without blocking.
const inlineWrite = 4096

// bodyChunk is the size of the one buffer through which SendBody copies a
// body, however large the body is.
const bodyChunk = 64 << 10

// Send hands a waiting child its request, stamped with this build's
// wire.Magic and wire.Version; call it once on each handle (from Start,
// or from Process.Next for a kept process's next job). From then on log
// (nil: raw copies to os.Stderr) receives the child's stderr lines. The
// write does not block the caller. A request that cannot be encoded
// closes the child's lifeline, so the child ends rather than waits.
func (c *Child) Send(req wire.Request, log *zap.Logger) {
	frame, ok := c.prepare(req, log)
	if !ok || !c.p.beginWrite(c) {
		return
	}
	if len(frame) <= inlineWrite {
		defer c.p.endWrite(c)
		c.p.write(frame)
		return
	}
	go func() {
		defer c.p.endWrite(c)
		c.p.write(frame)
	}()
}

// SendBody is Send for a request whose message body is streamed after it:
// call it once, instead of Send. The child gets exactly size bytes read
// from body as req.Message.Body (whatever req held there), however much
// larger than a frame they are; they go through a small buffer, never
// held whole in this process. The copy runs in the background and never
// closes body: the caller closes it once Release has returned (or sooner,
// to end a Read that blocks, when body allows that). Release ends a copy
// blocked on the child, but waits for a Read of body in progress to
// return. When body fails or ends before size bytes, the child's lifeline
// is closed and the child refuses to run (ExitRefused) without a result.
func (c *Child) SendBody(req wire.Request, body io.Reader, size int64, log *zap.Logger) {
	req.Message.Body, req.BodyFollows, req.BodySize = "", true, size
	frame, ok := c.prepare(req, log)
	if !ok || !c.p.beginWrite(c) {
		return
	}
	go func() {
		defer c.p.endWrite(c)
		c.p.writeBody(frame, body, size)
	}()
}

// prepare stamps and encodes req, makes log receive the child's stderr
// and, for a job after the process's first, takes the measures its Usage
// starts from; it reports false, having closed the lifeline, when req
// cannot be encoded.
func (c *Child) prepare(req wire.Request, log *zap.Logger) ([]byte, bool) {
	p := c.p
	req.Magic, req.Version = wire.Magic, wire.Version
	p.setLog(log)
	seq := int(p.jobs.Add(1))
	var cpu0 cpuTimes
	if seq > 1 { // the process waits: nothing of it runs meanwhile
		cpu0 = readCPU(p.pid)
		resetPeak(p.pid)
	}
	c.mu.Lock()
	c.started, c.seq, c.reuse, c.cpu0 = time.Now(), seq, req.Reuse, cpu0
	c.mu.Unlock()
	frame, err := wire.Frame(req)
	if err != nil {
		p.warn("encoding the request for the child", err)
		_ = p.reqW.Close()
		return nil, false
	}
	return frame, true
}

func (p *Process) write(frame []byte) bool {
	if _, err := p.reqW.Write(frame); err != nil {
		p.warn("sending the request to the child", err)
		return false
	}
	return true
}

// writeBody writes the request's frame, then size bytes of body through
// one small buffer. A body that fails or ends short closes the lifeline:
// the child, still reading its request, refuses to run.
func (p *Process) writeBody(frame []byte, body io.Reader, size int64) {
	if !p.write(frame) {
		return
	}
	buf := make([]byte, min(size, bodyChunk))
	for sent := int64(0); sent < size; {
		n, err := body.Read(buf[:min(int64(len(buf)), size-sent)])
		if n > 0 {
			if !p.write(buf[:n]) {
				return
			}
			sent += int64(n)
		}
		switch {
		case sent == size:
			return
		case errors.Is(err, io.EOF):
			err = fmt.Errorf("sqsdispatch: the message body ended after %d of %d bytes", sent, size)
		case err == nil:
			continue
		}
		p.warn("reading the message body for the child", err)
		_ = p.reqW.Close()
		return
	}
}
