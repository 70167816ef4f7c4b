package object

import (
	"errors"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

func TestRangeResolve(t *testing.T) {
	tests := []struct {
		r       Range
		size    int64
		off, n  int64
		invalid bool
	}{
		{Range{First: 0, Last: 9}, 100, 0, 10, false},
		{Range{First: 90, Last: 200}, 100, 90, 10, false}, // clamped to the end
		{Range{First: 5, Last: -1}, 100, 5, 95, false},    // open
		{Range{Suffix: 10}, 100, 90, 10, false},
		{Range{Suffix: 500}, 100, 0, 100, false}, // suffix longer than the object
		{Range{First: 100, Last: -1}, 100, 0, 0, true},
		{Range{First: 0, Last: 0}, 0, 0, 0, true},
		{Range{Suffix: 1}, 0, 0, 0, true},
		{Range{First: 99, Last: 99}, 100, 99, 1, false},
	}
	for _, tt := range tests {
		off, n, err := tt.r.resolve(tt.size)
		if tt.invalid {
			if !errors.Is(err, ErrInvalidRange) {
				t.Errorf("%+v of %d: got %v, want ErrInvalidRange", tt.r, tt.size, err)
			}
			continue
		}
		if err != nil || off != tt.off || n != tt.n {
			t.Errorf("%+v of %d: got (%d, %d, %v), want (%d, %d)", tt.r, tt.size, off, n, err, tt.off, tt.n)
		}
	}
}

func TestConditionsRFCOrder(t *testing.T) {
	lm := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	o := &meta.Object{ETag: "abc", LastModified: lm}
	before, after := lm.Add(-time.Hour), lm.Add(time.Hour)
	tests := []struct {
		name string
		c    Conditions
		want error
	}{
		{"none", Conditions{}, nil},
		{"if-match hit", Conditions{IfMatch: `"abc"`}, nil},
		{"if-match list and star", Conditions{IfMatch: `"x", *`}, nil},
		{"if-match miss", Conditions{IfMatch: `"x"`}, ErrPreconditionFailed},
		{"if-unmodified-since before", Conditions{IfUnmodifiedSince: before}, ErrPreconditionFailed},
		{"if-unmodified-since same second", Conditions{IfUnmodifiedSince: lm.Truncate(time.Second)}, nil},
		{"if-match wins over if-unmodified-since", Conditions{IfMatch: "abc", IfUnmodifiedSince: before}, nil},
		{"if-none-match hit", Conditions{IfNoneMatch: `"abc"`}, ErrNotModified},
		{"if-none-match miss", Conditions{IfNoneMatch: `"x"`}, nil},
		{"if-modified-since after", Conditions{IfModifiedSince: after}, ErrNotModified},
		{"if-modified-since before", Conditions{IfModifiedSince: before}, nil},
		{"if-none-match miss wins over if-modified-since", Conditions{IfNoneMatch: "x", IfModifiedSince: after}, nil},
		{"412 before 304", Conditions{IfMatch: "x", IfNoneMatch: "abc"}, ErrPreconditionFailed},
	}
	for _, tt := range tests {
		if got := tt.c.check(o); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidBucketName(t *testing.T) {
	for name, want := range map[string]bool{
		"abc": true, "my-bucket.2026": true, "ab": false, "Abc": false, "a..b": false, "-abc": false,
		"abc-": false, "192.168.1.1": false, "xn--abc": false, "abc-s3alias": false, "a.-b": false,
		"a_b": false, string(make([]byte, 64)): false,
	} {
		if got := ValidBucketName(name); got != want {
			t.Errorf("ValidBucketName(%q): got %v, want %v", name, got, want)
		}
	}
}
