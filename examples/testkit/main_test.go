package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

// The jobs run in child processes of this test binary: Main calls
// sqsdispatch.Init first (in a child it runs the job and exits), then runs
// the tests.
func TestMain(m *testing.M) {
	sqsdispatchtest.Main(m, registry())
}

// runJob runs the job named job on body, as the service would, and returns
// what became of the message.
func runJob(t *testing.T, job string, msg sqsdispatchtest.Message, opts ...sqsdispatchtest.RunOption) sqsdispatchtest.Outcome {
	t.Helper()
	msg.Attributes = map[string]sqsdispatch.MessageAttribute{"job": {DataType: "String", StringValue: job}}
	out, err := sqsdispatchtest.RunJob(t.Context(), dispatcherConfig(registry()), msg, opts...)
	if err != nil {
		t.Fatalf("RunJob: %v", err)
	}
	return out
}

// wantOutcome compares an outcome, its error aside.
func wantOutcome(t *testing.T, got, want sqsdispatchtest.Outcome) {
	t.Helper()
	got.Err = nil
	if got != want {
		t.Errorf("outcome: %s, want %s", got, want)
	}
}

// pngImage returns a w×h PNG image.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imageServer serves the test images: /cat.png (400×300), /notes.png
// (text), /busy.png (503, retry in 120 s), /slow.png (half an image, then
// nothing until the client goes away); anything else is 404.
func imageServer(t *testing.T) *httptest.Server {
	t.Helper()
	cat := pngImage(t, 400, 300)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cat.png":
			w.Write(cat)
		case "/notes.png":
			w.Write([]byte("these are not pixels"))
		case "/busy.png":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/slow.png":
			w.Write(cat[:len(cat)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Tests that set THUMBS_DIR or MAIL_API are not parallel: the job children
// take their configuration from the environment they inherit.

func TestResize(t *testing.T) {
	images := imageServer(t)
	tests := []struct {
		name       string
		image      string
		want       sqsdispatchtest.Outcome
		wantReason string // part of the dead-letter reason
		wantThumb  bool
	}{
		{name: "makes a thumbnail", image: "/cat.png", want: sqsdispatchtest.Outcome{Deleted: true}, wantThumb: true},
		{name: "missing image is dead-lettered", image: "/dog.png",
			want: sqsdispatchtest.Outcome{DeadLettered: true}, wantReason: "not found"},
		{name: "what is not an image is dead-lettered", image: "/notes.png",
			want: sqsdispatchtest.Outcome{DeadLettered: true}, wantReason: "decoding"},
		{name: "busy image server: retried when it says", image: "/busy.png",
			want: sqsdispatchtest.Outcome{GivenBack: true, VisibleAfter: 120 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("THUMBS_DIR", dir)
			out := runJob(t, "resize", sqsdispatchtest.Message{Body: images.URL + tt.image})
			if !strings.Contains(out.Reason, tt.wantReason) {
				t.Errorf("dead-letter reason %q lacks %q", out.Reason, tt.wantReason)
			}
			out.Reason = ""
			wantOutcome(t, out, tt.want)
			name := strings.TrimSuffix(strings.TrimPrefix(tt.image, "/"), ".png")
			f, err := os.Open(thumbnailPath(name))
			if !tt.wantThumb {
				if err == nil {
					f.Close()
					t.Errorf("a thumbnail was stored")
				}
				return
			}
			if err != nil {
				t.Fatalf("no thumbnail: %v", err)
			}
			defer f.Close()
			cfg, err := png.DecodeConfig(f)
			if err != nil || cfg.Width != 128 || cfg.Height != 96 {
				t.Errorf("thumbnail is %d×%d (%v), want 128×96", cfg.Width, cfg.Height, err)
			}
			if _, err := os.Stat(partialPath(name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the download was left behind: %v", err)
			}
		})
	}
}

// A stop signal while Resize downloads: the job is suspended, its
// Cleanup removes the partial download, and the message goes back to the
// queue at once for another consumer.
func TestResizeStopped(t *testing.T) {
	images := imageServer(t)
	t.Setenv("THUMBS_DIR", t.TempDir())
	partial := partialPath("slow")
	downloading := func() bool {
		fi, err := os.Stat(partial)
		return err == nil && fi.Size() > 0
	}
	out := runJob(t, "resize", sqsdispatchtest.Message{Body: images.URL + "/slow.png"}, sqsdispatchtest.StopWhen(downloading))
	if !errors.Is(out.Err, sqsdispatch.ErrStopped) {
		t.Errorf("error = %v, want one matching sqsdispatch.ErrStopped", out.Err)
	}
	wantOutcome(t, out, sqsdispatchtest.Outcome{GivenBack: true, VisibleAfter: 0})
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Cleanup left the partial download: %v", err)
	}
}

// fakeMailAPI is a fake of the mail API that answers with status (and
// Retry-After, when set) and records what it was asked to send.
type fakeMailAPI struct {
	status     int
	retryAfter string

	mu   sync.Mutex
	sent []Email
}

func (m *fakeMailAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e Email
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.sent = append(m.sent, e)
	m.mu.Unlock()
	if m.retryAfter != "" {
		w.Header().Set("Retry-After", m.retryAfter)
	}
	w.WriteHeader(m.status)
}

func TestSendEmail(t *testing.T) {
	tests := []struct {
		name       string
		to         string
		body       string // the message body when it is not an Email to to
		receive    int    // the delivery the job sees; 0 for the first
		api        *fakeMailAPI
		want       sqsdispatchtest.Outcome
		wantReason string // part of the dead-letter reason
		wantSent   int
		wantErr    func(error) bool
	}{
		{name: "sent", to: "Ann <ann@example.com>", api: &fakeMailAPI{status: http.StatusAccepted},
			want: sqsdispatchtest.Outcome{Deleted: true}, wantSent: 1,
			wantErr: func(err error) bool { return err == nil }},
		{name: "invalid address is dead-lettered", to: "ann at example", api: &fakeMailAPI{status: http.StatusAccepted},
			want: sqsdispatchtest.Outcome{DeadLettered: true}, wantReason: "invalid address",
			wantErr: func(err error) bool { var e *sqsdispatch.JobError; return errors.As(err, &e) && e.Permanent }},
		{name: "body that is not an Email is dead-lettered", body: "ann@example.com", api: &fakeMailAPI{status: http.StatusAccepted},
			want: sqsdispatchtest.Outcome{DeadLettered: true}, wantReason: "invalid character",
			wantErr: func(err error) bool { var e *sqsdispatch.JobError; return errors.As(err, &e) && e.Permanent }},
		{name: "rate limited: retried when the API says", to: "ann@example.com",
			api:  &fakeMailAPI{status: http.StatusTooManyRequests, retryAfter: "30"},
			want: sqsdispatchtest.Outcome{GivenBack: true, VisibleAfter: 30 * time.Second}, wantSent: 1,
			wantErr: func(err error) bool {
				var e *sqsdispatch.JobError
				return errors.As(err, &e) && e.RetryAfter == 30*time.Second
			}},
		{name: "API down: the retry policy backs off", to: "ann@example.com", receive: 3,
			api:  &fakeMailAPI{status: http.StatusBadGateway},
			want: sqsdispatchtest.Outcome{GivenBack: true, VisibleAfter: 40 * time.Second}, wantSent: 1,
			wantErr: func(err error) bool { var e *sqsdispatch.JobError; return errors.As(err, &e) && !e.Permanent }},
		{name: "crash in the mail library: left for its visibility timeout", to: "ann\x00@example.com",
			api:  &fakeMailAPI{status: http.StatusAccepted},
			want: sqsdispatchtest.Outcome{Left: true},
			wantErr: func(err error) bool {
				var e *sqsdispatch.WorkerProcessError
				return errors.As(err, &e) && e.ExitCode == 3
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.api)
			t.Cleanup(srv.Close)
			t.Setenv("MAIL_API", srv.URL)
			body, err := json.Marshal(Email{To: tt.to, Subject: "Your report"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				body = []byte(tt.body)
			}
			out := runJob(t, "email", sqsdispatchtest.Message{Body: string(body), ReceiveCount: tt.receive})
			if !tt.wantErr(out.Err) {
				t.Errorf("unexpected error %#v", out.Err)
			}
			if !strings.Contains(out.Reason, tt.wantReason) {
				t.Errorf("dead-letter reason %q lacks %q", out.Reason, tt.wantReason)
			}
			out.Reason = ""
			wantOutcome(t, out, tt.want)
			tt.api.mu.Lock()
			defer tt.api.mu.Unlock()
			if len(tt.api.sent) != tt.wantSent {
				t.Errorf("the mail API got %d emails (%v), want %d", len(tt.api.sent), tt.api.sent, tt.wantSent)
			}
		})
	}
}

// A message without a "job" attribute cannot be routed: it goes to the
// dead-letter queue with the reason.
func TestUnroutable(t *testing.T) {
	t.Parallel()
	out, err := sqsdispatchtest.RunJob(t.Context(), dispatcherConfig(registry()), sqsdispatchtest.Message{Body: "{}"})
	if err != nil {
		t.Fatalf("RunJob: %v", err)
	}
	if !out.DeadLettered || !strings.Contains(out.Reason, `no "job" attribute`) {
		t.Errorf("outcome: %s, want dead-lettered for the missing job attribute", out)
	}
}
