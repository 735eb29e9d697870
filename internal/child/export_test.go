package child

// ReapAdoptedOnce lets the tests run one scan of ReapAdopted.
func ReapAdoptedOnce() { reapAdoptedOnce() }
