package child

import (
	"context"
	"errors"
	"os"
	"reflect"
	"runtime"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// reportPipe returns a reporter writing to a pipe, a job's context that
// holds it, and a function that reads every frame the reporter wrote once
// it has closed the pipe.
func reportPipe(t *testing.T) (*reporter, context.Context, func() []wire.Result) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	rep := newReporter(w)
	frames := func() []wire.Result {
		t.Helper()
		var out []wire.Result
		for {
			var res wire.Result
			err := wire.Read(r, &res)
			if errors.Is(err, wire.ErrNoFrame) {
				return out
			}
			if err != nil {
				t.Fatalf("after %d frames: %v", len(out), err)
			}
			out = append(out, res)
		}
	}
	return rep, context.WithValue(context.Background(), reporterKey{}, rep), frames
}

// Once the job has returned, a checkpoint is refused and the stream
// holds the checkpoints recorded before, then the result, and nothing
// else.
func TestCheckpointAfterTheJobReturnedIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		report bool // the result was written before the late checkpoint
	}{
		{"between the job's return and the report", false},
		{"after the report", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, ctx, frames := reportPipe(t)
			rep.answer([]byte{AnswerKept}) // ahead of the checkpoint it answers
			if err := Checkpoint(ctx, []byte("early")); err != nil {
				t.Fatal(err)
			}
			rep.jobReturned()
			if tt.report {
				rep.report(wire.Result{Kind: wire.KindOK}, true)
			}
			if err := Checkpoint(ctx, []byte("late")); !errors.Is(err, ErrJobReturned) {
				t.Fatalf("late Checkpoint = %v; want ErrJobReturned", err)
			}
			if !tt.report {
				rep.report(wire.Result{Kind: wire.KindOK}, true)
			}
			want := []wire.Result{{Kind: wire.KindCheckpoint, Checkpoint: []byte("early")}, {Kind: wire.KindOK}}
			if got := frames(); !reflect.DeepEqual(got, want) {
				t.Fatalf("frames %+v; want %+v", got, want)
			}
		})
	}
}

// A runner's result that would not end the stream, or that carries a
// checkpoint, is reported as a result that does.
func TestReportEndsTheStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  wire.Result
		want wire.Result
		code int
	}{
		{"checkpoint returned as the result", wire.Result{Kind: wire.KindCheckpoint, Checkpoint: []byte("x")},
			wire.Result{Kind: wire.KindError, Error: "sqsdispatch: the job's runner returned a checkpoint as its result"}, ExitFailed},
		{"result with a checkpoint", wire.Result{Kind: wire.KindOK, Checkpoint: []byte("x")}, wire.Result{Kind: wire.KindOK}, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, _, frames := reportPipe(t)
			if code, ok := rep.report(tt.res, true); code != tt.code || !ok {
				t.Fatalf("exit code %d, written %v; want %d, written", code, ok, tt.code)
			}
			if got := frames(); !reflect.DeepEqual(got, []wire.Result{tt.want}) {
				t.Fatalf("frames %+v; want %+v", got, tt.want)
			}
		})
	}
}

// A checkpoint returns once the parent said it kept it, also after the
// job's context ended; one the parent does not answer waits, and ends
// with an error soon after the job's context ends, or when the job
// returns.
func TestCheckpointAnswers(t *testing.T) {
	t.Parallel()
	rep, ctx, _ := reportPipe(t)
	rep.answer([]byte{AnswerKept, AnswerKept})
	for i := range 2 {
		if err := Checkpoint(ctx, []byte("x")); err != nil {
			t.Fatalf("checkpoint %d = %v; want kept", i+1, err)
		}
	}
	ended, end := context.WithCancel(ctx)
	end()
	rep.answer([]byte{AnswerKept})
	if err := Checkpoint(ended, []byte("late")); err != nil {
		t.Fatalf("checkpoint after the context ended, answered = %v; want kept", err)
	}
	unanswered := func(ctx context.Context, end func()) error {
		t.Helper()
		waiting := make(chan error, 1)
		sent := rep.sentCount()
		go func() { waiting <- Checkpoint(ctx, []byte("unanswered")) }()
		for rep.sentCount() == sent { // written: it waits for its answer
			runtime.Gosched()
		}
		end()
		return <-waiting
	}
	jctx, cancel := context.WithCancel(ctx)
	if err := unanswered(jctx, cancel); !errors.Is(err, ErrNotKept) || !errors.Is(err, context.Canceled) {
		t.Fatalf("unanswered checkpoint, context ended = %v; want ErrNotKept", err)
	}
	if err := unanswered(ctx, rep.jobReturned); !errors.Is(err, ErrJobReturned) {
		t.Fatalf("unanswered checkpoint, job returned = %v; want ErrJobReturned", err)
	}
}

func (r *reporter) sentCount() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent
}
