package child

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// inboxPipe starts an inbox reading a pipe, and returns it with the
// pipe's write end and a channel closed when the inbox saw the pipe end
// after a request.
func inboxPipe(t *testing.T) (*inbox, *os.File, <-chan struct{}) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	lost := make(chan struct{})
	in := newInbox(r, func() { close(lost) })
	ended := make(chan struct{})
	go func() { in.run(); close(ended) }()
	t.Cleanup(func() {
		_ = w.Close()
		<-ended
	})
	return in, w, lost
}

// frame encodes a request as the parent sends it.
func frame(t *testing.T, req wire.Request) []byte {
	t.Helper()
	req.Magic, req.Version = wire.Magic, wire.Version
	b, err := wire.Frame(req)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0 {
		t.Fatalf("a frame starts with %#x; want 0", b[0])
	}
	return b
}

func write(t *testing.T, w *os.File, parts ...[]byte) {
	t.Helper()
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

// nextRequest waits for the inbox's next request.
func nextRequest(t *testing.T, in *inbox, first bool) *wire.Request {
	t.Helper()
	req, code, ok := in.next(first, &stopWatch{ctx: context.Background()})
	if !ok {
		t.Fatalf("no request (exit code %d)", code)
	}
	return req
}

// keptCount is how many answers rep has counted.
func keptCount(rep *reporter) int64 {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	return rep.kept
}

// The request pipe's one reader tells answers from requests, whatever
// comes first: answers go to the job served while they come, and only to
// it; an answer that comes while no job is served (before a request, or
// between a job's report and the next request) is dropped, and a request
// read after it, with its body, is whole.
func TestInboxTellsAnswersFromRequests(t *testing.T) {
	t.Parallel()
	in, w, lost := inboxPipe(t)
	write(t, w, []byte{AnswerKept}, frame(t, wire.Request{Mode: wire.ModeRun, Job: "first", Reuse: true}))
	if req := nextRequest(t, in, true); req.Job != "first" || !req.Reuse {
		t.Fatalf("first request %+v", req)
	}
	rep, _, _ := reportPipe(t)
	in.serve(rep)
	write(t, w, []byte{AnswerKept, AnswerKept})
	deadline := time.Now().Add(30 * time.Second)
	for keptCount(rep) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the job served got %d answers; want 2", keptCount(rep))
		}
		time.Sleep(time.Millisecond)
	}
	in.serve(nil)
	const body = "a body \x00\x01 after the frame"
	write(t, w, []byte{AnswerKept, AnswerKept, AnswerKept},
		frame(t, wire.Request{Mode: wire.ModeRun, Job: "second", BodyFollows: true, BodySize: int64(len(body))}), []byte(body))
	req := nextRequest(t, in, false)
	if req.Job != "second" || req.Message.Body != body {
		t.Fatalf("second request %+v", req)
	}
	if n := keptCount(rep); n != 2 {
		t.Fatalf("the first job got %d answers; want only the 2 sent while it was served", n)
	}
	write(t, w, []byte{7})
	if _, code, ok := in.next(false, &stopWatch{ctx: context.Background()}); ok || code != ExitRefused {
		t.Fatalf("a byte that starts neither a request nor an answer: ok %v, code %d; want a refusal", ok, code)
	}
	select {
	case <-lost:
		t.Fatal("the inbox took a bad byte for the parent's death")
	default:
	}
}

// The end of the request pipe is a refusal before the first request, and
// the parent's death after it, while the child waits as while a job runs.
func TestInboxEnd(t *testing.T) {
	t.Parallel()
	t.Run("before the first request", func(t *testing.T) {
		t.Parallel()
		in, w, lost := inboxPipe(t)
		_ = w.Close()
		_, code, ok := in.next(true, &stopWatch{ctx: context.Background()})
		if ok || code != ExitRefused {
			t.Fatalf("ok %v, code %d; want a refusal", ok, code)
		}
		select {
		case <-lost:
			t.Fatal("the end before a request was taken for the parent's death")
		default:
		}
	})
	t.Run("after a request", func(t *testing.T) {
		t.Parallel()
		in, w, lost := inboxPipe(t)
		write(t, w, frame(t, wire.Request{Mode: wire.ModeRun, Job: "j", Reuse: true}))
		nextRequest(t, in, true)
		_ = w.Close()
		select {
		case <-lost:
		case <-time.After(30 * time.Second):
			t.Fatal("the end of the pipe after a request was not taken for the parent's death")
		}
	})
	t.Run("in a body", func(t *testing.T) {
		t.Parallel()
		in, w, _ := inboxPipe(t)
		write(t, w, frame(t, wire.Request{Mode: wire.ModeRun, Job: "j", BodyFollows: true, BodySize: 10}), []byte("short"))
		_ = w.Close()
		_, code, ok := in.next(true, &stopWatch{ctx: context.Background()})
		if ok || code != ExitRefused {
			t.Fatalf("ok %v, code %d; want a refusal", ok, code)
		}
	})
}
