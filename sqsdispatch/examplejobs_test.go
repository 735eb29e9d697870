package sqsdispatch_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// The jobs of the Example functions. They are registered in the test
// registry too, because the children the examples start run TestMain's
// Init(testRegistry()).

func greet(_ context.Context, m *sqsdispatch.Message) error {
	fmt.Printf("child: hello, %s\n", m.Body)
	return nil
}

// Invoice is the typed payload of the JSONJob example.
type Invoice struct {
	Number string  `json:"number"`
	Total  float64 `json:"total"`
}

func sendInvoice(_ context.Context, inv Invoice, _ *sqsdispatch.Message) error {
	fmt.Printf("child: invoice %s for %.2f sent\n", inv.Number, inv.Total)
	return nil
}

func flaky(_ context.Context, m *sqsdispatch.Message) error {
	if m.ReceiveCount == 1 {
		fmt.Println("child: upstream busy, retry in 1s")
		return sqsdispatch.RetryAfter(time.Second, errors.New("upstream busy"))
	}
	fmt.Printf("child: done on delivery %d\n", m.ReceiveCount)
	return nil
}

func registerExampleJobs(reg *sqsdispatch.Registry) {
	reg.Register("greet", greet)
	reg.Register("invoice", sqsdispatch.JSONJob(sendInvoice))
	reg.Register("flaky", flaky)
}

// exampleQueue creates a queue (with a dead-letter queue) on the local
// server for an example.
func exampleQueue(name string) string {
	q, err := fauxqs.CreateQueues(context.Background(), client, fauxqs.QueueSpec{Name: name, MaxReceiveCount: 5})
	if err != nil {
		panic(err)
	}
	return q.URL
}
