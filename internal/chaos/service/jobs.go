//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// jobName is the one job of the service.
const jobName = "chaos"

// Delays the jobs ask for with RetryAfter.
const (
	failFirstRetry = 300 * time.Millisecond
	duplicateRetry = time.Second
	// grandchildLife outlives every chaos run: only the library's process
	// hygiene ends a grandchild, and one that escapes it is still there to
	// be counted when the run ends.
	grandchildLife = "3600"
)

func registry(checkpoints bool) *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	job := func(ctx context.Context, msg *sqsdispatch.Message) error { return run(ctx, msg, checkpoints) }
	reg.Handle(sqsdispatch.Job{Name: jobName, Run: job, Cleanup: cleanup, Timeout: time.Minute})
	return reg
}

// delivery is what every record of one message delivery shares.
type delivery struct {
	led  *ledger.Ledger
	body ledger.Body
	base ledger.Record
}

func open(msg *sqsdispatch.Message) (*delivery, error) {
	var body ledger.Body
	if err := json.Unmarshal([]byte(msg.Body), &body); err != nil || body.Key == "" {
		return nil, sqsdispatch.Permanent(fmt.Errorf("chaos service: body %q is not a chaos message", msg.Body))
	}
	led, err := ledger.Open(os.Getenv(ledger.EnvDir))
	if err != nil {
		return nil, err
	}
	self, err := proctab.Identify(os.Getpid())
	if err != nil {
		return nil, err
	}
	parent, _ := proctab.Identify(os.Getppid()) // gone: the zero ID
	return &delivery{led: led, body: body, base: ledger.Record{Key: body.Key, MessageID: msg.ID,
		ReceiveCount: msg.ReceiveCount, Proc: self, Dispatcher: parent}}, nil
}

func (d *delivery) record(ev ledger.Event, edit func(*ledger.Record)) error {
	r := d.base
	r.Event = ev
	if edit != nil {
		edit(&r)
	}
	return d.led.Append(r)
}

// run is the job. It takes the message's lock for the whole life of the
// job and of what it started; a lock already held means another run of the same message
// is alive, which is recorded as a duplicate. With checkpoints, its plain
// work records a checkpoint halfway.
func run(ctx context.Context, msg *sqsdispatch.Message, checkpoints bool) error {
	d, err := open(msg)
	if err != nil {
		return err
	}
	lock, err := d.led.Lock(d.body.Key)
	if errors.Is(err, ledger.ErrHeld) {
		if rerr := d.record(ledger.EventDuplicate, func(r *ledger.Record) { r.Holders = err.Error() }); rerr != nil {
			return rerr
		}
		return sqsdispatch.RetryAfter(duplicateRetry, err)
	}
	if err != nil {
		return err
	}
	// The lock is held until the job returns, and by whatever the job
	// started until that ends (the grandchild shares it): in a child that
	// runs one job, until the process exits; in a reused one, until the
	// next job could start.
	defer lock.Close()
	if err := d.record(ledger.EventStart, nil); err != nil {
		return err
	}
	switch d.body.Kind {
	case ledger.KindFailFirst:
		if err := sleep(ctx, d.body.Millis); err != nil {
			return err
		}
		if msg.ReceiveCount == 1 {
			if err := d.record(ledger.EventFail, nil); err != nil {
				return err
			}
			return sqsdispatch.RetryAfter(failFirstRetry, errors.New("chaos service: the first delivery fails"))
		}
	case ledger.KindGrandchild:
		cmd := exec.Command("sleep", grandchildLife)
		cmd.ExtraFiles = []*os.File{lock} // the grandchild holds the lock too
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("chaos service: starting the grandchild: %w", err)
		}
		if err := d.record(ledger.EventGrandchild, func(r *ledger.Record) { r.Grandchild = cmd.Process.Pid }); err != nil {
			return err
		}
		if err := sleep(ctx, d.body.Millis); err != nil {
			return err
		}
		// Not waited for: the grandchild outlives the job unless the
		// dispatcher ends it.
	default:
		if err := work(ctx, msg, d.body.Millis, checkpoints); err != nil {
			return err
		}
	}
	return d.record(ledger.EventDone, nil)
}

// work sleeps for ms; with checkpoints, it records one halfway, and a run
// that resumes from it sleeps only the second half.
func work(ctx context.Context, msg *sqsdispatch.Message, ms int, checkpoints bool) error {
	if !checkpoints {
		return sleep(ctx, ms)
	}
	if string(msg.Checkpoint) != "half" {
		if err := sleep(ctx, ms/2); err != nil {
			return err
		}
		if err := sqsdispatch.Checkpoint(ctx, []byte("half")); err != nil {
			return err
		}
	}
	return sleep(ctx, ms-ms/2)
}

// cleanup works for the message's cleanup time, then records that it ran
// to its end.
func cleanup(ctx context.Context, msg *sqsdispatch.Message, cause sqsdispatch.Cause) error {
	d, err := open(msg)
	if err != nil {
		return err
	}
	if err := sleep(ctx, d.body.CleanupMillis); err != nil {
		return err
	}
	return d.record(ledger.EventCleanup, func(r *ledger.Record) {
		r.Attempt, r.Reason, r.ChildRunning = cause.Attempt, cause.Reason, cause.ChildRunning
	})
}

func sleep(ctx context.Context, ms int) error {
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
