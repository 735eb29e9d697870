package child

import (
	"bufio"
	"errors"
	"os"
	"sync"

	"go.uber.org/zap"
)

const (
	stderrTailBytes = 4 << 10
	stderrLineBytes = 4 << 10
)

// forwardStderr passes on each line the child writes to its stderr and
// keeps a tail of it for errors. Lines longer than 4 KiB are split.
func (p *Process) forwardStderr() {
	defer close(p.errDone)
	r := bufio.NewReaderSize(p.errR, stderrLineBytes)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			p.stderr.write(line)
			if log := p.lineLog.Load(); log != nil {
				log.Info("child stderr", zap.String("line", string(trimNewline(line)))) // a copy: line is reused
			} else {
				_, _ = os.Stderr.Write(line)
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
