// Package ecs holds an ECS task definition and task role policy for
// examples/worker, and the test that checks them against the worker's
// stop budget. See README.md.
package ecs
