package ledger

import (
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/proctab"
)

func TestParse(t *testing.T) {
	t.Parallel()
	start := Record{Event: EventStart, Key: "m00001", MessageID: "id-1", ReceiveCount: 1,
		Proc: proctab.ID{PID: 10, Start: 5}, Dispatcher: proctab.ID{PID: 9, Start: 4}, Mono: 7}
	done := start
	done.Event = EventDone
	tests := []struct {
		name     string
		in       string
		wantRecs []Record
		wantBad  int
	}{
		{name: "empty", in: ""},
		{name: "records", in: string(start.Encode()) + string(done.Encode()), wantRecs: []Record{start, done}},
		{name: "blank lines skipped", in: "\n" + string(start.Encode()) + "\n\n", wantRecs: []Record{start}},
		{name: "torn last line", in: string(start.Encode()) + `{"ev":"done","key":"m0`, wantRecs: []Record{start}, wantBad: 1},
		{name: "not json", in: "hello\n" + string(done.Encode()), wantRecs: []Record{done}, wantBad: 1},
		{name: "no event or key", in: `{"ev":"start"}` + "\n" + `{"key":"m1"}` + "\n", wantBad: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs, bad, err := Parse(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(tc.wantRecs) {
				t.Fatalf("got %d records %+v, want %d", len(recs), recs, len(tc.wantRecs))
			}
			for i := range recs {
				if recs[i] != tc.wantRecs[i] {
					t.Errorf("record %d = %+v, want %+v", i, recs[i], tc.wantRecs[i])
				}
			}
			if len(bad) != tc.wantBad {
				t.Errorf("got %d bad lines %q, want %d", len(bad), bad, tc.wantBad)
			}
		})
	}
}
