package sqsdispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// order is the value the typed test jobs decode.
type order struct {
	ID    string   `json:"id"`
	Items []string `json:"items"`
	Note  string   `json:"note"`
}

// registerJobAPIJobs adds the routing, typed and retry test jobs.
func registerJobAPIJobs(reg *sqsdispatch.Registry) {
	reg.Register("resize", func(_ context.Context, m *sqsdispatch.Message) error {
		return os.WriteFile(outFile(m.ID, "ran"), []byte("resize"), 0o644)
	})
	reg.Register("email", func(_ context.Context, m *sqsdispatch.Message) error {
		return os.WriteFile(outFile(m.ID, "ran"), []byte("email"), 0o644)
	})
	reg.Register("order", sqsdispatch.JSONJob(recordOrder))
	reg.Register("order-strict", sqsdispatch.JSONJob(recordOrder, sqsdispatch.Strict()))
	reg.Register("order-reject", sqsdispatch.JSONJob(func(ctx context.Context, o order, m *sqsdispatch.Message) error {
		if err := recordOrder(ctx, o, m); err != nil {
			return err
		}
		return sqsdispatch.Permanent(errors.New("order rejected"))
	}))
	reg.Register("retry3s", func(context.Context, *sqsdispatch.Message) error {
		return sqsdispatch.RetryAfter(3*time.Second, errors.New("upstream busy"))
	})
}

func recordOrder(_ context.Context, o order, m *sqsdispatch.Message) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return os.WriteFile(outFile(m.ID, "order"), b, 0o644)
}
