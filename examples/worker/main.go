// Command worker is a service-shaped sqsdispatch worker: two job kinds
// routed by the "job" message attribute, one of them a typed JSON job with
// a cleanup handler, run by Dispatcher.Run until a stop signal.
//
// With QUEUE_URL set it consumes that queue with the standard AWS
// configuration (AWS_REGION, credentials, and AWS_ENDPOINT_URL_SQS for an
// SQS-compatible server). Without it, it starts a local server, sends a few
// demo messages, and stops itself while the long job runs, to show the
// cleanup. SHUTDOWN_GRACE, CLEANUP_TIMEOUT, CONCURRENCY, MAX_JOBS,
// MAX_LIFETIME and SUBREAPER set the dispatcher's settings of those names (see
// workerenv); -stop-budget prints the stop budget they make and exits.
//
//	go run ./examples/worker
//	CLEANUP_TIMEOUT=15s SHUTDOWN_GRACE=30s go run ./examples/worker -stop-budget
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/examples/worker/workerenv"
	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// Thumbnail is the payload of the "thumbnail" job.
type Thumbnail struct {
	Image string `json:"image"`
	Width int    `json:"width"`
}

// Transcode is the payload of the "transcode" job.
type Transcode struct {
	Video string `json:"video"`
}

func registry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	reg.Register("thumbnail", sqsdispatch.JSONJob(thumbnail))
	reg.Handle(sqsdispatch.Job{
		Name:    "transcode",
		Run:     sqsdispatch.JSONJob(transcode, sqsdispatch.Strict()),
		Cleanup: cleanupTranscode,
		Timeout: time.Hour,
	})
	return reg
}

func thumbnail(_ context.Context, t Thumbnail, _ *sqsdispatch.Message) error {
	fmt.Printf("  [job pid %d] thumbnail of %s at %dpx\n", os.Getpid(), t.Image, t.Width)
	return nil
}

// partial is where transcode writes until it finishes.
func partial(msgID string) string { return filepath.Join(os.TempDir(), "transcode-"+msgID+".part") }

func transcode(ctx context.Context, t Transcode, msg *sqsdispatch.Message) error {
	fmt.Printf("  [job pid %d] transcoding %s (writing %s)\n", os.Getpid(), t.Video, partial(msg.ID))
	if err := os.WriteFile(partial(msg.ID), []byte("partial output"), 0o644); err != nil {
		return err
	}
	select {
	case <-time.After(20 * time.Second):
		return os.Remove(partial(msg.ID))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cleanupTranscode runs in a process of its own while the transcode job is
// suspended, and removes its partial output.
func cleanupTranscode(_ context.Context, msg *sqsdispatch.Message, cause sqsdispatch.Cause) error {
	fmt.Printf("  [cleanup pid %d] attempt %d (%s, job alive: %t): removing %s\n",
		os.Getpid(), cause.Attempt, cause.Reason, cause.ChildRunning, partial(msg.ID))
	if err := os.Remove(partial(msg.ID)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

func main() {
	reg := registry()
	sqsdispatch.Init(reg) // in a child: runs the job or cleanup and exits

	stopBudget := flag.Bool("stop-budget", false, "print the stop budget of the settings in the environment and exit")
	flag.Parse()
	if *stopBudget {
		if err := printStopBudget(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(2)
		}
		return
	}
	cfg, err := workerenv.Apply(sqsdispatch.Config{
		Registry: reg,
		Route:    sqsdispatch.RouteByAttribute("job"),
		Retry:    sqsdispatch.ExponentialBackoff{Base: 30 * time.Second, Max: 10 * time.Minute, Jitter: 0.2},
	}, os.Getenv)
	if err != nil {
		sqsdispatch.Exit(err)
	}

	log, _ := zap.NewDevelopment()
	ctx := context.Background()
	var (
		client   *sqs.Client
		queueURL = os.Getenv("QUEUE_URL")
		stop     = func() {}
	)
	if queueURL != "" {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			sqsdispatch.Exit(err)
		}
		client = sqs.NewFromConfig(awsCfg)
	} else {
		srv, c, url, err := demo(ctx)
		if err != nil {
			sqsdispatch.Exit(err)
		}
		defer srv.Close()
		client, queueURL = c, url
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		stop = func() { time.AfterFunc(3*time.Second, cancel) }
	}
	cfg.Client, cfg.QueueURL = client, queueURL
	cfg.Logger = log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))
	d, err := sqsdispatch.New(cfg)
	if err != nil {
		sqsdispatch.Exit(err)
	}
	stop() // demo only: stop 3 s in, while the transcode job runs
	err = d.Run(ctx)
	fmt.Println("worker stopped:", err)
	sqsdispatch.Exit(err)
}

// demo starts a local server, creates a queue and sends demo messages.
func demo(ctx context.Context) (*fauxqs.Server, *sqs.Client, string, error) {
	fmt.Println("no QUEUE_URL: starting a local SQS-compatible server for a demo")
	srv, err := fauxqs.Start(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	client, err := srv.Client(ctx)
	if err != nil {
		srv.Close()
		return nil, nil, "", err
	}
	q, err := fauxqs.CreateQueues(ctx, client, fauxqs.QueueSpec{Name: "worker-demo", MaxReceiveCount: 5, WaitSeconds: 1})
	if err != nil {
		srv.Close()
		return nil, nil, "", err
	}
	send := func(job string, v any) error {
		body, _ := json.Marshal(v)
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body)),
			MessageAttributes: map[string]types.MessageAttributeValue{"job": {DataType: aws.String("String"), StringValue: aws.String(job)}}})
		return err
	}
	for _, m := range []struct {
		job string
		v   any
	}{{"thumbnail", Thumbnail{"cat.jpg", 128}}, {"thumbnail", Thumbnail{"dog.png", 256}}, {"transcode", Transcode{"talk.mp4"}}} {
		if err := send(m.job, m.v); err != nil {
			srv.Close()
			return nil, nil, "", err
		}
	}
	return srv, client, q.URL, nil
}
