// Package kubernetes holds the manifests that run examples/worker on
// Kubernetes, scaled on its queue by KEDA, and the tests that check them
// against the Kubernetes and KEDA API types and the worker's stop budget.
// See README.md.
package kubernetes
