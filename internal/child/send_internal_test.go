package child

import (
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// endless yields zeros for ever.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Closing the request pipe's write end ends a body copy blocked in a write
// to a pipe nobody reads (a suspended child's, or one a stray process
// holds open), as Release does.
func TestClosingTheRequestPipeEndsABlockedBodyCopy(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	p := &Process{reqW: w}
	p.warnLog.Store(zap.NewNop())
	p.writes.Go(func() { p.writeBody([]byte("frame"), io.Reader(endless{}), 1<<40) })
	deadline := time.Now().Add(30 * time.Second)
	for !blockedInWrite() {
		if time.Now().After(deadline) {
			t.Fatal("the body copy never blocked in a write to the full pipe")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = w.Close()
	ended := make(chan struct{})
	go func() { p.writes.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("closing the pipe did not end the blocked body copy")
	}
}

// blockedInWrite reports whether a goroutine of writeBody waits for its
// pipe to take more.
func blockedInWrite() bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "[IO wait") && strings.Contains(g, "(*Process).writeBody") {
			return true
		}
	}
	return false
}
