//go:build linux

package ledger

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

func TestLockIsExclusiveUntilClosed(t *testing.T) {
	t.Parallel()
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first, err := l.Lock("m00001")
	if err != nil {
		t.Fatal(err)
	}
	// A second open file description conflicts even in the same process,
	// as a second run in another process would.
	if _, err := l.Lock("m00001"); !errors.Is(err, ErrHeld) {
		t.Fatalf("second Lock: got %v, want ErrHeld", err)
	} else if !strings.Contains(err.Error(), "lock taken by pid") || !strings.Contains(err.Error(), fmt.Sprintf("pid %d ", os.Getpid())) {
		t.Errorf("the error does not describe the holders: %v", err)
	}
	other, err := l.Lock("m00002")
	if err != nil {
		t.Fatalf("another key's lock: %v", err)
	}
	other.Close()
	first.Close()
	again, err := l.Lock("m00001")
	if err != nil {
		t.Fatalf("Lock after the holder closed: %v", err)
	}
	again.Close()
}

func TestAppendFromManyWritersKeepsLinesWhole(t *testing.T) {
	t.Parallel()
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.Append(Record{Event: EventStart, Key: "k", ReceiveCount: w*each + i, Reason: strings.Repeat("x", 200)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	f, err := os.Open(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	recs, bad, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != writers*each || len(bad) != 0 {
		t.Fatalf("got %d records and %d bad lines, want %d and 0", len(recs), len(bad), writers*each)
	}
	seen := map[int]bool{}
	for _, r := range recs {
		if r.Mono == 0 {
			t.Errorf("record %d has no monotonic stamp", r.ReceiveCount)
		}
		seen[r.ReceiveCount] = true
	}
	if len(seen) != writers*each {
		t.Errorf("got %d distinct records, want %d", len(seen), writers*each)
	}
}
