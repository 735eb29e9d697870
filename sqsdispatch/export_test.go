package sqsdispatch

import "time"

// SetAgeLimit shortens SQS's 12-hour limit on a message's visibility to
// maxAge for the dispatcher built from c: jobs are interrupted margin
// before it, and a continuation needs the original hidden for hideMin.
func SetAgeLimit(c *Config, maxAge, margin, hideMin time.Duration) {
	c.setAgeLimit(maxAge, margin, hideMin)
}
