package child_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// runBody reports the length and SHA-256 of the body it got, as
// "<length> <hex digest>" in the result's Error.
func runBody(req *wire.Request) wire.Result {
	h := sha256.New()
	_, _ = io.WriteString(h, req.Message.Body)
	return wire.Result{Kind: wire.KindOK, Error: fmt.Sprintf("%d %x", len(req.Message.Body), h.Sum(nil))}
}

// patternPeriod is prime, so that the pattern never lines up with a
// buffer.
const patternPeriod = 251

// patternTable holds the pattern from every phase for up to a copy's
// length.
var patternTable = sync.OnceValue(func() []byte {
	b := make([]byte, patternPeriod+64<<10)
	for i := range b {
		b[i] = byte(i % patternPeriod)
	}
	return b
})

// patternReader yields size bytes of a fixed pattern, generated as they
// are read, then io.EOF. With failAt > 0 it fails there instead; once it
// has yielded at bytes it calls hook, once.
type patternReader struct {
	size, failAt int64
	at           int64
	hook         func()
	off          atomic.Int64
}

var errBroken = errors.New("body source broke")

func (r *patternReader) Read(p []byte) (int, error) {
	off := r.off.Load()
	if r.failAt > 0 && off >= r.failAt {
		return 0, errBroken
	}
	if off >= r.size {
		return 0, io.EOF
	}
	limit := r.size
	if r.failAt > 0 {
		limit = min(limit, r.failAt)
	}
	table := patternTable()
	p = p[:min(int64(len(p)), limit-off, int64(len(table)-patternPeriod))]
	copy(p, table[off%patternPeriod:])
	r.off.Add(int64(len(p)))
	if r.hook != nil && off < r.at && off+int64(len(p)) >= r.at {
		r.hook()
	}
	return len(p), nil
}

// digest is what runBody reports for a pattern of size bytes.
func digest(t *testing.T, size int64) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, &patternReader{size: size}); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %x", size, h.Sum(nil))
}

// A body larger than a frame reaches the child byte for byte, and the
// parent never holds it: what it allocates meanwhile is a fraction of the
// body. It does not run in parallel, so that the allocation counter sees
// only it.
func TestBodyStreamsToTheChild(t *testing.T) {
	tests := []struct {
		name string
		size int64
	}{
		{"empty", 0},
		{"a few bytes", 1000},
		{"40 MiB, beyond a frame", 40 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := digest(t, tt.size)
			c := startChild(t)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			c.SendBody(wire.Request{Mode: wire.ModeRun, Job: "body", Message: wire.Message{ID: "m", Body: "ignored"}},
				&patternReader{size: tt.size}, tt.size, zaptest.NewLogger(t))
			waitDone(t, c)
			runtime.ReadMemStats(&after)
			r := c.Result()
			if r == nil || r.Kind != wire.KindOK || r.Error != want {
				t.Fatalf("result %+v; want the body's %q (stderr %q)", r, want, c.Stderr())
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
				t.Errorf("streaming a body of %d bytes allocated %d bytes in the parent", tt.size, got)
			}
		})
	}
}

// A body that fails or ends short leaves the child waiting for nothing:
// it refuses to run, without a result.
func TestBrokenBodyMakesTheChildRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body *patternReader
	}{
		{"source fails half way", &patternReader{size: 20 << 20, failAt: 10 << 20}},
		{"source ends half way", &patternReader{size: 10 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := startChild(t)
			c.SendBody(wire.Request{Mode: wire.ModeRun, Job: "body"}, tt.body, 20<<20, zaptest.NewLogger(t))
			waitDone(t, c)
			if r := c.Result(); r != nil {
				t.Fatalf("result %+v; want none", r)
			}
			if code := c.State().ExitCode(); code != child.ExitRefused {
				t.Fatalf("exit %v; want code %d", c.State(), child.ExitRefused)
			}
			if s := string(c.Stderr()); !strings.Contains(s, "message body ended after 10485760 of 20971520 bytes") {
				t.Fatalf("stderr %q does not say where the body ended", s)
			}
		})
	}
}

// Release ends a body copy that a suspended child has stopped reading.
func TestReleaseEndsABodyCopyToASuspendedChild(t *testing.T) {
	t.Parallel()
	c := startChild(t)
	p := identify(t, c.PID())
	const size = 400 << 20
	body := &patternReader{size: size, at: 1 << 20, hook: func() { c.Signal(syscall.SIGSTOP) }}
	c.SendBody(wire.Request{Mode: wire.ModeRun, Job: "body"}, body, size, zaptest.NewLogger(t))
	waitFor(t, "the child to be suspended mid-stream", func() bool { return stopped(p) })
	released := make(chan struct{})
	go func() { c.Release(); close(released) }()
	select {
	case <-released:
	case <-time.After(patience):
		t.Fatalf("Release blocked for %s with a body copy to a suspended child", patience)
	}
	if got := body.off.Load(); got >= size {
		t.Fatalf("the whole body (%d bytes) was read from its source; want the copy ended mid-stream", got)
	}
	if s := signaled(c); s != syscall.SIGKILL || c.Result() != nil {
		t.Fatalf("child ended by %v with result %+v; want killed without one", s, c.Result())
	}
}

// startChild starts a child that waits for its request, released when the
// test ends.
func startChild(t *testing.T) *child.Child {
	t.Helper()
	c, err := child.Start(child.Options{Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	return c
}
