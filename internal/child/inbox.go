package child

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// inbox is the one reader of the request pipe, for the child's whole life.
// The pipe carries the parent's requests, each a frame (maybe followed by
// its body), and its one-byte answers to a job's checkpoints. A frame's
// first byte is always 0 (frames are under 16 MiB), and an answer is
// AnswerKept: read one unit at a time, the stream is never ambiguous.
//
// The parent answers a checkpoint as it reads it, before it reads the
// job's result, and sends the next request only after that: every answer
// to a job comes before the next request, and is read while no later job
// runs. An answer that comes when no job is served (its job returned
// without waiting for it) is dropped; one for a job that returned goes to
// that job's reporter, which refuses its checkpoints from then on.
//
// The end of the pipe before the first request is a refusal; after it,
// the parent's death: lost (death.die, which kills the whole group) runs,
// whether a job runs or the child waits for its next request.
type inbox struct {
	r        *bufio.Reader
	lost     func()
	requests chan arrival  // requests read, for next
	progress chan struct{} // a request's body is coming: its stall timeout renews
	kept     [1]byte

	mu  sync.Mutex
	rep *reporter // the job being served, which gets the answers; nil: none
}

// arrival is a request read, or why none could be.
type arrival struct {
	req *wire.Request
	err error
}

func newInbox(r io.Reader, lost func()) *inbox {
	return &inbox{r: bufio.NewReader(r), lost: lost, requests: make(chan arrival, 1), progress: make(chan struct{}, 1),
		kept: [1]byte{AnswerKept}}
}

// run reads the request pipe until it ends or carries something that is
// neither a request nor an answer.
func (in *inbox) run() {
	for taken := 0; ; {
		b, err := in.r.ReadByte()
		switch {
		case err != nil && taken == 0:
			if errors.Is(err, io.EOF) {
				err = wire.ErrNoFrame
			}
			in.requests <- arrival{err: fmt.Errorf(notByHand, fmt.Sprintf("no handshake from a parent: %v", err))}
			return
		case err != nil:
			in.lost() // the parent is gone, or retired this child
			return
		case b == AnswerKept:
			in.answer()
		case b == 0:
			_ = in.r.UnreadByte()
			req, err := readRequest(in.r, in.tick)
			in.requests <- arrival{req: req, err: err}
			if err != nil {
				return
			}
			taken++
		default:
			err := fmt.Errorf("the dispatcher sent byte %#x where a request or an answer starts", b)
			if taken == 0 {
				err = fmt.Errorf(notByHand, err)
			}
			in.requests <- arrival{err: err}
			return
		}
	}
}

// serve makes rep (nil: none) get the answers read from now on.
func (in *inbox) serve(rep *reporter) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rep = rep
}

func (in *inbox) answer() {
	in.mu.Lock()
	rep := in.rep
	in.mu.Unlock()
	if rep != nil {
		rep.answer(in.kept[:])
	}
}

func (in *inbox) tick() {
	select {
	case in.progress <- struct{}{}:
	default:
	}
}

// next waits for the next request. It gives up, returning the exit code,
// when the pipe carried something else, when no request came within
// HandshakeTimeout, when its body stalled as long, or when a stop signal
// came first (the process then dies by that signal).
func (in *inbox) next(first bool, stops *stopWatch) (*wire.Request, int, bool) {
	select {
	case <-in.progress: // of the previous request
	default:
	}
	timer := time.NewTimer(HandshakeTimeout)
	defer timer.Stop()
	streaming := false
	for {
		select {
		case a := <-in.requests:
			if a.err != nil {
				return nil, refuse("%v", a.err), false
			}
			return a.req, 0, true
		case <-in.progress:
			streaming = true
			timer.Reset(HandshakeTimeout)
		case <-stops.ctx.Done():
			return nil, stops.dieBy(), false
		case <-timer.C:
			switch {
			case streaming:
				return nil, refuse("the dispatcher's message body stalled for %s", HandshakeTimeout), false
			case first:
				return nil, refuse(notByHand, fmt.Sprintf("no handshake within %s", HandshakeTimeout)), false
			default:
				return nil, refuse("no further request came within %s", HandshakeTimeout), false
			}
		}
	}
}
