package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// sampleRequest exercises every field of a request.
func sampleRequest() Request {
	return Request{Magic: Magic, Version: Version, Mode: ModeCleanup, Job: "job", TimeoutNS: 5e9,
		Message: Message{ID: "id", Queue: "q", Body: "body ü", ReceiveCount: 3,
			Attributes: map[string]string{"ApproximateReceiveCount": "3", "SentTimestamp": "1"},
			MessageAttributes: map[string]Attribute{
				"s": {DataType: "String", StringValue: "v"},
				"b": {DataType: "Binary", BinaryValue: []byte{0, 1, 255}},
				"e": {DataType: "Binary", BinaryValue: []byte{}},
			}},
		Cause:     &Cause{Signal: 15, Reason: "stopping", ChildRunning: true, Attempt: 2, Checkpoint: []byte{0, 'c', 255}},
		GuardPGID: 4242,
		Reuse:     true,
	}
}

func mustMarshal(t testing.TB, v interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleBodyRequest is sampleRequest with a body that follows the frame.
func sampleBodyRequest() Request {
	r := sampleRequest()
	r.Message.Body, r.BodyFollows, r.BodySize = "", true, 400<<20
	return r
}

// sampleCheckpoint is a checkpoint frame's result.
func sampleCheckpoint() Result {
	return Result{Kind: KindCheckpoint, Checkpoint: []byte{0, 1, 'x', 255}}
}

func TestRequestRoundTripsEveryField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Request
	}{
		{"body in the frame", sampleRequest()},
		{"body that follows the frame", sampleBodyRequest()},
		{"empty body that follows the frame", func() Request { r := sampleBodyRequest(); r.BodySize = 0; return r }()},
		{"cause without a checkpoint", func() Request { r := sampleRequest(); r.Cause.Checkpoint = nil; return r }()},
		{"no cause", func() Request { r := sampleRequest(); r.Cause = nil; return r }()},
		{"not reused", func() Request { r := sampleRequest(); r.Reuse = false; return r }()},
		{"cause with a checkpoint at the limit", func() Request {
			r := sampleRequest()
			r.Cause.Checkpoint = bytes.Repeat([]byte{9}, MaxCheckpointBytes)
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out Request
			if err := out.UnmarshalBinary(mustMarshal(t, tt.in)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.in, out) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", out, tt.in)
			}
		})
	}
}

func TestResultRoundTripsEveryField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Result
		want Result
	}{
		{"final result", Result{Kind: KindRetry, Error: "e", RetryAfterNS: 5, Stack: "s", Signal: 15},
			Result{Kind: KindRetry, Error: "e", RetryAfterNS: 5, Stack: "s", Signal: 15}},
		{"checkpoint", sampleCheckpoint(), sampleCheckpoint()},
		{"checkpoint at the limit", Result{Kind: KindCheckpoint, Checkpoint: bytes.Repeat([]byte{7}, MaxCheckpointBytes)},
			Result{Kind: KindCheckpoint, Checkpoint: bytes.Repeat([]byte{7}, MaxCheckpointBytes)}},
		{"empty checkpoint decodes as nil", Result{Kind: KindCheckpoint, Checkpoint: []byte{}}, Result{Kind: KindCheckpoint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out Result
			if err := out.UnmarshalBinary(mustMarshal(t, tt.in)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", out, tt.want)
			}
		})
	}
}

// requestWithBody encodes sampleRequest with the given body fields as
// they are, whether or not they make sense together.
func requestWithBody(body string, follows bool, size int64) []byte {
	r := sampleRequest()
	r.Message.Body = body
	b, _ := r.MarshalBinary()
	b = b[:len(b)-3] // BodyFollows false, BodySize 0, Reuse: one byte each
	e := encoder{b: b}
	e.bool(follows)
	e.int(size)
	e.bool(r.Reuse)
	return e.b
}

// resultWithCheckpoint encodes a checkpoint result carrying n bytes, however
// many that is.
func resultWithCheckpoint(n int) []byte {
	b, _ := Result{Kind: KindCheckpoint}.MarshalBinary()
	e := encoder{b: b[:len(b)-1]} // the empty checkpoint's length
	e.bytes(make([]byte, n))
	return e.b
}

