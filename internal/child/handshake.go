package child

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// HandshakeTimeout bounds how long a child waits for its request (a
// spare child waits here, and so does a kept process between jobs, so
// both must be retired sooner), and how long a body that follows the
// request may stall.
const HandshakeTimeout = 10 * time.Minute

const notByHand = "this process is a job child of a dispatcher and cannot be started by hand (%v)"

func refuse(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "sqsdispatch: "+format+"\n", args...)
	return ExitRefused
}

// pipes returns the request pipe (fd 3) and the result pipe (fd 4), which
// the job's own subprocesses will not inherit.
func pipes() (req, res *os.File, err error) {
	for _, fd := range []int{3, 4} {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return nil, nil, fmt.Errorf("file descriptor %d: %w", fd, err)
		}
		syscall.CloseOnExec(fd)
	}
	syscall.CloseOnExec(markerFD)
	return os.NewFile(3, "sqsdispatch-request"), os.NewFile(4, "sqsdispatch-result"), nil
}

// markerFD is open on the file the parent gave (/dev/null) in a job child
// while its job runs, and no longer once the job returns (see marker): a
// guardian that has suspended the job reads in /proc whether the job had
// returned before the suspension took hold.
const markerFD = 5

// devNull is the file every child gets as its marker descriptor.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

// readRequest reads a request, and the body that follows it when one
// does, calling tick once the frame of a request with a body is read and
// after each read of the body. Its errors are the whole message of a
// refusal.
func readRequest(r io.Reader, tick func()) (*wire.Request, error) {
	var req wire.Request
	switch err := wire.Read(r, &req); {
	case errors.Is(err, wire.ErrVersion):
		return nil, fmt.Errorf(notByHand, fmt.Sprintf("parent speaks protocol %d, this binary %d; they must be the same build", req.Version, wire.Version))
	case err != nil:
		return nil, fmt.Errorf(notByHand, fmt.Sprintf("no handshake from a parent: %v", err))
	}
	if req.BodyFollows {
		tick()
		body, err := readBody(progress{r, tick}, req.BodySize)
		if err != nil {
			return nil, err
		}
		req.Message.Body = body
	}
	return &req, nil
}

// readBody reads the size bytes of a message body that follow the request,
// into one allocation of that size.
func readBody(r io.Reader, size int64) (string, error) {
	if size > math.MaxInt {
		return "", fmt.Errorf("the dispatcher sent a message body of %d bytes, more than this platform can hold", size)
	}
	var b strings.Builder
	b.Grow(int(size))
	if n, err := io.CopyN(&b, r, size); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", fmt.Errorf("the dispatcher's message body ended after %d of %d bytes: %w", n, size, err)
	}
	return b.String(), nil
}

// progress is a reader that calls tick after each read.
type progress struct {
	r    io.Reader
	tick func()
}

func (p progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.tick()
	return n, err
}
