package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// envSpanFile names the environment variable that holds the path of the
// file the job writes its spans to. Children inherit the environment of
// the dispatcher's process, so it must be set before the dispatcher starts
// them (with Config.Prespawn, before Run).
const envSpanFile = "SPAN_FILE"

// spanRecord is what the span file holds of one finished span, one JSON
// object a line. IDs are in hex; ParentSpanID is empty for a root span.
type spanRecord struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	TraceID      string            `json:"trace_id"`
	SpanID       string            `json:"span_id"`
	TraceState   string            `json:"trace_state,omitempty"`
	ParentSpanID string            `json:"parent_span_id,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
}

func recordOf(s sdktrace.ReadOnlySpan) spanRecord {
	r := spanRecord{
		Name:       s.Name(),
		Kind:       s.SpanKind().String(),
		TraceID:    s.SpanContext().TraceID().String(),
		SpanID:     s.SpanContext().SpanID().String(),
		TraceState: s.SpanContext().TraceState().String(),
	}
	if p := s.Parent(); p.IsValid() {
		r.ParentSpanID = p.SpanID().String()
	}
	for _, kv := range s.Attributes() {
		if r.Attributes == nil {
			r.Attributes = make(map[string]string)
		}
		r.Attributes[string(kv.Key)] = kv.Value.String()
	}
	return r
}

// fileExporter is a span exporter that appends spans to a file as JSON
// lines. It opens the file for each batch, so several processes may
// append to one file.
type fileExporter struct {
	path string
}

// ExportSpans appends spans to the file.
func (e fileExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, s := range spans {
		if err := enc.Encode(recordOf(s)); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(e.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(buf.Bytes())
	return errors.Join(err, f.Close())
}

// Shutdown does nothing: the file is closed after each batch.
func (fileExporter) Shutdown(context.Context) error { return nil }

// readSpanFile returns the spans written to path, in order.
func readSpanFile(path string) ([]spanRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read spans: %w", err)
	}
	defer f.Close()
	var spans []spanRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r spanRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("read spans: %s: %w", path, err)
		}
		spans = append(spans, r)
	}
	return spans, sc.Err()
}
