package ecsprotect

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// A Protector is a BusyHook.
var _ sqsdispatch.BusyHook = (*Protector)(nil)

const taskArn = "arn:aws:ecs:eu-west-1:123456789012:task/workers/0123456789abcdef"

// TestSetBusy: each call is the PUT the agent expects, and each form of
// the agent's answer is understood.
func TestSetBusy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		busy    bool
		status  int
		answer  string
		wantErr string // a part of the error; "" for success
		want    *Error // the *Error expected, if any
	}{
		{
			name: "protect", busy: true, status: http.StatusOK,
			answer: `{"protection":{"ExpirationDate":"2026-01-01T00:10:00Z","ProtectionEnabled":true,"TaskArn":"` + taskArn + `"}}`,
		},
		{
			name: "unprotect", busy: false, status: http.StatusOK,
			answer: `{"protection":{"ExpirationDate":null,"ProtectionEnabled":false,"TaskArn":"` + taskArn + `"}}`,
		},
		{
			name: "ECS failure: not a service's task", busy: true, status: http.StatusOK,
			answer:  `{"failure":{"Arn":"` + taskArn + `","Detail":null,"Reason":"TASK_NOT_VALID"}}`,
			wantErr: "ECS failure TASK_NOT_VALID",
			want:    &Error{StatusCode: 200, Reason: "TASK_NOT_VALID", Arn: taskArn, Busy: true},
		},
		{
			name: "ECS failure with a detail", busy: false, status: http.StatusOK,
			answer:  `{"failure":{"Arn":"` + taskArn + `","Detail":"task is stopping","Reason":"MISSING"}}`,
			wantErr: "ECS failure MISSING: task is stopping",
			want:    &Error{StatusCode: 200, Reason: "MISSING", Message: "task is stopping", Arn: taskArn},
		},
		{
			name: "no task role", busy: true, status: http.StatusForbidden,
			answer:  `{"error":{"Arn":"` + taskArn + `","Code":"AccessDeniedException","Message":"Invalid Request: no task IAM role credentials available for task"}}`,
			wantErr: "AccessDeniedException: Invalid Request: no task IAM role credentials available for task",
			want: &Error{StatusCode: 403, Code: "AccessDeniedException", Arn: taskArn, Busy: true,
				Message: "Invalid Request: no task IAM role credentials available for task"},
		},
		{
			name: "ECS refused the call", busy: true, status: http.StatusBadRequest,
			answer:  `{"requestID":"8d2e4c1a","error":{"Arn":"` + taskArn + `","Code":"AccessDeniedException","Message":"not authorized to perform: ecs:UpdateTaskProtection"}}`,
			wantErr: "(request 8d2e4c1a)",
			want: &Error{StatusCode: 400, Code: "AccessDeniedException", Arn: taskArn, RequestID: "8d2e4c1a", Busy: true,
				Message: "not authorized to perform: ecs:UpdateTaskProtection"},
		},
		{
			name: "agent timed out calling ECS", busy: false, status: http.StatusGatewayTimeout,
			answer:  `{"error":{"Arn":"` + taskArn + `","Code":"RequestCanceled","Message":"Timed out calling ECS Task Protection API"}}`,
			wantErr: "RequestCanceled",
			want: &Error{StatusCode: 504, Code: "RequestCanceled", Arn: taskArn,
				Message: "Timed out calling ECS Task Protection API"},
		},
		{
			name: "task not found", busy: true, status: http.StatusNotFound,
			answer:  `{"error":{"Code":"ResourceNotFoundException","Message":"Failed to find a task for the request"}}`,
			wantErr: "ResourceNotFoundException",
			want:    &Error{StatusCode: 404, Code: "ResourceNotFoundException", Message: "Failed to find a task for the request", Busy: true},
		},
		{
			name: "not JSON, not 200", busy: true, status: http.StatusBadGateway,
			answer:  "bad gateway",
			wantErr: "HTTP 502: bad gateway",
			want:    &Error{StatusCode: 502, Message: "bad gateway", Busy: true},
		},
		{name: "not JSON, 200", busy: true, status: http.StatusOK, answer: "<html>", wantErr: "not JSON"},
		{name: "no protection", busy: true, status: http.StatusOK, answer: `{}`, wantErr: "has no protection"},
		{
			name: "protection not as asked", busy: true, status: http.StatusOK,
			answer:  `{"protection":{"ExpirationDate":null,"ProtectionEnabled":false,"TaskArn":"` + taskArn + `"}}`,
			wantErr: "the agent says protection is false",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			agent := startAgent(t, tt.status, tt.answer)
			p, err := New(Config{AgentURI: agent.uri(), Expires: 20 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			err = p.SetBusy(context.Background(), tt.busy)
			checkRequest(t, agent.only(t), tt.busy, 20)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("SetBusy(%t) = %v; want nil", tt.busy, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "sqsdispatch: ") {
				t.Fatalf("SetBusy(%t) = %v; want an error saying %q", tt.busy, err, tt.wantErr)
			}
			var e *Error
			if got := errors.As(err, &e); got != (tt.want != nil) {
				t.Fatalf("errors.As(%v, *Error) = %t; want %t", err, got, tt.want != nil)
			}
			if tt.want != nil && *e != *tt.want {
				t.Errorf("error %+v; want %+v", *e, *tt.want)
			}
		})
	}
}