// requestWithCauseCheckpoint encodes a request whose cause carries a
// checkpoint of n bytes, however many that is.
func requestWithCauseCheckpoint(n int) []byte {
	e := encoder{b: requestHead()}
	e.uint(0)     // attributes
	e.uint(0)     // message attributes
	e.bool(true)  // cause
	e.int(15)     // signal
	e.string("r") // reason
	e.bool(false) // child running
	e.int(1)      // attempt
	e.bytes(make([]byte, n))
	e.int(0)      // guard
	e.bool(false) // body follows
	e.int(0)      // body size
	e.bool(false) // reuse
	return e.b
}

func TestBodyAndCheckpointFieldsAreChecked(t *testing.T) {
	t.Parallel()
	decodeRequest := func(b []byte) error { var r Request; return r.UnmarshalBinary(b) }
	decodeResult := func(b []byte) error { var r Result; return r.UnmarshalBinary(b) }
	tests := []struct {
		name    string
		decode  func([]byte) error
		frame   []byte
		wantErr string
	}{
		{"a body that follows", decodeRequest, requestWithBody("", true, 1<<40), ""},
		{"a negative body size", decodeRequest, requestWithBody("", true, -1), "negative body size"},
		{"a negative body size without a body", decodeRequest, requestWithBody("", false, -5), "negative body size"},
		{"a body size without a body that follows", decodeRequest, requestWithBody("", false, 10), "without a body"},
		{"a body in the frame and one that follows", decodeRequest, requestWithBody("b", true, 1), "as well as"},
		{"a cause's checkpoint at the limit", decodeRequest, requestWithCauseCheckpoint(MaxCheckpointBytes), ""},
		{"a cause's checkpoint over the limit", decodeRequest, requestWithCauseCheckpoint(MaxCheckpointBytes + 1), "exceeds"},
		{"a checkpoint at the limit", decodeResult, resultWithCheckpoint(MaxCheckpointBytes), ""},
		{"a checkpoint over the limit", decodeResult, resultWithCheckpoint(MaxCheckpointBytes + 1), "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.decode(tt.frame)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("decode: %v; want error %q", err, tt.wantErr)
			}
		})
	}
}

func TestInconsistentValuesDoNotEncode(t *testing.T) {
	t.Parallel()
	negative := sampleBodyRequest()
	negative.BodySize = -1
	both := sampleBodyRequest()
	both.Message.Body = "b"
	sizeOnly := sampleRequest()
	sizeOnly.BodySize = 3
	tests := []struct {
		name string
		v    interface{ MarshalBinary() ([]byte, error) }
	}{
		{"negative body size", negative},
		{"body in the frame and following it", both},
		{"body size without a body that follows", sizeOnly},
		{"oversized checkpoint", Result{Kind: KindCheckpoint, Checkpoint: make([]byte, MaxCheckpointBytes+1)}},
		{"oversized checkpoint in a cause", func() Request {
			r := sampleRequest()
			r.Cause.Checkpoint = make([]byte, MaxCheckpointBytes+1)
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if b, err := tt.v.MarshalBinary(); err == nil {
				t.Fatalf("encoded to %d bytes; want an error", len(b))
			}
		})
	}
}

func TestTrailingBytesAreAnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		encode func() []byte
		decode func([]byte) error
	}{
		{"request", func() []byte { return mustMarshal(t, sampleRequest()) },
			func(b []byte) error { var r Request; return r.UnmarshalBinary(b) }},
		{"request with a body that follows", func() []byte { return mustMarshal(t, sampleBodyRequest()) },
			func(b []byte) error { var r Request; return r.UnmarshalBinary(b) }},
		{"result", func() []byte { return mustMarshal(t, Result{Kind: KindError, Error: "e", Stack: "s", Signal: 15}) },
			func(b []byte) error { var r Result; return r.UnmarshalBinary(b) }},
		{"checkpoint", func() []byte { return mustMarshal(t, sampleCheckpoint()) },
			func(b []byte) error { var r Result; return r.UnmarshalBinary(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.encode()
			if err := tt.decode(b); err != nil {
				t.Fatalf("the exact encoding does not decode: %v", err)
			}
			for _, extra := range [][]byte{{0}, {1, 2, 3}} {
				if err := tt.decode(append(append([]byte{}, b...), extra...)); !errors.Is(err, errTrailing) {
					t.Errorf("with %d trailing bytes: err = %v; want errTrailing", len(extra), err)
				}
			}
		})
	}
}

