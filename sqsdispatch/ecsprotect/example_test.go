package ecsprotect_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/ecsprotect"
)

// The protector against a stand-in for the ECS container agent; in a
// task, New(ecsprotect.Config{}) finds the agent in ECS_AGENT_URI, and
// the dispatcher makes these calls itself (Config.BusyHook).
func Example() {
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("agent: %s %s %s\n", r.Method, r.URL.Path, body)
		enabled := string(body) != `{"ProtectionEnabled":false}`
		fmt.Fprintf(w, `{"protection":{"ExpirationDate":null,"ProtectionEnabled":%t,"TaskArn":"arn:aws:ecs:eu-west-1:123456789012:task/workers/abc"}}`, enabled)
	}))
	defer agent.Close()

	protect, err := ecsprotect.New(ecsprotect.Config{AgentURI: agent.URL + "/api/abc-123"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("renewed every", protect.RenewEvery())
	ctx := context.Background()
	fmt.Println("busy:", protect.SetBusy(ctx, true))
	fmt.Println("idle:", protect.SetBusy(ctx, false))
	// Output:
	// renewed every 5m0s
	// agent: PUT /api/abc-123/task-protection/v1/state {"ProtectionEnabled":true,"ExpiresInMinutes":10}
	// busy: <nil>
	// agent: PUT /api/abc-123/task-protection/v1/state {"ProtectionEnabled":false}
	// idle: <nil>
}
