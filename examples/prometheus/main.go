// Command prometheus exports sqsdispatch's metrics hook to Prometheus.
//
// Without QUEUE_URL it runs a demo against a local SQS-compatible server
// that it starts itself: it processes a few messages, then prints the
// sqsdispatch_ lines of its own /metrics page. With -serve it keeps serving
// /metrics until interrupted.
//
//	cd examples/prometheus && go run .
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func registry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	reg.Register("ok", func(context.Context, *sqsdispatch.Message) error { return nil })
	reg.Register("bad", func(context.Context, *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(errors.New("malformed order"))
	})
	return reg
}

func main() {
	reg := registry()
	sqsdispatch.Init(reg)
	listen := flag.String("listen", "127.0.0.1:0", "address of the /metrics endpoint")
	serve := flag.Bool("serve", false, "keep serving /metrics after the demo, until interrupted")
	flag.Parse()
	if err := run(context.Background(), reg, *listen, *serve, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus example:", err)
		os.Exit(1)
	}
}

// run processes demo messages with Prometheus metrics and prints them.
func run(ctx context.Context, reg *sqsdispatch.Registry, listen string, serve bool, out io.Writer) error {
	promReg := prometheus.NewRegistry()
	metrics := newPromMetrics(promReg)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srvHTTP := &http.Server{Handler: promhttp.HandlerFor(promReg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go srvHTTP.Serve(ln)
	defer srvHTTP.Close()
	url := "http://" + ln.Addr().String() + "/metrics"
	fmt.Fprintln(out, "serving", url)

	sqsSrv, err := fauxqs.Start(ctx)
	if err != nil {
		return err
	}
	defer sqsSrv.Close()
	client, err := sqsSrv.Client(ctx)
	if err != nil {
		return err
	}
	q, err := fauxqs.CreateQueues(ctx, client, fauxqs.QueueSpec{Name: "prometheus-demo", MaxReceiveCount: 3})
	if err != nil {
		return err
	}
	jobs := []string{"ok", "ok", "bad", "ok", "ok"}
	for _, job := range jobs {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String("{}"),
			MessageAttributes: map[string]types.MessageAttributeValue{"job": {DataType: aws.String("String"), StringValue: aws.String(job)}}}); err != nil {
			return err
		}
	}
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: client, QueueURL: q.URL, Registry: reg,
		Route: sqsdispatch.RouteByAttribute("job"), Metrics: metrics, Concurrency: 2, MaxJobs: len(jobs), WaitTime: time.Second,
		BacklogInterval: 100 * time.Millisecond})
	if err != nil {
		return err
	}
	if err := d.Run(ctx); !errors.Is(err, sqsdispatch.ErrRetired) {
		return err
	}
	if err := printMetrics(out, url); err != nil {
		return err
	}
	if serve {
		fmt.Fprintln(out, "serving until interrupted")
		select {}
	}
	return nil
}

// printed are the metrics printMetrics prints.
var printed = []string{"sqsdispatch_jobs_total", "sqsdispatch_dead_lettered_total", "sqsdispatch_messages_received_total",
	"sqsdispatch_child_spawn_seconds_count", "sqsdispatch_slots", "sqsdispatch_messages_in_flight", "sqsdispatch_queue_messages",
	"sqsdispatch_backlog_per_dispatcher"}

// printMetrics fetches the /metrics page and prints its sqsdispatch lines.
func printMetrics(out io.Writer, url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, name := range printed {
			if strings.HasPrefix(line, name) {
				fmt.Fprintln(out, line)
				break
			}
		}
	}
	return sc.Err()
}
