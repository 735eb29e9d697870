package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/examples/worker/workerenv"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// taskDefinition is the part of ECS's RegisterTaskDefinition input that
// task-definition.json uses; decoding refuses any other field, so a
// misspelt one fails.
type taskDefinition struct {
	Family                  string                `json:"family"`
	TaskRoleArn             string                `json:"taskRoleArn"`
	ExecutionRoleArn        string                `json:"executionRoleArn"`
	NetworkMode             string                `json:"networkMode"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities"`
	CPU                     string                `json:"cpu"`
	Memory                  string                `json:"memory"`
	ContainerDefinitions    []containerDefinition `json:"containerDefinitions"`
}

// containerDefinition is the part of a container's definition that
// task-definition.json uses.
type containerDefinition struct {
	Name        string `json:"name"`
	Image       string `json:"image"`
	Essential   bool   `json:"essential"`
	StopTimeout *int   `json:"stopTimeout"`
	Environment []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"environment"`
	LogConfiguration struct {
		LogDriver string            `json:"logDriver"`
		Options   map[string]string `json:"options"`
	} `json:"logConfiguration"`
}

// policy is an IAM policy document.
type policy struct {
	Version   string
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource any
	}
}

// decodeStrict decodes the JSON file into v, refusing unknown fields and
// anything after the object.
func decodeStrict(t *testing.T, file string, v any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if dec.More() {
		t.Fatalf("%s: more than one JSON value", file)
	}
}

// fargateMaxStopTimeout is the longest stopTimeout Fargate allows.
const fargateMaxStopTimeout = 120 * time.Second

// stopBudget is the stop budget of the configuration the worker
// (examples/worker) builds from the task definition's environment, which
// must set the settings the budget depends on.
func stopBudget(env map[string]string) (time.Duration, error) {
	for _, name := range []string{workerenv.EnvShutdownGrace, workerenv.EnvCleanupTimeout} {
		if _, ok := env[name]; !ok {
			return 0, fmt.Errorf("the task definition does not set %s: the stop budget depends on it", name)
		}
	}
	// On ECS the worker protects its task while busy: the agent's URI,
	// which turns that on, comes from ECS, not from the task definition.
	cfg, err := workerenv.Apply(sqsdispatch.Config{BusyHook: protection{}}, func(k string) string { return env[k] })
	if err != nil {
		return 0, err
	}
	return cfg.StopBudget(), nil
}

// TestStopTimeoutCoversStopBudget: ECS waits at least the worker's stop
// budget between SIGTERM and SIGKILL, within what Fargate allows.
func TestStopTimeoutCoversStopBudget(t *testing.T) {
	t.Parallel()
	var td taskDefinition
	decodeStrict(t, "task-definition.json", &td)
	i := slices.IndexFunc(td.ContainerDefinitions, func(c containerDefinition) bool {
		return c.Name == "worker"
	})
	if i < 0 {
		t.Fatal("no container named worker")
	}
	c := td.ContainerDefinitions[i]
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	budget, err := stopBudget(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.StopTimeout == nil {
		t.Fatalf("the worker has no stopTimeout: ECS's default (30 s) is shorter than its stop budget (%s)", budget)
	}
	stop := time.Duration(*c.StopTimeout) * time.Second
	if stop < budget {
		t.Errorf("stopTimeout (%s) is shorter than the stop budget (%s): jobs would be SIGKILLed before their cleanup ends", stop, budget)
	}
	if slices.Contains(td.RequiresCompatibilities, "FARGATE") && stop > fargateMaxStopTimeout {
		t.Errorf("stopTimeout (%s) is longer than Fargate allows (%s)", stop, fargateMaxStopTimeout)
	}
	if !c.Essential {
		t.Error("the worker is not essential: its task would outlive it")
	}
	for _, key := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if _, ok := env[key]; ok {
			t.Errorf("the worker is given %s: credentials come from the task role", key)
		}
	}
	if td.TaskRoleArn == "" {
		t.Error("no taskRoleArn: the worker's SQS calls and its scale-in protection need the task role")
	}
	t.Logf("stop budget %s; stopTimeout %s", budget, stop)
}

// TestStopBudgetNeedsSettings: a task definition that leaves out a
// setting the budget depends on fails, naming it.
func TestStopBudgetNeedsSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no SHUTDOWN_GRACE", map[string]string{"CLEANUP_TIMEOUT": "15s"}, "SHUTDOWN_GRACE"},
		{"no CLEANUP_TIMEOUT", map[string]string{"SHUTDOWN_GRACE": "0s"}, "CLEANUP_TIMEOUT"},
		{"not a duration", map[string]string{"SHUTDOWN_GRACE": "30", "CLEANUP_TIMEOUT": "15s"}, `SHUTDOWN_GRACE="30"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := stopBudget(tt.env); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("stopBudget(%v) = %v; want an error naming %s", tt.env, err, tt.want)
			}
		})
	}
	if d, err := stopBudget(map[string]string{"SHUTDOWN_GRACE": "30s", "CLEANUP_TIMEOUT": "15s"}); err != nil ||
		d != (sqsdispatch.Config{ShutdownGrace: 30 * time.Second, CleanupTimeout: 15 * time.Second, BusyHook: protection{}}).StopBudget() {
		t.Errorf("stopBudget = %s, %v", d, err)
	}
}

// TestTaskRoleAllowsProtection: the task role may set the task's
// scale-in protection (the container agent calls ECS with it) and use the
// queue.
func TestTaskRoleAllowsProtection(t *testing.T) {
	t.Parallel()
	var p policy
	decodeStrict(t, "task-role-policy.json", &p)
	allowed := map[string]bool{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			allowed[a] = true
		}
	}
	for _, a := range []string{
		"ecs:UpdateTaskProtection",
		"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:DeleteMessageBatch", "sqs:ChangeMessageVisibility",
		"sqs:ChangeMessageVisibilityBatch", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage",
	} {
		if !allowed[a] {
			t.Errorf("the task role policy does not allow %s", a)
		}
	}
}

// protection stands for the worker's scale-in protection hook, which it
// sets in an ECS task: it counts in the stop budget.
type protection struct{}

func (protection) SetBusy(context.Context, bool) error { return nil }
func (protection) RenewEvery() time.Duration           { return 0 }
