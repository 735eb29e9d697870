package sqsdispatch

import (
	"context"
	"sync"

	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/internal/child"
	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
)

// becomeSubreaper makes this process the reaper of its orphaned
// descendants while Run runs (Config.Subreaper), and reaps every process it
// adopts until ctx ends.
func (d *Dispatcher) becomeSubreaper(ctx context.Context, wg *sync.WaitGroup) {
	if err := proc.BecomeSubreaper(); err != nil {
		d.log.Warn("cannot become a child subreaper", zap.Error(err))
		return
	}
	wg.Go(func() { child.ReapAdopted(ctx) })
}
