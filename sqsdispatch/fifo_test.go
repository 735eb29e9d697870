package sqsdispatch_test

// FIFO queues: one message of a group at a time, in order, and a group's
// identity kept on a dead-letter move.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestFIFOGroupsRunInOrderOneAtATime(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5, FIFO: true}, func(t *testing.T, b *bundle) {
		ledger := filepath.Join(t.TempDir(), "ledger")
		groups := []string{"g1", "g2", "g3"}
		for i := range 4 {
			for _, g := range groups {
				sendTo(t, b.ctx, b.q.URL, ledgerMsg(ledger, fmt.Sprintf("%s-%d", g, i), 50*time.Millisecond), nil, g)
			}
		}
		cfg := b.config("ledger")
		cfg.Concurrency = 4
		runUntil(t, b.dispatcher(cfg), "the FIFO queue to drain", func() bool { return drained(t, b.ctx, b.q.URL) })
		evs := readLedger(t, ledger)
		ledgerStats(t, evs, 4*len(groups))
		next := map[string]int{}
		running := map[string]string{} // group -> tag running
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
		}
	})
}

func TestFIFOPermanentFailureKeepsItsGroup(t *testing.T) {
	t.Parallel()
	forEachBackend(t, fauxqs.QueueSpec{MaxReceiveCount: 5, FIFO: true}, func(t *testing.T, b *bundle) {
		sendTo(t, b.ctx, b.q.URL, "fifo-body", nil, "group-7")
		_, err := b.dispatcher(b.config("permanent")).DispatchOne(b.ctx)
		var je *sqsdispatch.JobError
		if !errors.As(err, &je) || !je.Permanent {
			t.Fatalf("err = %v; want a permanent *JobError", err)
		}
		m := dlqMessages(t, b, 1)["fifo-body"]
		if aws.ToString(m.Body) != "fifo-body" || m.Attributes["MessageGroupId"] != "group-7" {
			t.Fatalf("FIFO DLQ holds %+v; want the body with group-7", m)
		}
	})
}

// TestFIFOMismatchedDLQIsRefused: a FIFO queue whose dead-letter queue is
// not FIFO (or the reverse) cannot keep its groups' order on a move. It
// runs on the local server only: the in-memory queue, like SQS, refuses
// such a redrive policy, so the queues cannot be set up there.
func TestFIFOMismatchedDLQIsRefused(t *testing.T) {
	t.Parallel()
	fifo := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5, FIFO: true})
	std := setup(t, fauxqs.QueueSpec{MaxReceiveCount: 5})
	arn := queueARN(t, std.ctx, std.q.DLQURL)
	setRedrive(t, fifo.ctx, fifo.q.URL, arn)
	err := fifo.dispatcher(fifo.config("noop")).Run(context.Background())
	if !errors.Is(err, sqsdispatch.ErrQueueConfig) || !strings.Contains(err.Error(), "FIFO") {
		t.Fatalf("Run = %v; want ErrQueueConfig about FIFO", err)
	}
}
