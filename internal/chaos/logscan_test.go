package chaos

import (
	"strings"
	"testing"
)

func TestScanLog(t *testing.T) {
	t.Parallel()
	log := `{"level":"info","msg":"job succeeded","message_id":"m1","receive_count":1,"outcome":"success"}
not json at all
{"level":"error","msg":"lease lost; job stopped","message_id":"m2","receive_count":3,"outcome":"lease_lost"}
{"level":"info","msg":"child started","message_id":"m3"}
{"level":"info","msg":"job succeeded","message_id":"m2","receive_count":4,"outcome":"success"}
`
	var s LogSummary
	if err := s.ScanLog(strings.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if err := s.ScanLog(strings.NewReader(`{"outcome":"interrupted","message_id":"m4","receive_count":1}`)); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"success": 2, "lease_lost": 1, "interrupted": 1}
	if len(s.Outcomes) != len(want) {
		t.Errorf("outcomes = %v, want %v", s.Outcomes, want)
	}
	for k, n := range want {
		if s.Outcomes[k] != n {
			t.Errorf("outcomes[%s] = %d, want %d", k, s.Outcomes[k], n)
		}
	}
	if len(s.LeaseLost) != 1 || s.LeaseLost[0] != (Delivery{MessageID: "m2", ReceiveCount: 3}) {
		t.Errorf("lease lost = %+v", s.LeaseLost)
	}
}
