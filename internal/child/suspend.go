package child

import (
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// firstByte marks its child as reporting once the first byte of the
// result arrives.
type firstByte struct {
	r io.Reader
	c *Child
}

func (f firstByte) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 {
		f.c.reporting.Store(true)
	}
	return n, err
}

// Finished reports whether the child has ended or has started to report
// its result: its job is over. Called while the child is suspended, the
// answer cannot change under the caller.
func (c *Child) Finished() bool {
	if isClosed(c.done) || c.reporting.Load() {
		return true
	}
	pending := 0
	if rc, err := c.resR.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { pending, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	}
	return pending > 0 || c.reporting.Load()
}

// WaitStopped waits until the child's leader is stopped (SIGSTOP took
// hold) or gone, for at most within.
func (c *Child) WaitStopped(within time.Duration) {
	deadline := time.Now().Add(within)
	path := "/proc/" + itoa(c.pid) + "/stat"
	for time.Now().Before(deadline) && !isClosed(c.done) {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
			switch s[i+2] {
			case 'T', 't', 'Z', 'X':
				return
			}
		}
		time.Sleep(time.Millisecond) // polling /proc: there is no event to wait on
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
