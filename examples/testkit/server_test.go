package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// The service as it runs in production, against a local SQS-compatible
// server: Run takes both messages, the thumbnail is made, the missing
// image is dead-lettered with the reason, and the queue ends empty. Not
// parallel: it sets THUMBS_DIR.
func TestServiceWithALocalServer(t *testing.T) {
	images := imageServer(t)
	t.Setenv("THUMBS_DIR", t.TempDir())
	srv := sqsdispatchtest.StartServer(t)
	q := srv.CreateQueue(t, "jobs", sqsdispatchtest.MaxReceiveCount(3), sqsdispatchtest.WaitSeconds(1))
	resize := map[string]sqsdispatch.MessageAttribute{"job": {DataType: "String", StringValue: "resize"}}
	srv.Send(t, q.URL, sqsdispatchtest.Message{Body: images.URL + "/cat.png", Attributes: resize})
	srv.Send(t, q.URL, sqsdispatchtest.Message{Body: images.URL + "/dog.png", Attributes: resize})

	cfg := dispatcherConfig(registry())
	cfg.Client, cfg.QueueURL = srv.Client(), q.URL
	d, err := sqsdispatch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()

	dl := srv.WaitDeadLetter(t, q.DLQURL)
	srv.WaitEmpty(t, q.URL)
	stop()
	if err := <-ran; !errors.Is(err, sqsdispatch.ErrStopped) {
		t.Errorf("Run = %v, want it stopped", err)
	}
	if dl.Body != images.URL+"/dog.png" || dl.Job != "resize" || !strings.Contains(dl.Reason, "not found") {
		t.Errorf("dead letter %q (job %q, reason %q), want the missing dog.png, not found", dl.Body, dl.Job, dl.Reason)
	}
	if _, err := os.Stat(thumbnailPath("cat")); err != nil {
		t.Errorf("no thumbnail of cat.png: %v", err)
	}
}