// requestHead encodes a request's fields up to its system attributes.
func requestHead() []byte {
	var e encoder
	e.string(Magic)
	e.uint(Version)
	e.string(ModeRun)
	e.string("j")
	e.int(0)
	e.string("id")
	e.string("q")
	e.string("")
	e.int(1)
	return e.b
}

// zeroEntries builds a request whose collection claims n entries, each
// encoded in its smallest form (all zero bytes), plus surplus claimed
// entries that are not there.
func zeroEntries(attributes bool, n, surplus int) []byte {
	b := requestHead()
	entry := minMessageAttributeBytes
	if attributes {
		entry = minAttributeBytes
		b = binary.AppendUvarint(b, uint64(n+surplus))
	} else {
		b = binary.AppendUvarint(b, 0)
		b = binary.AppendUvarint(b, uint64(n+surplus))
	}
	b = append(b, make([]byte, n*entry)...)
	if attributes {
		b = append(b, 0) // no message attributes
	}
	return append(b, 0, 0, 0, 0, 0) // no cause, no guard, no body follows, body size 0, no reuse
}

func TestDecodeBoundsCountsByBytesLeft(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		attributes bool
		n, surplus int
		wantErr    bool
	}{
		{"attributes that fit", true, 1000, 0, false},
		{"one attribute more than the bytes allow", true, 1000, 1, true},
		{"a huge attribute count", true, 10, 1 << 40, true},
		{"message attributes that fit", false, 1000, 0, false},
		{"message attributes claiming the minimum of another type", false, 1000, 1000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r Request
			err := r.UnmarshalBinary(zeroEntries(tt.attributes, tt.n, tt.surplus))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v; want error %v", err, tt.wantErr)
			}
			if err == nil && len(r.Message.Attributes)+len(r.Message.MessageAttributes) != 1 {
				t.Fatalf("decoded %d+%d entries; want the one empty key", len(r.Message.Attributes), len(r.Message.MessageAttributes))
			}
		})
	}
}

// TestDecodeAllocatesByBytesNotClaims decodes multi-megabyte frames
// whose entry counts are as large as the bytes allow, and checks that the
// decoder allocates in proportion to the frame, not to the count. It does
// not run in parallel so that the allocation counter sees only it.
func TestDecodeAllocatesByBytesNotClaims(t *testing.T) {
	for _, attributes := range []bool{true, false} {
		entry := minMessageAttributeBytes
		if attributes {
			entry = minAttributeBytes
		}
		frame := zeroEntries(attributes, maxFrame/4/entry, 0)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var r Request
		err := r.UnmarshalBinary(frame)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 2*uint64(len(frame)) {
			t.Errorf("attributes=%v: decoding a %d-byte frame allocated %d bytes", attributes, len(frame), got)
		}
	}
}

