package chaos

import (
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	a, b, c := Plan(7, 500), Plan(7, 500), Plan(8, 500)
	same := true
	kinds := map[ledger.Kind]int{}
	keys := map[string]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("the same seed planned message %d differently: %+v vs %+v", i, a[i], b[i])
		}
		same = same && a[i] == c[i]
		kinds[a[i].Kind]++
		keys[a[i].Key] = true
		if a[i].Kind == ledger.KindLong && a[i].Millis <= int(visibility.Milliseconds()) {
			t.Errorf("long job %+v does not outlive the visibility timeout", a[i])
		}
	}
	if same {
		t.Error("another seed planned the same messages")
	}
	if len(keys) != len(a) {
		t.Errorf("%d distinct keys for %d messages", len(keys), len(a))
	}
	for _, k := range []ledger.Kind{ledger.KindShort, ledger.KindLong, ledger.KindFailFirst, ledger.KindGrandchild} {
		if kinds[k] == 0 {
			t.Errorf("no %s job in 500 messages: %v", k, kinds)
		}
	}
	if kinds[ledger.KindShort] < len(a)/2 {
		t.Errorf("short jobs are not the most: %v", kinds)
	}
}
