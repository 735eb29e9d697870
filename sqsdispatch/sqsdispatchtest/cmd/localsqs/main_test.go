package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs/fauxqstest"
	"github.com/sqsdispatch/go-sqsdispatch/internal/proc"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// envRunCommand makes the test binary run the command with its arguments.
const envRunCommand = "LOCALSQS_TEST_RUN_COMMAND"

// registry holds the jobs the tests' dispatcher runs.
func registry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	reg.Register("ok", func(context.Context, *sqsdispatch.Message) error { return nil })
	reg.Register("reject", func(_ context.Context, m *sqsdispatch.Message) error {
		return sqsdispatch.Permanent(errors.New("rejected " + m.Body))
	})
	return reg
}

func TestMain(m *testing.M) {
	if os.Getenv(envRunCommand) != "" {
		main()
	}
	sqsdispatchtest.Main(m, registry())
}

// command returns the command, run by this test binary, with args.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRunCommand+"=1")
	return cmd
}

// startTimeout bounds how long the command may take to print its
// environment, a first install of the server included.
const startTimeout = 10 * time.Minute

// startCommand starts the command with args and returns it and the
// variables its export lines set, once it printed want of them.
func startCommand(t *testing.T, want []string, args ...string) (*exec.Cmd, map[string]string, *bytes.Buffer) {
	t.Helper()
	cmd := command(t, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	env := make(chan map[string]string, 1)
	go func() {
		vars := map[string]string{}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if kv, ok := strings.CutPrefix(sc.Text(), "export "); ok {
				k, v, _ := strings.Cut(kv, "=")
				vars[k] = v
			}
			if hasAll(vars, want) {
				env <- vars
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case vars := <-env:
		return cmd, vars, stderr
	case <-time.After(startTimeout):
		t.Fatalf("the command printed no environment within %s:\n%s", startTimeout, stderr)
		return nil, nil, nil
	}
}

func hasAll(vars map[string]string, names []string) bool {
	for _, n := range names {
		if _, ok := vars[n]; !ok {
			return false
		}
	}
	return true
}

// waitExit waits for cmd to exit, for up to a minute, and returns its exit
// code.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode()
	case <-time.After(time.Minute):
		t.Fatal("the command did not exit within a minute")
		return -1
	}
}

