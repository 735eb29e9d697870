package sqsdispatch_test

// The Dispatcher's calling contract: DispatchOne once per message, on an
// empty queue, and no two calls at once.

import (
	"context"
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

func TestDispatchOneOnAnEmptyQueueHandlesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	handled, err := b.dispatcher(b.config("record")).DispatchOne(b.ctx)
	if handled || err != nil {
		t.Fatalf("DispatchOne = %v, %v; want false, nil", handled, err)
	}
}

// TestDispatchOneOneMessageAtATime: DispatchOne is called once per
// message, on the same dispatcher.
func TestDispatchOneOneMessageAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{})
	ids := []string{b.send("1", nil), b.send("2", nil), b.send("3", nil)}
	d := b.dispatcher(b.config("record"))
	for i := range ids {
		if handled, err := d.DispatchOne(b.ctx); !handled || err != nil {
			t.Fatalf("call %d: DispatchOne = %v, %v; want true, nil", i+1, handled, err)
		}
	}
	for _, id := range ids {
		if fileSize(outFile(id, "runs")) <= 0 {
			t.Errorf("message %s did not run", id)
		}
	}
	if handled, err := d.DispatchOne(b.ctx); handled || err != nil {
		t.Fatalf("DispatchOne on the emptied queue = %v, %v; want false, nil", handled, err)
	}
}

// TestRunAndDispatchOneDoNotOverlap: a second call (Run or DispatchOne) on
// a busy dispatcher is refused rather than sharing its slots.
func TestRunAndDispatchOneDoNotOverlap(t *testing.T) {
	t.Parallel()
	h := holdJob(t)
	if _, err := h.d.DispatchOne(context.Background()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("DispatchOne during DispatchOne = %v; want it refused", err)
	}
	if err := h.d.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("Run during DispatchOne = %v; want it refused", err)
	}
	if err := h.finish(t); err != nil {
		t.Fatal(err)
	}
}
