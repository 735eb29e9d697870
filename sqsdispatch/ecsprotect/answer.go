package ecsprotect

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// answer is the agent's answer to a PUT: exactly one of Protection (the
// call succeeded), Failure (ECS refused this task) and Error (the agent
// or ECS failed).
type answer struct {
	RequestID  string `json:"requestID"`
	Protection *struct {
		ProtectionEnabled bool
		TaskArn           string
	} `json:"protection"`
	Failure *struct {
		Arn    string
		Reason string
		Detail *string
	} `json:"failure"`
	Error *struct {
		Arn     string
		Code    string
		Message string
	} `json:"error"`
}

// Error is the agent's or ECS's refusal to set a task's protection.
type Error struct {
	// StatusCode is the HTTP status of the agent's answer.
	StatusCode int
	// Code is the error's code, such as "AccessDeniedException" (the task
	// role lacks ecs:UpdateTaskProtection, or the task has no role),
	// "ThrottlingException" or "ServerException", when the agent answered
	// with an error.
	Code string
	// Reason is ECS's failure reason, such as "TASK_NOT_VALID" (a task
	// that is not part of a service), when ECS answered with a failure.
	Reason string
	// Message is the error's message or the failure's detail.
	Message string
	// Arn is the task's ARN, when the answer gave it.
	Arn string
	// RequestID is ECS's request ID, when the answer gave it.
	RequestID string
	// Busy is the protection that was asked for.
	Busy bool
}

// Error describes the refusal.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqsdispatch: ecsprotect: setting protection to %t: ", e.Busy)
	switch {
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Reason != "":
		b.WriteString("ECS failure " + e.Reason)
	default:
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Arn != "" {
		b.WriteString(" (task " + e.Arn + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// check turns the agent's answer to a request for protection busy into
// an error, or nil when the task's protection is as asked. The agent
// answers ECS's failures with 200 and a "failure", its own and ECS's
// errors with 4xx or 5xx and an "error".
func check(status int, body []byte, busy bool) error {
	var a answer
	decodeErr := json.Unmarshal(body, &a)
	switch {
	case decodeErr == nil && a.Error != nil:
		return &Error{StatusCode: status, Code: a.Error.Code, Message: a.Error.Message, Arn: a.Error.Arn, RequestID: a.RequestID, Busy: busy}
	case decodeErr == nil && a.Failure != nil:
		e := &Error{StatusCode: status, Reason: a.Failure.Reason, Arn: a.Failure.Arn, RequestID: a.RequestID, Busy: busy}
		if a.Failure.Detail != nil {
			e.Message = *a.Failure.Detail
		}
		return e
	case status != http.StatusOK:
		return &Error{StatusCode: status, Message: snippet(body), Busy: busy}
	case decodeErr != nil:
		return fmt.Errorf("sqsdispatch: ecsprotect: setting protection to %t: the agent's answer is not JSON: %w (%s)", busy, decodeErr, snippet(body))
	case a.Protection == nil:
		return fmt.Errorf("sqsdispatch: ecsprotect: setting protection to %t: the agent's answer has no protection: %s", busy, snippet(body))
	case a.Protection.ProtectionEnabled != busy:
		return fmt.Errorf("sqsdispatch: ecsprotect: setting protection to %t: the agent says protection is %t for task %s",
			busy, a.Protection.ProtectionEnabled, a.Protection.TaskArn)
	}
	return nil
}

// snippet returns the start of an answer, for an error message.
func snippet(body []byte) string {
	const limit = 200
	s := strings.TrimSpace(string(body))
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	if s == "" {
		return "(empty)"
	}
	return s
}
