package child

import "time"

// ReapAdoptedOnce lets the tests run one scan of ReapAdopted, which has
// seen no zombie before.
func ReapAdoptedOnce() { newReaper().scan(time.Now()) }