func TestFitKeepsResultsFramable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		error, stack string
	}{
		{"small texts stay whole", "boom", "stack"},
		{"huge error", strings.Repeat("e", 2*maxFrame), "stack"},
		{"huge stack", "boom", strings.Repeat("s", 2*maxFrame)},
		{"multibyte text cut mid-rune", strings.Repeat("ü", MaxErrorBytes), strings.Repeat("€", MaxStackBytes)},
		{"exactly at the limits", strings.Repeat("e", MaxErrorBytes), strings.Repeat("s", MaxStackBytes)},
	}
	checkpoints := []struct {
		name     string
		in, want []byte
	}{
		{"checkpoint within its limit is kept", []byte("cp"), []byte("cp")},
		{"checkpoint at its limit is kept", make([]byte, MaxCheckpointBytes), make([]byte, MaxCheckpointBytes)},
		{"checkpoint over its limit is dropped", make([]byte, MaxCheckpointBytes+1), nil},
	}
	for _, tt := range checkpoints {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := (Result{Kind: KindOK, Checkpoint: tt.in}).Fit().Checkpoint; !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("Fit left a checkpoint of %d bytes; want %d", len(got), len(tt.want))
			}
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := Result{Kind: KindPanic, Error: tt.error, Stack: tt.stack}
			out := in.Fit()
			if len(out.Error) > MaxErrorBytes || len(out.Stack) > MaxStackBytes {
				t.Fatalf("Fit left %d/%d bytes; limits %d/%d", len(out.Error), len(out.Stack), MaxErrorBytes, MaxStackBytes)
			}
			for _, p := range []struct{ in, out string }{{in.Error, out.Error}, {in.Stack, out.Stack}} {
				if p.in == p.out {
					continue
				}
				if !strings.Contains(p.out, "[cut:") || !utf8.ValidString(p.out) || !strings.HasPrefix(p.in, p.out[:strings.LastIndex(p.out, "\n... [cut:")]) {
					t.Errorf("cut text is not an unmarked or invalid head of the original: ...%q", p.out[max(0, len(p.out)-60):])
				}
			}
			if len(in.Error) <= MaxErrorBytes && out.Error != in.Error || len(in.Stack) <= MaxStackBytes && out.Stack != in.Stack {
				t.Fatal("Fit cut a text within its limit")
			}
			var buf bytes.Buffer
			if err := Write(&buf, out); err != nil {
				t.Fatalf("fitted result does not frame: %v", err)
			}
			var back Result
			if err := Read(&buf, &back); err != nil || !reflect.DeepEqual(back, out) {
				t.Fatalf("fitted result did not round-trip: %v", err)
			}
		})
	}
}

// FuzzRequestDecode checks that any input either fails to decode or
// decodes to a value that encodes and decodes to itself, and that the
// decoder never panics.
func FuzzRequestDecode(f *testing.F) {
	f.Add(mustMarshal(f, sampleRequest()))
	f.Add(mustMarshal(f, sampleBodyRequest()))
	f.Add(requestWithBody("", true, -1))
	f.Add(mustMarshal(f, Request{Magic: Magic, Version: Version}))
	f.Add(zeroEntries(true, 3, 0))
	f.Add(zeroEntries(false, 3, 0))
	f.Add(zeroEntries(true, 3, 100))
	f.Add(append(mustMarshal(f, sampleRequest()), 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		var again Request
		if err := again.UnmarshalBinary(mustMarshal(t, r)); err != nil {
			t.Fatalf("re-encoded request does not decode: %v", err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("re-encoded request differs:\n%+v\n%+v", r, again)
		}
	})
}

// FuzzResultDecode is FuzzRequestDecode for results.
func FuzzResultDecode(f *testing.F) {
	f.Add(mustMarshal(f, Result{Kind: KindRetry, Error: "e", RetryAfterNS: 5, Stack: "s", Signal: 15}))
	f.Add(mustMarshal(f, Result{}))
	f.Add(mustMarshal(f, sampleCheckpoint()))
	f.Add(resultWithCheckpoint(MaxCheckpointBytes + 1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		var again Result
		if err := again.UnmarshalBinary(mustMarshal(t, r)); err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("re-encoded result differs (%v): %+v %+v", err, r, again)
		}
	})
}

// Reuse is the request's last field: a request that ends before it (as
// the previous version's did) does not decode, and its byte decodes as
// set exactly when it is non-zero.
func TestReuseIsTheLastField(t *testing.T) {
	t.Parallel()
	full := mustMarshal(t, sampleRequest())
	tests := []struct {
		name    string
		frame   []byte
		want    bool
		wantErr error
	}{
		{"reused", full, true, nil},
		{"not reused", append(append([]byte{}, full[:len(full)-1]...), 0), false, nil},
		{"cut before the reuse byte", full[:len(full)-1], false, errShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r Request
			err := r.UnmarshalBinary(tt.frame)
			if !errors.Is(err, tt.wantErr) || err == nil && r.Reuse != tt.want {
				t.Fatalf("Reuse = %v, err = %v; want %v, %v", r.Reuse, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAnotherVersionIsReportedNotMisread(t *testing.T) {
	t.Parallel()
	var e encoder
	e.string(Magic)
	e.uint(Version + 1)
	e.string("a layout this build does not know")
	var r Request
	err := r.UnmarshalBinary(e.b)
	if !errors.Is(err, ErrVersion) || r.Version != Version+1 {
		t.Fatalf("err = %v, version %d; want ErrVersion naming version %d", err, r.Version, Version+1)
	}
}
