package ecsprotect

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const (
	// ExpiresDefault is the default Config.Expires: how long each
	// SetBusy(true) protects the task.
	ExpiresDefault = 10 * time.Minute
	// ExpiresMin is the shortest protection ECS grants: 1 minute.
	ExpiresMin = time.Minute
	// ExpiresMax is the longest protection ECS grants: 2,880 minutes.
	ExpiresMax = 48 * time.Hour
	// TimeoutDefault bounds one request to the agent when Config.Client
	// is nil.
	TimeoutDefault = 10 * time.Second

	// EnvAgentURI is the environment variable in which the ECS container
	// agent gives a task's containers its endpoint.
	EnvAgentURI = "ECS_AGENT_URI"
	// statePath is the scale-in protection endpoint, under the agent's URI.
	statePath = "/task-protection/v1/state"
	// maxAnswer bounds how much of the agent's answer is read.
	maxAnswer = 64 << 10
)

// ErrNotOnECS is returned by New when no endpoint is configured and
// ECS_AGENT_URI is not set: the process does not run in an ECS task.
var ErrNotOnECS = errors.New("sqsdispatch: ecsprotect: " + EnvAgentURI + " is not set: not running in an ECS task")

// Config configures a Protector. The zero value protects the task for
// ExpiresDefault through the agent named by ECS_AGENT_URI.
type Config struct {
	// AgentURI is the ECS container agent's endpoint, under which the
	// protection endpoint is found. Defaults to the ECS_AGENT_URI
	// environment variable.
	AgentURI string
	// Expires is how long each SetBusy(true) protects the task, in whole
	// minutes, from ExpiresMin to ExpiresMax; SetBusy(true) is renewed
	// every half of it while the dispatcher stays busy. Defaults to
	// ExpiresDefault.
	Expires time.Duration
	// Client makes the requests. Defaults to a client that goes to the
	// agent directly, whatever HTTP_PROXY says (the agent's link-local
	// address is not reached through a proxy), with a TimeoutDefault
	// timeout.
	Client *http.Client
}

// Protector turns the task's scale-in protection on and off; it is a
// sqsdispatch.BusyHook. It is safe for concurrent use.
type Protector struct {
	endpoint string
	minutes  int
	expires  time.Duration
	client   *http.Client
}

// New returns a Protector for cfg. It fails with ErrNotOnECS when no
// AgentURI is given and ECS_AGENT_URI is not set, and with an error naming
// the field when cfg is not valid. It makes no request.
func New(cfg Config) (*Protector, error) {
	base := cfg.AgentURI
	if base == "" {
		base = os.Getenv(EnvAgentURI)
		if base == "" {
			return nil, ErrNotOnECS
		}
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sqsdispatch: ecsprotect: the agent URI %q is not an http(s) URL", base)
	}
	expires := cmp.Or(cfg.Expires, ExpiresDefault)
	if expires < ExpiresMin || expires > ExpiresMax || expires%time.Minute != 0 {
		return nil, fmt.Errorf("sqsdispatch: ecsprotect: Config.Expires (%s) must be a whole number of minutes from %s to %s",
			expires, ExpiresMin, ExpiresMax)
	}
	client := cfg.Client
	if client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		client = &http.Client{Transport: t, Timeout: TimeoutDefault}
	}
	return &Protector{
		endpoint: strings.TrimSuffix(base, "/") + statePath,
		minutes:  int(expires / time.Minute),
		expires:  expires,
		client:   client,
	}, nil
}

// RenewEvery returns half of Config.Expires: a busy task's protection is
// renewed well before it lapses, with time for retries.
func (p *Protector) RenewEvery() time.Duration { return p.expires / 2 }

// Expires returns how long each SetBusy(true) protects the task.
func (p *Protector) Expires() time.Duration { return p.expires }

// Endpoint returns the URL the requests go to.
func (p *Protector) Endpoint() string { return p.endpoint }

// request is the body of a PUT to the protection endpoint.
type request struct {
	ProtectionEnabled bool
	ExpiresInMinutes  int `json:",omitempty"`
}

// SetBusy turns the task's scale-in protection on, for Config.Expires
// from now, or off. It returns nil once the agent has answered that the
// task's protection is as asked, and an error otherwise: an *Error when
// the agent or ECS refused (the task role lacks
// ecs:UpdateTaskProtection, the task is not part of a service,
// throttling).
func (p *Protector) SetBusy(ctx context.Context, busy bool) error {
	body := request{ProtectionEnabled: busy}
	if busy {
		body.ExpiresInMinutes = p.minutes
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("sqsdispatch: ecsprotect: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.endpoint, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("sqsdispatch: ecsprotect: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("sqsdispatch: ecsprotect: setting protection to %t: %w", busy, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("sqsdispatch: ecsprotect: setting protection to %t: reading the answer: %w", busy, err)
	}
	return check(resp.StatusCode, answer, busy)
}
