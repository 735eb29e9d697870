// Package envelope is what the dispatcher carries on an SQS message
// besides the user's data: the attributes it reserves for itself (the
// resume state of a continued job, the reasons of a dead-letter move, the
// payload size that AWS's extended clients write), how they are told
// apart from the user's, and the attributes of every copy of a message
// the dispatcher sends (continuations, dead-letter moves, redrives).
package envelope

import (
	"strings"

	"github.com/sqsdispatch/go-sqsdispatch/internal/payload"
	"github.com/sqsdispatch/go-sqsdispatch/internal/resume"
)

// Names of the attributes a dead-lettered message gains, in the order they
// are added while SQS's 10-attribute and size limits allow.
const (
	AttrReason       = "sqsdispatch.reason"
	AttrSourceQueue  = "sqsdispatch.source_queue"
	AttrJob          = "sqsdispatch.job"
	AttrReceiveCount = "sqsdispatch.receive_count"
)

// AttrResume carries a continued job's resume state (package resume).
const AttrResume = resume.Attr

// Prefix begins the name of every attribute the dispatcher reserves.
const Prefix = "sqsdispatch."

// MaxAttributes is SQS's limit on a message's attributes.
const MaxAttributes = 10

// Reserved reports whether an attribute of this name is carried for the
// dispatcher or for AWS's extended clients, not for the job: a name that
// begins with Prefix, or one of the extended clients' payload size
// attributes.
func Reserved(name string) bool {
	return strings.HasPrefix(name, Prefix) || name == payload.AttrSize || name == payload.AttrLegacySize
}

// Split returns the user's attributes of attrs and the reserved ones;
// either is nil when it would be empty. attrs is not modified.
func Split[V any](attrs map[string]V) (user, own map[string]V) {
	for k, v := range attrs {
		if Reserved(k) {
			own = put(own, k, v)
		} else {
			user = put(user, k, v)
		}
	}
	return user, own
}

func put[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = make(map[string]V)
	}
	m[k] = v
	return m
}
