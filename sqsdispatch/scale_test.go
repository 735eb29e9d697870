package sqsdispatch_test

// Many messages in one process: slots, priority queues, retirement and
// spare children.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// fillLedger sends n ledger messages tagged with their index.
func fillLedger(t *testing.T, ctx context.Context, url, ledger string, n int, sleep time.Duration) {
	t.Helper()
	fillWith(t, ctx, url, n, func(i int) string { return ledgerMsg(ledger, fmt.Sprint(i), sleep) })
}

func TestConcurrencyRunsEachMessageOnceWithinTheSlots(t *testing.T) {
	t.Parallel()
	const messages = 30
	for _, n := range []int{2, 4} {
		t.Run(fmt.Sprintf("concurrency %d", n), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
			ledger := filepath.Join(t.TempDir(), "ledger")
			fillLedger(t, b.ctx, b.q.URL, ledger, messages, 20*time.Millisecond)
			cfg := b.config("ledger")
			cfg.Concurrency, cfg.Logger = n, nil
			runUntil(t, b.dispatcher(cfg), "all messages to run", func() bool { return drained(t, b.ctx, b.q.URL) })
			if got := ledgerStats(t, readLedger(t, ledger), messages); got > n {
				t.Fatalf("%d jobs ran at once; Concurrency is %d", got, n)
			}
		})
	}
}

func TestHigherPriorityQueueIsAlwaysServedFirst(t *testing.T) {
	t.Parallel()
	high := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	low := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	ledger := filepath.Join(t.TempDir(), "ledger")
	for i := range 5 {
		low.send(ledgerMsg(ledger, "low", 0), nil)
		high.send(ledgerMsg(ledger, fmt.Sprint("high", i), 0), nil)
	}
	cfg := high.config("ledger")
	cfg.QueueURL, cfg.QueueURLs = "", []string{high.q.URL, low.q.URL}
	runUntil(t, high.dispatcher(cfg), "both queues to drain", func() bool {
		return drained(t, high.ctx, high.q.URL) && drained(t, low.ctx, low.q.URL)
	})
	evs := readLedger(t, ledger)
	ledgerStats(t, evs, 10)
	seenLow := false
	for _, ev := range evs {
		if !ev.start {
			continue
		}
		if ev.tag == "low" {
			seenLow = true
		} else if seenLow {
			t.Fatalf("high-priority message %s started after a low-priority one", ev.tag)
		}
	}
}

func TestMaxJobsRetiresAfterExactlyThatMany(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	ledger := filepath.Join(t.TempDir(), "ledger")
	fillLedger(t, b.ctx, b.q.URL, ledger, 7, 300*time.Millisecond)
	cfg := b.config("ledger")
	cfg.Concurrency, cfg.MaxJobs = 2, 3
	d := b.dispatcher(cfg)
	if err := d.Run(b.ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired", err)
	}
	ledgerStats(t, readLedger(t, ledger), 3) // three jobs, each started and ended
	if v, f := counts(t, b.ctx, b.q.URL); v != 4 || f != 0 {
		t.Fatalf("queue holds %d visible, %d in flight; want the 4 untouched messages", v, f)
	}
	if st := d.Status(); st.State != sqsdispatch.StateRetired || len(st.Slots) != 0 {
		t.Fatalf("Status after retiring = %+v; want state %q and no slots", st, sqsdispatch.StateRetired)
	}
}

func TestMaxLifetimeRetires(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	cfg := b.config("noop")
	cfg.MaxLifetime = time.Second
	d := b.dispatcher(cfg)
	done := runAsync(b.ctx, d)
	if err := wait(t, done, time.Minute, "Run to retire"); !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired", err)
	}
	if st := d.Status(); st.State != sqsdispatch.StateRetired {
		t.Fatalf("Status().State = %q after retiring", st.State)
	}
}

func TestPrespawnRunsEachMessageOnceInItsOwnChild(t *testing.T) {
	t.Parallel()
	const messages = 20
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	ledger := filepath.Join(t.TempDir(), "ledger")
	fillLedger(t, b.ctx, b.q.URL, ledger, messages, 0)
	cfg := b.config("ledger")
	cfg.Concurrency, cfg.Prespawn, cfg.MaxJobs = 2, true, messages
	if err := b.dispatcher(cfg).Run(b.ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired after %d jobs", err, messages)
	}
	if got := ledgerStats(t, readLedger(t, ledger), messages); got > 2 {
		t.Fatalf("%d jobs ran at once with Concurrency 2", got)
	}
}

// gatedDelete holds every delete until open is closed.
type gatedDelete struct {
	sqsdispatch.Client
	open    chan struct{}
	waiting chan struct{} // closed when the first delete waits
	once    sync.Once
}

func (g *gatedDelete) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	g.once.Do(func() { close(g.waiting) })
	<-g.open
	return g.Client.DeleteMessageBatch(ctx, in, opts...)
}

// TestSlotTakesTheNextMessageWhileADeleteIsPending: with one slot, the
// second message runs while the first one's delete still waits.
func TestSlotTakesTheNextMessageWhileADeleteIsPending(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	first, second := b.send("1", nil), b.send("2", nil)
	gc := &gatedDelete{Client: client, open: make(chan struct{}), waiting: make(chan struct{})}
	cfg := b.config("record")
	cfg.Client, cfg.MaxJobs = gc, 2
	done := runAsync(b.ctx, b.dispatcher(cfg))

	// The gate is still shut: the first delete cannot have completed.
	waitFor(t, time.Minute, "both jobs to run while the first delete is held", func() bool {
		return fileSize(outFile(first, "runs")) > 0 && fileSize(outFile(second, "runs")) > 0 && isDone(gc.waiting)
	})
	if returned, err := returnedYet(done); returned {
		t.Fatalf("Run returned %v with a delete still pending", err)
	}
	close(gc.open)
	if err := wait(t, done, time.Minute, "Run to retire"); !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired", err)
	}
	if !drained(t, b.ctx, b.q.URL) {
		t.Fatal("messages left; both should be deleted")
	}
}
