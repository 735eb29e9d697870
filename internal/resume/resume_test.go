package resume

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	first := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    State
	}{
		{name: "binary checkpoint", s: State{Origin: "m-1", Seq: 3, FirstReceived: first, Runs: 2, Checkpoint: []byte{0, 1, 0xff}}},
		{name: "empty checkpoint", s: State{Origin: "m-2", Seq: 1, FirstReceived: first, Runs: 1, Checkpoint: []byte{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.s.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if got.Origin != tt.s.Origin || got.Seq != tt.s.Seq || !got.FirstReceived.Equal(first) ||
				got.Runs != tt.s.Runs || !bytes.Equal(got.Checkpoint, tt.s.Checkpoint) {
				t.Errorf("Decode(Encode(%+v)) = %+v", tt.s, got)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "not json", in: "checkpoint"},
		{name: "no origin", in: `{"seq":1}`},
		{name: "negative runs", in: `{"origin":"m","runs":-1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), Attr) {
				t.Errorf("Decode(%q) = %v, want an error naming %s", tt.in, err, Attr)
			}
		})
	}
}

func TestNext(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	first := State{}.Next("m-1", t0, 2, 3, []byte("c3"))
	if first.Origin != "m-1" || !first.FirstReceived.Equal(t0) || first.Seq != 3 || first.Runs != 2 || string(first.Checkpoint) != "c3" {
		t.Fatalf("first continuation = %+v", first)
	}
	second := first.Next("m-2", t1, 1, 2, []byte("c5"))
	if second.Origin != "m-1" || !second.FirstReceived.Equal(t0) || second.Seq != 5 || second.Runs != 3 || string(second.Checkpoint) != "c5" {
		t.Errorf("second continuation = %+v; the chain keeps its origin and first receive", second)
	}
}

func TestDedupID(t *testing.T) {
	a, b, c := DedupID("m-1", 3), DedupID("m-1", 4), DedupID("m-13", 3)
	if a == b || a == c || b == c {
		t.Errorf("DedupID collides: %s %s %s", a, b, c)
	}
	if a != DedupID("m-1", 3) {
		t.Error("DedupID is not stable")
	}
	if len(a) > 128 {
		t.Errorf("len(DedupID) = %d, SQS allows 128", len(a))
	}
}
