package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

func TestMain(m *testing.M) {
	sqsdispatch.Init(registry())
	os.Exit(m.Run())
}

func TestDemoServesMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, registry(), "127.0.0.1:0", false, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`sqsdispatch_jobs_total{job="ok",outcome="success"} 4`,
		`sqsdispatch_jobs_total{job="bad",outcome="dead_lettered"} 1`,
		`sqsdispatch_dead_lettered_total{job="bad",`,
		`sqsdispatch_child_spawn_seconds_count{job="ok"} 4`,
		`sqsdispatch_slots 2`,
		`sqsdispatch_slots_busy 0`,
		`sqsdispatch_messages_in_flight{queue=`,
		`sqsdispatch_queue_messages{queue=`,
		`sqsdispatch_backlog_per_dispatcher{queue=`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("metrics output lacks %q:\n%s", want, out.String())
		}
	}
}
