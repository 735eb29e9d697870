package sqsdispatch_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	const messages = 500
	for _, n := range []int{2, 4} {
		t.Run(fmt.Sprintf("concurrency %d", n), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
			ledger := filepath.Join(t.TempDir(), "ledger")
			fillLedger(t, b.ctx, b.q.URL, ledger, messages, 0)
			cfg := b.config("ledger")
			cfg.Concurrency, cfg.Logger = n, nil
			runUntil(t, b.dispatcher(cfg), "all messages to run", func() bool {
				v, f := counts(t, b.ctx, b.q.URL)
				return v+f == 0
			})
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
		v1, f1 := counts(t, high.ctx, high.q.URL)
		v2, f2 := counts(t, low.ctx, low.q.URL)
		return v1+f1+v2+f2 == 0
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
	err := b.dispatcher(cfg).Run(b.ctx)
	if !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired", err)
	}
	ledgerStats(t, readLedger(t, ledger), 3) // three jobs, each started and ended
	if v, f := counts(t, b.ctx, b.q.URL); v != 4 || f != 0 {
		t.Fatalf("queue holds %d visible, %d in flight; want the 4 untouched messages", v, f)
	}
}

func TestFIFOGroupsRunInOrderOneAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5, FIFO: true})
	ledger := filepath.Join(t.TempDir(), "ledger")
	for i := range 4 {
		for _, g := range []string{"g1", "g2", "g3"} {
			sendTo(t, b.ctx, b.q.URL, ledgerMsg(ledger, fmt.Sprintf("%s-%d", g, i), 150*time.Millisecond), nil, g)
		}
	}
	cfg := b.config("ledger")
	cfg.Concurrency = 4
	runUntil(t, b.dispatcher(cfg), "the FIFO queue to drain", func() bool {
		v, f := counts(t, b.ctx, b.q.URL)
		return v+f == 0
	})
	evs := readLedger(t, ledger)
	ledgerStats(t, evs, 12)
	next := map[string]int{}
	running := map[string]string{} // group -> tag running
	parallel := false
	for _, ev := range evs {
		g, seq, _ := strings.Cut(ev.tag, "-")
		if !ev.start {
			delete(running, g)
			continue
		}
		if r, busy := running[g]; busy {
			t.Fatalf("%s started while %s of the same group ran", ev.tag, r)
		}
		if seq != fmt.Sprint(next[g]) {
			t.Fatalf("%s started out of order (want %s-%d next)", ev.tag, g, next[g])
		}
		next[g]++
		running[g] = ev.tag
		parallel = parallel || len(running) > 1
	}
	if !parallel {
		t.Fatal("no two groups ever ran at the same time")
	}
}

func TestPrespawnRunsEachMessageOnceInItsOwnChild(t *testing.T) {
	t.Parallel()
	b := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	ledger := filepath.Join(t.TempDir(), "ledger")
	fillLedger(t, b.ctx, b.q.URL, ledger, 40, 0)
	cfg := b.config("ledger")
	cfg.Concurrency, cfg.Prespawn, cfg.MaxJobs = 2, true, 40
	if err := b.dispatcher(cfg).Run(b.ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
		t.Fatalf("Run = %v; want ErrRetired after 40 jobs", err)
	}
	if got := ledgerStats(t, readLedger(t, ledger), 40); got > 2 {
		t.Fatalf("%d jobs ran at once with Concurrency 2", got)
	}
}
