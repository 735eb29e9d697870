package sqsdispatch

import "time"

// SetAgeLimit shortens SQS's 12-hour limit on a message's visibility to
// maxAge for the dispatcher built from c, and interrupts jobs margin
// before it.
func SetAgeLimit(c *Config, maxAge, margin time.Duration) {
	c.maxAge, c.ageLimitMargin = maxAge, margin
}
