package chaos

import (
	"fmt"
	"math/rand/v2"

	"github.com/sqsdispatch/go-sqsdispatch/internal/chaos/ledger"
)

// Streams of the seeded generators: each use draws from its own, so that
// a change to one leaves the other's decisions as they were.
const (
	streamMessages = 1
	streamChaos    = 2
)

// Plan returns the bodies of n messages, their jobs drawn from seed: most
// short (20–200 ms), some failing their first delivery, some longer than
// the visibility timeout (5–8 s), some leaving a grandchild behind; every
// cleanup takes 20 ms to 1 s, long enough to be interrupted in turn.
func Plan(seed uint64, n int) []ledger.Body {
	rng := rand.New(rand.NewPCG(seed, streamMessages))
	between := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	bodies := make([]ledger.Body, n)
	for i := range bodies {
		b := ledger.Body{Key: fmt.Sprintf("m%05d", i)}
		switch p := rng.IntN(100); {
		case p < 60:
			b.Kind, b.Millis = ledger.KindShort, between(20, 200)
		case p < 75:
			b.Kind, b.Millis = ledger.KindFailFirst, between(20, 200)
		case p < 85:
			b.Kind, b.Millis = ledger.KindLong, between(5000, 8000)
		default:
			b.Kind, b.Millis = ledger.KindGrandchild, between(500, 3000)
		}
		b.CleanupMillis = between(20, 1000)
		bodies[i] = b
	}
	return bodies
}
