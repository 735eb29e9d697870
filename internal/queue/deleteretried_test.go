package queue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// runDeleteRetried runs DeleteRetried with deletes answered by fail (the
// try's number, from 1) and the fake clock advanced whenever it waits. It
// returns the deletes made, the failures told, how far the clock moved,
// and the error.
func runDeleteRetried(t *testing.T, window time.Duration, fail func(try int) error) (deletes, told int, moved time.Duration, err error) {
	t.Helper()
	b := setup(t, Config{})
	var n atomic.Int32
	b.client.del = func(context.Context, *sqs.DeleteMessageInput) error { return fail(int(n.Add(1))) }
	done := make(chan error, 1)
	go func() {
		done <- b.q.DeleteRetried(b.ctx, queueURL("src"), "r-1", "m-1", DeleteRetry{
			Until: testStart.Add(window), PerCall: 10 * time.Second,
			Failed: func(int, error) { told++ },
		})
	}()
	for {
		select {
		case err = <-done:
			return int(n.Load()), told, b.clock.Now().Sub(testStart), err
		case <-b.clock.TimerArmed():
			b.clock.Advance(BackoffMax)
		case <-b.ctx.Done():
			t.Fatal("DeleteRetried did not return")
		}
	}
}

func TestDeleteRetriedTriesUntilADeleteSucceeds(t *testing.T) {
	t.Parallel()
	deletes, told, _, err := runDeleteRetried(t, 5*time.Minute, func(try int) error {
		if try <= 3 {
			return apiError("ServiceUnavailable")
		}
		return nil
	})
	if err != nil || deletes != 4 || told != 3 {
		t.Errorf("err %v after %d deletes, %d failures told; want success on the 4th, 3 told", err, deletes, told)
	}
}

func TestDeleteRetriedStopsAtAnErrorThatWillNotGoAway(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"ReceiptHandleIsInvalid", "AccessDenied"} {
		deletes, _, _, err := runDeleteRetried(t, 5*time.Minute, func(int) error { return apiError(code) })
		if err == nil || deletes != 1 {
			t.Errorf("%s: err %v after %d deletes; want the error after one", code, err, deletes)
		}
	}
}

func TestDeleteRetriedGivesUpWhenTheHideEnds(t *testing.T) {
	t.Parallel()
	const window = 2 * time.Minute
	unavailable := apiError("ServiceUnavailable")
	deletes, told, moved, err := runDeleteRetried(t, window, func(int) error { return unavailable })
	if !errors.Is(err, unavailable) {
		t.Errorf("err = %v; want the last failure", err)
	}
	if deletes < 5 || told != deletes-1 {
		t.Errorf("%d deletes, %d failures told; want several tries, each but the last told", deletes, told)
	}
	if moved > window+BackoffMax {
		t.Errorf("the tries went on for %s; want them over by the end of the %s hide", moved, window)
	}
}
