package sqsdispatchtest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// thumbnailJobs registers the example's job. The test binary's TestMain
// registers it too, in the registry it passes to sqsdispatch.Init first
// thing, so that the child processes RunJob starts can run it:
//
//	func TestMain(m *testing.M) {
//		sqsdispatch.Init(registry())
//		os.Exit(m.Run())
//	}
func thumbnailJobs(reg *sqsdispatch.Registry) {
	reg.Register("thumbnail", thumbnail)
}

// thumbnail makes a thumbnail of the image named by the message body.
func thumbnail(ctx context.Context, msg *sqsdispatch.Message) error {
	switch {
	case !strings.HasSuffix(msg.Body, ".png"):
		return sqsdispatch.Permanent(fmt.Errorf("%q is not a PNG image", msg.Body))
	case msg.Body == "busy.png":
		return sqsdispatch.RetryAfter(30*time.Second, errors.New("image store is busy"))
	}
	return nil // ... resize it ...
}

func ExampleRunJob() {
	reg := sqsdispatch.NewRegistry()
	thumbnailJobs(reg)
	cfg := sqsdispatch.Config{Registry: reg, Job: "thumbnail"}

	for _, body := range []string{"cat.png", "cat.gif", "busy.png"} {
		out, err := sqsdispatchtest.RunJob(context.Background(), cfg, sqsdispatchtest.Message{Body: body})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %s\n", body, out)
	}
	// Output:
	// cat.png: deleted
	// cat.gif: dead-lettered ("cat.gif" is not a PNG image)
	// busy.png: given back, visible after 30s
}

// countJobs registers the checkpoint example's job (TestMain's registry
// holds it too). It does units of work from the message's checkpoint on,
// recording a checkpoint after each; after unit 41 it waits to be
// stopped.
func countJobs(reg *sqsdispatch.Registry) {
	reg.Register("count", func(ctx context.Context, msg *sqsdispatch.Message) error {
		n, _ := strconv.Atoi(string(msg.Checkpoint))
		for ; n < 42; n++ {
			// ... unit n of the work ...
			if err := sqsdispatch.Checkpoint(ctx, []byte(strconv.Itoa(n+1))); err != nil {
				return err
			}
		}
		<-ctx.Done() // the rest takes longer than the example waits
		return ctx.Err()
	})
}

// A job that checkpoints resumes from Message.Checkpoint. Stopped after
// it recorded a checkpoint, its message is continued: replaced by a copy
// that carries the checkpoint, from which the next run resumes.
func ExampleRunJob_checkpoint() {
	reg := sqsdispatch.NewRegistry()
	countJobs(reg)
	cfg := sqsdispatch.Config{Registry: reg, Job: "count"}
	out, err := sqsdispatchtest.RunJob(context.Background(), cfg,
		sqsdispatchtest.Message{Body: "count", Checkpoint: []byte("40")},
		sqsdispatchtest.StopAfter(3*time.Second))
	if err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// continued from checkpoint "42"
}
