package sqsdispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// procConfig configures a dispatcher run in a process of its own.
type procConfig struct {
	Queue          string        `json:"queue"`
	Job            string        `json:"job"`
	Visibility     time.Duration `json:"visibility"`
	CleanupTimeout time.Duration `json:"cleanup_timeout"`
	ShutdownGrace  time.Duration `json:"shutdown_grace"`
}

// runDispatcherProcess is the body of a test binary started as a
// dispatcher: it runs until a signal stops it and exits as that signal.
func runDispatcherProcess() {
	var pc procConfig
	if err := json.Unmarshal([]byte(os.Getenv(envRunProc)), &pc); err != nil {
		sqsdispatch.Exit(err)
	}
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		sqsdispatch.Exit(err)
	}
	c := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(os.Getenv(envEndpoint)) })
	log, _ := zap.NewDevelopment()
	d, err := sqsdispatch.New(sqsdispatch.Config{Client: c, QueueURL: pc.Queue, Registry: testRegistry(), Job: pc.Job,
		VisibilityTimeout: pc.Visibility, CleanupTimeout: pc.CleanupTimeout, ShutdownGrace: pc.ShutdownGrace,
		WaitTime: time.Second, KillGrace: time.Second, Logger: log})
	if err != nil {
		sqsdispatch.Exit(err)
	}
	err = d.Run(ctx)
	log.Info("Run returned", zap.Error(err))
	sqsdispatch.Exit(err)
}

// dispatcherProc is a dispatcher running in a child process of the test.
type dispatcherProc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

// startDispatcherProcess starts the test binary as a dispatcher.
func startDispatcherProcess(t *testing.T, pc procConfig) *dispatcherProc {
	t.Helper()
	b, _ := json.Marshal(pc)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envRunProc+"="+string(b))
	p := &dispatcherProc{cmd: cmd, logs: new(bytes.Buffer), done: make(chan struct{})}
	cmd.Stderr = &syncWriter{w: p.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("dispatcher process output:\n%s", p.output())
		}
	})
	return p
}

func (p *dispatcherProc) output() string {
	return p.cmd.Stderr.(*syncWriter).String()
}

// wait waits for the process to end and returns its state.
func (p *dispatcherProc) wait(t *testing.T, within time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState
	case <-time.After(within):
		t.Fatalf("dispatcher process still running after %s", within)
		return nil
	}
}

func (p *dispatcherProc) pid() int { return p.cmd.Process.Pid }

func (p *dispatcherProc) String() string { return fmt.Sprintf("dispatcher pid %d", p.pid()) }
