package sqsdispatchtest_test

import (
	"context"
	"errors"
	"fmt"
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
