package ecsprotect

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// agentPath is where a fake agent serves the protection endpoint, as the
// real one does under ECS_AGENT_URI (http://169.254.170.2/api/CONTAINER-ID).
const agentPath = "/api/0123456789abcdef-1234567890/task-protection/v1/state"

// agentRequest is a request body as the agent decodes it: unknown fields
// refused, ProtectionEnabled required.
type agentRequest struct {
	ProtectionEnabled *bool
	ExpiresInMinutes  *int64
}

// seen is one request the fake agent received.
type seen struct {
	method, path, contentType string
	raw                       string
	body                      agentRequest
	decodeErr                 error
}

// fakeAgent answers each request with status and answer, and records it.
type fakeAgent struct {
	srv    *httptest.Server
	status int
	answer string

	mu   sync.Mutex
	reqs []seen
}

// startAgent starts a fake agent until the test ends.
func startAgent(t *testing.T, status int, answer string) *fakeAgent {
	t.Helper()
	a := &fakeAgent{status: status, answer: answer}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// uri is what ECS_AGENT_URI would hold for this agent.
func (a *fakeAgent) uri() string { return a.srv.URL + "/api/0123456789abcdef-1234567890" }

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	s := seen{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), raw: string(raw)}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	s.decodeErr = dec.Decode(&s.body)
	a.mu.Lock()
	a.reqs = append(a.reqs, s)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.answer)
}

// only returns the one request the agent received.
func (a *fakeAgent) only(t *testing.T) seen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) != 1 {
		t.Fatalf("the agent received %d requests; want 1", len(a.reqs))
	}
	return a.reqs[0]
}

// checkRequest fails the test unless s is the PUT the agent expects,
// asking for protection busy for minutes (none when busy is false).
func checkRequest(t *testing.T, s seen, busy bool, minutes int64) {
	t.Helper()
	if s.method != http.MethodPut {
		t.Errorf("method %s; want PUT", s.method)
	}
	if s.path != agentPath {
		t.Errorf("path %s; want %s", s.path, agentPath)
	}
	if s.contentType != "application/json" {
		t.Errorf("Content-Type %q; want application/json", s.contentType)
	}
	if s.decodeErr != nil {
		t.Fatalf("the agent cannot decode the body %s: %v", s.raw, s.decodeErr)
	}
	if s.body.ProtectionEnabled == nil || *s.body.ProtectionEnabled != busy {
		t.Errorf("body %s; want ProtectionEnabled %t", s.raw, busy)
	}
	switch {
	case busy && (s.body.ExpiresInMinutes == nil || *s.body.ExpiresInMinutes != minutes):
		t.Errorf("body %s; want ExpiresInMinutes %d", s.raw, minutes)
	case !busy && s.body.ExpiresInMinutes != nil:
		t.Errorf("body %s; want no ExpiresInMinutes when turning protection off", s.raw)
	}
}
