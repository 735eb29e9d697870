// Command testkit is a small service with two jobs, Resize and SendEmail:
// ordinary functions that sqsdispatch runs for the messages of one queue,
// routed by their "job" attribute. main_test.go tests both jobs with
// sqsdispatchtest.RunJob, through the real child processes, without a
// server and without a hand-written fake.
//
//	QUEUE_URL=https://sqs.../jobs THUMBS_DIR=/var/thumbs MAIL_API=http://mail/send go run .
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decode JPEG images too
	"image/png"
	"io"
	"log"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// thumbSize bounds a thumbnail's width and height, in pixels.
const thumbSize = 128

// retryAfterDefault is how long to wait when a busy server does not say.
const retryAfterDefault = time.Minute

func main() {
	reg := registry()
	sqsdispatch.Init(reg) // in a job's child process: runs the job and exits

	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	cfg := dispatcherConfig(reg)
	cfg.Client, cfg.QueueURL = sqs.NewFromConfig(awsCfg), os.Getenv("QUEUE_URL")
	d, err := sqsdispatch.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	sqsdispatch.Exit(d.Run(ctx))
}

// registry wraps the service's functions as jobs. The parent and every
// child build it.
func registry() *sqsdispatch.Registry {
	reg := sqsdispatch.NewRegistry()
	reg.Handle(sqsdispatch.Job{
		Name: "resize",
		Run:  func(ctx context.Context, msg *sqsdispatch.Message) error { return Resize(ctx, msg.Body) },
		Cleanup: func(_ context.Context, msg *sqsdispatch.Message, _ sqsdispatch.Cause) error {
			return removePartial(msg.Body)
		},
		Timeout: 5 * time.Minute,
	})
	reg.Register("email", sqsdispatch.JSONJob(func(ctx context.Context, e Email, _ *sqsdispatch.Message) error {
		return SendEmail(ctx, e.To, e.Subject)
	}))
	return reg
}

// dispatcherConfig is the service's configuration, without the queue:
// main adds the SQS client and queue URL, the tests let RunJob add its
// own.
func dispatcherConfig(reg *sqsdispatch.Registry) sqsdispatch.Config {
	return sqsdispatch.Config{
		Registry: reg,
		Route:    sqsdispatch.RouteByAttribute("job"),
		Retry:    sqsdispatch.ExponentialBackoff{Base: 10 * time.Second, Max: 10 * time.Minute},
	}
}

// thumbsDir is where thumbnails go: $THUMBS_DIR, else a folder in the
// temporary directory.
func thumbsDir() string {
	if d := os.Getenv("THUMBS_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "thumbnails")
}

// imageName is the name of the image at imageURL: the base of its path,
// without extension.
func imageName(imageURL string) (string, error) {
	u, err := url.Parse(imageURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("not an http(s) image URL: %q", imageURL)
	}
	name := strings.TrimSuffix(path.Base(u.Path), path.Ext(u.Path))
	if name == "" || name == "." || name == "/" {
		return "", fmt.Errorf("no file name in image URL %q", imageURL)
	}
	return name, nil
}

// partialPath is where Resize downloads the image name to.
func partialPath(name string) string { return filepath.Join(thumbsDir(), name+".part") }

// thumbnailPath is where Resize stores the thumbnail of the image name.
func thumbnailPath(name string) string { return filepath.Join(thumbsDir(), name+".png") }

// Resize downloads the image at imageURL and stores a thumbnail of it, at
// most thumbSize pixels wide and high, as a PNG in the thumbnails folder.
// A bad URL, a missing image or one that does not decode fails for good;
// a busy server asks to be retried later.
func Resize(ctx context.Context, imageURL string) error {
	name, err := imageName(imageURL)
	if err != nil {
		return sqsdispatch.Permanent(err)
	}
	if err := os.MkdirAll(thumbsDir(), 0o755); err != nil {
		return err
	}
	part := partialPath(name)
	if err := download(ctx, imageURL, part); err != nil {
		return err
	}
	f, err := os.Open(part)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		os.Remove(part)
		return sqsdispatch.Permanent(fmt.Errorf("decoding %s: %w", imageURL, err))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, thumbnail(img, thumbSize)); err != nil {
		return err
	}
	dst := thumbnailPath(name)
	if err := os.WriteFile(dst+".tmp", buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(dst+".tmp", dst); err != nil {
		return err
	}
	return os.Remove(part)
}

// download writes the body of imageURL to the file dst.
func download(ctx context.Context, imageURL, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, imageURL, nil)
	if err != nil {
		return sqsdispatch.Permanent(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", imageURL, err)
	}
	defer resp.Body.Close()
	if err := statusError(resp, "image "+imageURL); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("fetching %s: %w", imageURL, err)
	}
	return f.Close()
}

// removePartial removes what an interrupted Resize of the image at
// imageURL left behind.
func removePartial(imageURL string) error {
	name, err := imageName(imageURL)
	if err != nil {
		return nil // Resize did not start on it
	}
	for _, p := range []string{partialPath(name), thumbnailPath(name) + ".tmp"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// thumbnail scales img down (nearest neighbour) to fit in size×size.
func thumbnail(img image.Image, size int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= size && h <= size {
		return img
	}
	tw, th := size, max(1, h*size/w)
	if h > w {
		tw, th = max(1, w*size/h), size
	}
	out := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := range th {
		for x := range tw {
			out.Set(x, y, color.RGBAModel.Convert(img.At(b.Min.X+x*w/tw, b.Min.Y+y*h/th)))
		}
	}
	return out
}

// Email is the body of an "email" message.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
}

// mailAPI is the URL SendEmail posts to: $MAIL_API, else a local relay.
func mailAPI() string {
	if u := os.Getenv("MAIL_API"); u != "" {
		return u
	}
	return "http://127.0.0.1:8025/send"
}

// SendEmail sends an email with subject to the address to through the
// mail API. An invalid address fails for good; a rate-limited API asks to
// be retried later.
func SendEmail(ctx context.Context, to, subject string) error {
	if strings.ContainsRune(to, 0) {
		// This stands in for a native mail library that aborts the whole
		// process on an address with a NUL byte: the dispatcher sees a
		// crash, not an error.
		os.Exit(3)
	}
	addr, err := mail.ParseAddress(to)
	if err != nil {
		return sqsdispatch.Permanent(fmt.Errorf("invalid address %q: %w", to, err))
	}
	body, err := json.Marshal(Email{To: addr.Address, Subject: subject})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, mailAPI(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mail API: %w", err)
	}
	defer resp.Body.Close()
	return statusError(resp, "mail API")
}

// statusError turns an HTTP response's status into the job's error: nil
// for 2xx, RetryAfter for 429 and 503, Permanent for other 4xx, a plain
// error (left to the retry policy) for the rest.
func statusError(resp *http.Response, what string) error {
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		wait := retryAfterDefault
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		return sqsdispatch.RetryAfter(wait, fmt.Errorf("%s: %s", what, resp.Status))
	case code == http.StatusNotFound || code == http.StatusGone:
		return sqsdispatch.Permanent(fmt.Errorf("%s not found: %s", what, resp.Status))
	case code >= 400 && code < 500:
		return sqsdispatch.Permanent(fmt.Errorf("%s: %s", what, resp.Status))
	default:
		return fmt.Errorf("%s: %s", what, resp.Status)
	}
}
