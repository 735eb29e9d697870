package sqsdispatchtest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// Producers and consumers share one client; every message is consumed
// and nothing is left behind.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	const producers, perProducer, consumers = 4, 50, 4
	c := sqsdispatchtest.NewClient()
	url := createQueue(t, c, "q", nil)
	// Bounds the test should something go wrong.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	done := make(chan struct{})
	for p := range producers {
		wg.Go(func() {
			for i := range perProducer {
				if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url),
					MessageBody: aws.String(fmt.Sprintf("%d-%d", p, i))}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var consumersWG sync.WaitGroup
	for range consumers {
		consumersWG.Go(func() {
			for {
				select {
				case <-done:
					return
				case <-ctx.Done():
					return
				default:
				}
				out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
					MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					if ctx.Err() == nil {
						t.Error(err)
					}
					return
				}
				for _, m := range out.Messages {
					if err := deleteMessage(t.Context(), c, url, aws.ToString(m.ReceiptHandle)); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[aws.ToString(m.Body)] {
						t.Errorf("%s delivered twice", aws.ToString(m.Body))
					}
					seen[aws.ToString(m.Body)] = true
					if len(seen) == producers*perProducer {
						close(done)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	consumersWG.Wait()
	if len(seen) != producers*perProducer {
		t.Errorf("consumed %d messages, want %d", len(seen), producers*perProducer)
	}
	wantCounts(t, c, url, 0, 0)
	if ms := c.Messages(url); len(ms) != 0 {
		t.Errorf("%d messages left behind", len(ms))
	}
}
