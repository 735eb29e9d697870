package payload

import (
	"slices"
	"strings"
)

// Allowlist is the set of S3 objects a payload store may read and
// delete: whole buckets, or the keys of a bucket that begin with a
// prefix. A pointer names any bucket and key its sender chose; a store
// that obeyed any would let whoever can send to the queue read, or
// delete, whatever the consumer's role can reach. The zero Allowlist
// allows nothing. It is built before use and only read after, so it is
// safe for concurrent reads.
type Allowlist struct {
	prefixes map[string][]string // by bucket; "" allows every key
}

// Add allows the objects of bucket whose key begins with prefix; an empty
// prefix allows the whole bucket. An empty bucket name allows nothing: no
// pointer names one.
func (a *Allowlist) Add(bucket, prefix string) {
	if bucket == "" {
		return
	}
	if a.prefixes == nil {
		a.prefixes = make(map[string][]string)
	}
	if !slices.Contains(a.prefixes[bucket], prefix) {
		a.prefixes[bucket] = append(a.prefixes[bucket], prefix)
	}
}

// Empty reports whether a allows nothing.
func (a *Allowlist) Empty() bool { return len(a.prefixes) == 0 }

// Refusal says why a does not allow the object bucket/key, or returns ""
// when it does. A key with a ".." segment is never allowed: S3 keeps it
// as it is, but an HTTP layer that cleaned the request's path would reach
// an object outside the prefix, or the bucket.
func (a *Allowlist) Refusal(bucket, key string) string {
	if a.Empty() {
		return "the store allows no bucket"
	}
	if slices.Contains(strings.Split(key, "/"), "..") {
		return `the key has a ".." segment`
	}
	for _, prefix := range a.prefixes[bucket] {
		if strings.HasPrefix(key, prefix) {
			return ""
		}
	}
	return "the store may use " + a.String()
}

// String lists what a allows, sorted, as "s3://bucket/prefix*" patterns
// separated by ", "; "no bucket" when it allows nothing.
func (a *Allowlist) String() string {
	if a.Empty() {
		return "no bucket"
	}
	var pats []string
	for bucket, prefixes := range a.prefixes {
		for _, prefix := range prefixes {
			pats = append(pats, "s3://"+bucket+"/"+prefix+"*")
		}
	}
	slices.Sort(pats)
	return strings.Join(pats, ", ")
}
