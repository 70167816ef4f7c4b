package s3

import (
	"testing"
	"time"
)

func TestParseRestore(t *testing.T) {
	for _, tc := range []struct {
		in      string
		ongoing bool
		expiry  time.Time
	}{
		{"", false, time.Time{}},
		{`ongoing-request="true"`, true, time.Time{}},
		{`ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`, false, time.Date(2012, 12, 21, 0, 0, 0, 0, time.UTC)},
		{`garbage`, false, time.Time{}},
	} {
		ongoing, expiry := ParseRestore(tc.in)
		if ongoing != tc.ongoing || !expiry.Equal(tc.expiry) {
			t.Errorf("ParseRestore(%q): got %v %v, want %v %v", tc.in, ongoing, expiry, tc.ongoing, tc.expiry)
		}
	}
}

func FuzzParseRestore(f *testing.F) {
	f.Add(`ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`)
	f.Fuzz(func(t *testing.T, s string) { ParseRestore(s) })
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, bucket, prefix string }{
		{"s3://b", "b", ""}, {"s3://b/", "b", ""}, {"s3://b/p/q/", "b", "p/q"},
	} {
		b, p, err := ParseURL(tc.in)
		if err != nil || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseURL(%q): %q %q %v", tc.in, b, p, err)
		}
	}
	for _, bad := range []string{"", "b/p", "s3://", "s3:///p", "http://b"} {
		if _, _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q): no error", bad)
		}
	}
}
