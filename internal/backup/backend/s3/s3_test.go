package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
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

// TestPutSignsNameHash: a file named by the SHA-256 of its bytes is
// signed with that hash as payload hash, with no extra checksum; other
// names get the SDK's own hash of the body.
func TestPutSignsNameHash(t *testing.T) {
	type req struct {
		path, payloadHash string
		checksums         []string
		body              []byte
	}
	got := make(chan req, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rq := req{path: r.URL.Path, payloadHash: r.Header.Get("X-Amz-Content-Sha256"), body: body}
		for h := range r.Header {
			if strings.HasPrefix(strings.ToLower(h), "x-amz-checksum-") || strings.EqualFold(h, "x-amz-trailer") {
				rq.checksums = append(rq.checksums, h)
			}
		}
		got <- rq
	}))
	defer srv.Close()
	be, err := Open(context.Background(), Config{URL: "s3://b/p", Endpoint: srv.URL, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", "")})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("pack bytes")
	sum := sha256.Sum256(data)
	named := hex.EncodeToString(sum[:])
	for _, tc := range []struct{ name, wantHash string }{
		{"data/" + named, named},
		{"config", named}, // computed by the SDK
		{"data/" + strings.Repeat("ab", 32), strings.Repeat("ab", 32)}, // the name is trusted: the endpoint rejects a mismatch
	} {
		if err := be.Put(context.Background(), tc.name, data, ""); err != nil {
			t.Fatalf("Put %s: %v", tc.name, err)
		}
		r := <-got
		if r.path != "/b/p/"+tc.name || r.payloadHash != tc.wantHash || string(r.body) != string(data) {
			t.Errorf("Put %s: request %s, payload hash %s, body %q; want hash %s", tc.name, r.path, r.payloadHash, r.body, tc.wantHash)
		}
		if tc.name != "config" && len(r.checksums) > 0 {
			t.Errorf("Put %s: checksum headers %v, want none", tc.name, r.checksums)
		}
	}
}

func TestNameHash(t *testing.T) {
	h := strings.Repeat("0f", 32)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"data/" + h, true}, {"keys/" + h, true}, {"config", false}, {h, false},
		{"data/" + strings.ToUpper(h), false}, {"data/" + h[:62], false}, {"data/" + h[:63] + "g", false},
	} {
		if got, ok := nameHash(tc.name); ok != tc.ok || (ok && got != h) {
			t.Errorf("nameHash(%q) = %q, %v; want ok %v", tc.name, got, ok, tc.ok)
		}
	}
}