// TestSetBusyUnreachable: an agent that does not answer, or a context
// that ends, is an error wrapping the cause.
func TestSetBusyUnreachable(t *testing.T) {
	t.Parallel()
	t.Run("context ended", func(t *testing.T) {
		t.Parallel()
		agent := startAgent(t, http.StatusOK, `{"protection":{"ProtectionEnabled":true}}`)
		p, err := New(Config{AgentURI: agent.uri()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.SetBusy(ctx, true); !errors.Is(err, context.Canceled) {
			t.Errorf("SetBusy with an ended context = %v; want context.Canceled", err)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		t.Parallel()
		agent := startAgent(t, http.StatusOK, "")
		uri := agent.uri()
		agent.srv.Close()
		p, err := New(Config{AgentURI: uri})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetBusy(context.Background(), false); err == nil || !strings.HasPrefix(err.Error(), "sqsdispatch: ecsprotect: ") {
			t.Errorf("SetBusy with no agent = %v; want an error", err)
		}
	})
}

// TestNew: the endpoint comes from Config.AgentURI or ECS_AGENT_URI; a
// bad configuration fails, naming what is wrong.
func TestNew(t *testing.T) {
	t.Run("not on ECS", func(t *testing.T) {
		t.Setenv(EnvAgentURI, "")
		_, err := New(Config{})
		if !errors.Is(err, ErrNotOnECS) {
			t.Fatalf("New without ECS_AGENT_URI = %v; want ErrNotOnECS", err)
		}
		if !strings.Contains(err.Error(), "ECS_AGENT_URI is not set") {
			t.Errorf("error %q does not say what is missing", err)
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv(EnvAgentURI, "http://169.254.170.2/api/abc-123")
		p, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Endpoint(), "http://169.254.170.2/api/abc-123/task-protection/v1/state"; got != want {
			t.Errorf("Endpoint() = %s; want %s", got, want)
		}
	})
	t.Run("configured wins over the environment", func(t *testing.T) {
		t.Setenv(EnvAgentURI, "http://169.254.170.2/api/abc-123")
		p, err := New(Config{AgentURI: "http://127.0.0.1:51678/api/x/"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Endpoint(), "http://127.0.0.1:51678/api/x/task-protection/v1/state"; got != want {
			t.Errorf("Endpoint() = %s; want %s", got, want)
		}
	})
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		renew   time.Duration
	}{
		{name: "defaults", cfg: Config{}, renew: ExpiresDefault / 2},
		{name: "shortest", cfg: Config{Expires: time.Minute}, renew: 30 * time.Second},
		{name: "longest", cfg: Config{Expires: 48 * time.Hour}, renew: 24 * time.Hour},
		{name: "under a minute", cfg: Config{Expires: 30 * time.Second}, wantErr: "Config.Expires (30s)"},
		{name: "not whole minutes", cfg: Config{Expires: 90 * time.Second}, wantErr: "Config.Expires (1m30s)"},
		{name: "over 48 hours", cfg: Config{Expires: 49 * time.Hour}, wantErr: "Config.Expires (49h0m0s)"},
		{name: "negative", cfg: Config{Expires: -time.Minute}, wantErr: "Config.Expires"},
		{name: "not a URL", cfg: Config{AgentURI: "169.254.170.2/api/x"}, wantErr: "not an http(s) URL"},
		{name: "not http", cfg: Config{AgentURI: "unix:///var/run/agent.sock"}, wantErr: "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.AgentURI == "" {
				tt.cfg.AgentURI = "http://169.254.170.2/api/abc-123"
			}
			p, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "sqsdispatch: ") {
					t.Fatalf("New(%+v) = %v; want an error saying %q", tt.cfg, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.RenewEvery(); got != tt.renew {
				t.Errorf("RenewEvery() = %s; want %s", got, tt.renew)
			}
			if p.RenewEvery() >= p.Expires() {
				t.Errorf("renewing every %s does not come before the %s expiry", p.RenewEvery(), p.Expires())
			}
		})
	}
}

// TestDefaultClientNoProxy: the default client goes to the agent
// directly: a proxy from the environment cannot reach the agent's
// link-local address.
func TestDefaultClientNoProxy(t *testing.T) {
	t.Parallel()
	p, err := New(Config{AgentURI: "http://169.254.170.2/api/abc-123"})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := p.client.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T", p.client.Transport)
	}
	if tr.Proxy != nil {
		t.Error("the default client uses a proxy")
	}
	if p.client.Timeout != TimeoutDefault {
		t.Errorf("default client timeout %s; want %s", p.client.Timeout, TimeoutDefault)
	}
	own := &http.Client{}
	if p, err := New(Config{AgentURI: "http://169.254.170.2/api/abc-123", Client: own}); err != nil || p.client != own {
		t.Errorf("Config.Client is not used (err %v)", err)
	}
}