// redrive reads the redrive policy of the queue at url.
func redrive(t *testing.T, c *sqs.Client, url string) (attrs map[string]string, dlqARN string, maxReceives int) {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatalf("GetQueueAttributes(%s): %v", url, err)
	}
	var policy struct {
		DLQ string      `json:"deadLetterTargetArn"`
		Max json.Number `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(out.Attributes["RedrivePolicy"]), &policy); err != nil {
		t.Fatalf("RedrivePolicy of %s = %q: %v", url, out.Attributes["RedrivePolicy"], err)
	}
	n, _ := strconv.Atoi(policy.Max.String())
	return out.Attributes, policy.DLQ, n
}

// queueARN returns the ARN of the queue name.
func queueARN(t *testing.T, c *sqs.Client, name string) (url, arn string) {
	t.Helper()
	u, err := c.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetQueueUrl(%s): %v", name, err)
	}
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(u.QueueUrl), out.Attributes["QueueArn"]
}

// sendWithCommand sends body with the command's send mode.
func sendWithCommand(t *testing.T, port int, queue, job, body string) {
	t.Helper()
	cmd := command(t, "send", "-port", strconv.Itoa(port), "-queue", queue, "-attr", "job="+job, body)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("localsqs send: %v\n%s", err, out)
	}
}

// The command starts the server, creates the queues with their
// dead-letter queues and redrive policies, and prints the environment; a
// service configured by that environment alone processes messages
// through it; Ctrl-C (a real SIGINT) stops it, and nothing of it is left.
// Not parallel: it sets the environment.
func TestLocalSQS(t *testing.T) {
	port := fauxqstest.FreePort(t)
	cmd, vars, stderr := startCommand(t, []string{"QUEUE_URL", "QUEUE_URL_EVENTS_FIFO"},
		"-port", strconv.Itoa(port), "-queue", "jobs", "-queue", "events.fifo", "-max-receive-count", "3")
	if want := fmt.Sprintf("http://127.0.0.1:%d", port); vars["AWS_ENDPOINT_URL_SQS"] != want {
		t.Errorf("AWS_ENDPOINT_URL_SQS = %q, want %q", vars["AWS_ENDPOINT_URL_SQS"], want)
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	awsCfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := sqs.NewFromConfig(awsCfg)

	for _, tt := range []struct{ queue, url, dlq string }{
		{queue: "jobs", url: vars["QUEUE_URL"], dlq: "jobs-dlq"},
		{queue: "events.fifo", url: vars["QUEUE_URL_EVENTS_FIFO"], dlq: "events-dlq.fifo"},
	} {
		attrs, dlqARN, maxReceives := redrive(t, c, tt.url)
		if _, arn := queueARN(t, c, tt.dlq); dlqARN != arn || maxReceives != 3 {
			t.Errorf("%s: redrive to %s after %d receives, want to %s (%s) after 3", tt.queue, dlqARN, maxReceives, tt.dlq, arn)
		}
		if fifo := strings.HasSuffix(tt.queue, ".fifo"); (attrs["FifoQueue"] == "true") != fifo {
			t.Errorf("%s: FifoQueue = %q", tt.queue, attrs["FifoQueue"])
		}
	}

	d, err := sqsdispatch.New(sqsdispatch.Config{Client: c, QueueURL: os.Getenv("QUEUE_URL"), Registry: registry(),
		Route: sqsdispatch.RouteByAttribute("job")})
	if err != nil {
		t.Fatal(err)
	}
	sendWithCommand(t, port, "jobs", "ok", "first")
	if handled, err := d.DispatchOne(t.Context()); !handled || err != nil {
		t.Fatalf("DispatchOne = %t, %v; want the message processed", handled, err)
	}
	sendWithCommand(t, port, "jobs", "reject", "second")
	var jobErr *sqsdispatch.JobError
	if handled, err := d.DispatchOne(t.Context()); !handled || !errors.As(err, &jobErr) || !jobErr.Permanent {
		t.Fatalf("DispatchOne = %t, %v; want a permanent failure", handled, err)
	}
	dlqURL, _ := queueARN(t, c, "jobs-dlq")
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), WaitTimeSeconds: 10,
		MessageAttributeNames: []string{sqsdispatch.AttrReason}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].MessageAttributes[sqsdispatch.AttrReason].StringValue) != "rejected second" {
		t.Fatalf("the dead-letter queue holds %+v (%v), want the rejected message", out, err)
	}

	server := serverProcess(t, cmd.Process.Pid)
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != 0 || !strings.Contains(stderr.String(), "localsqs: stopped") {
		t.Errorf("after SIGINT: exit code %d, stderr:\n%s\nwant 0 and a line saying it stopped", code, stderr)
	}
	fauxqstest.WaitGone(t, server)
	if proc.GroupExists(server) {
		t.Errorf("processes of the server's group %d are left", server)
	}
	if conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		conn.Close()
		t.Errorf("port %d still answers", port)
	}
}

// serverProcess returns the pid of the server the command with pid
// started: its one child process.
func serverProcess(t *testing.T, pid int) int {
	t.Helper()
	children := proc.Children(pid)
	if len(children) != 1 {
		t.Fatalf("the command has children %v, want the server alone", children)
	}
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", children[0])); strings.TrimSpace(string(comm)) != "node" {
		t.Fatalf("the command's child %d is %q, want node", children[0], comm)
	}
	return children[0]
}

// A second command on a port in use says so and exits with an error.
func TestLocalSQSPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	out, err := command(t, "-port", strconv.Itoa(port), "-queue", "jobs").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "EADDRINUSE") {
		t.Errorf("localsqs on a port in use: %v\n%s\nwant exit code 1 and a message saying the address is in use", err, out)
	}
}

func TestQueueVar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, queue string
		first       bool
		want        string
	}{
		{name: "the first queue", queue: "jobs", first: true, want: "QUEUE_URL"},
		{name: "another queue", queue: "reports", want: "QUEUE_URL_REPORTS"},
		{name: "a FIFO queue with a dash", queue: "high-prio.fifo", want: "QUEUE_URL_HIGH_PRIO_FIFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := queueVar(tt.queue, tt.first); got != tt.want {
				t.Errorf("queueVar(%q, %t) = %q, want %q", tt.queue, tt.first, got, tt.want)
			}
		})
	}
}

// Bad flags are refused with the usage, before anything starts.
func TestLocalSQSRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown flag", args: []string{"-queues", "jobs"}, want: "flag provided but not defined"},
		{name: "stray argument", args: []string{"jobs"}, want: `unexpected argument "jobs"`},
		{name: "maxReceiveCount out of range", args: []string{"-max-receive-count", "0"}, want: "-max-receive-count must be 1 to 1000"},
		{name: "send without a queue", args: []string{"send", "body"}, want: "usage: localsqs send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(t.Context(), tt.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("run(%q) = %d, stderr:\n%s\nwant 2 and %q", tt.args, code, stderr.String(), tt.want)
			}
		})
	}
}
