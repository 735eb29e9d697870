package payload

import "testing"

func TestAllowlist(t *testing.T) {
	t.Parallel()
	type rule struct{ bucket, prefix string }
	type object struct {
		bucket, key string
		want        bool
	}
	tests := []struct {
		name       string
		rules      []rule
		objects    []object
		wantString string
	}{
		{name: "nothing allowed", objects: []object{{"b", "k", false}, {"", "", false}}, wantString: "no bucket"},
		{name: "an empty bucket name allows nothing", rules: []rule{{"", ""}},
			objects: []object{{"", "k", false}, {"b", "k", false}}, wantString: "no bucket"},
		{name: "whole bucket", rules: []rule{{"payloads", ""}},
			objects: []object{
				{"payloads", "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b", true},
				{"payloads", "any/key", true},
				{"payloads2", "k", false},
				{"payload", "k", false},
				{"Payloads", "k", false},
				{"other", "k", false},
			},
			wantString: "s3://payloads/*"},
		{name: "key prefix", rules: []rule{{"shared", "sqs/"}},
			objects: []object{
				{"shared", "sqs/k", true},
				{"shared", "sqs/", true},
				{"shared", "sqs", false},
				{"shared", "sqsx/k", false},
				{"shared", "secrets/k", false},
				{"shared", "SQS/k", false},
				{"other", "sqs/k", false},
			},
			wantString: "s3://shared/sqs/*"},
		{name: "a .. segment never passes", rules: []rule{{"shared", "sqs/"}, {"whole", ""}},
			objects: []object{
				{"shared", "sqs/../secrets/k", false},
				{"shared", "sqs/..", false},
				{"whole", "../other-bucket/k", false},
				{"shared", "sqs/..k", true},
				{"shared", "sqs/k..", true},
				{"whole", "./k", true},
			},
			wantString: "s3://shared/sqs/*, s3://whole/*"},
		{name: "several rules", rules: []rule{{"a", ""}, {"b", "x/"}, {"b", "y/"}, {"b", "x/"}},
			objects:    []object{{"a", "k", true}, {"b", "x/k", true}, {"b", "y/k", true}, {"b", "z/k", false}},
			wantString: "s3://a/*, s3://b/x/*, s3://b/y/*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a Allowlist
			for _, r := range tt.rules {
				a.Add(r.bucket, r.prefix)
			}
			for _, o := range tt.objects {
				if got := a.Refusal(o.bucket, o.key) == ""; got != o.want {
					t.Errorf("Refusal(%q, %q) empty = %t; want %t", o.bucket, o.key, got, o.want)
				}
			}
			if got := a.String(); got != tt.wantString {
				t.Errorf("String() = %q; want %q", got, tt.wantString)
			}
			if a.Empty() != (tt.wantString == "no bucket") {
				t.Errorf("Empty() = %t; want %t", a.Empty(), tt.wantString == "no bucket")
			}
		})
	}
}

func TestAllowlistRefusal(t *testing.T) {
	t.Parallel()
	var none, some Allowlist
	some.Add("a", "")
	some.Add("b", "in/")
	tests := []struct {
		name        string
		a           *Allowlist
		bucket, key string
		want        string
	}{
		{name: "allowed", a: &some, bucket: "b", key: "in/k", want: ""},
		{name: "nothing allowed", a: &none, bucket: "a", key: "k", want: "the store allows no bucket"},
		{name: "other bucket", a: &some, bucket: "c", key: "k", want: "the store may use s3://a/*, s3://b/in/*"},
		{name: "other prefix", a: &some, bucket: "b", key: "out/k", want: "the store may use s3://a/*, s3://b/in/*"},
		{name: "dot-dot segment", a: &some, bucket: "b", key: "in/../out/k", want: `the key has a ".." segment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.a.Refusal(tt.bucket, tt.key); got != tt.want {
				t.Errorf("Refusal(%q, %q) = %q; want %q", tt.bucket, tt.key, got, tt.want)
			}
		})
	}
}
