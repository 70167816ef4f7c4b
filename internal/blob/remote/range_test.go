package remote

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/firnhq/firn/internal/blob"
)

func TestRangeHeader(t *testing.T) {
	tests := []struct {
		offset, length int64
		want           string
	}{
		{0, -1, ""},
		{0, math.MaxInt64, "bytes=0-9223372036854775806"},
		{10, -1, "bytes=10-"},
		{0, 1, "bytes=0-0"},
		{0, 10, "bytes=0-9"},
		{5, 10, "bytes=5-14"},
		{7, 0, "bytes=7-7"},
		{10, math.MaxInt64, "bytes=10-"},
		{math.MaxInt64 - 1, 1, "bytes=9223372036854775806-9223372036854775806"},
	}
	for _, tc := range tests {
		if got := rangeHeader(tc.offset, tc.length); got != tc.want {
			t.Errorf("rangeHeader(%d, %d): got %q, want %q", tc.offset, tc.length, got, tc.want)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{blob.NewID(), true},
		{"0123456789abcdef0123456789abcdef", true},
		{"0123456789ABCDEF0123456789abcdef", false},
		{"0123456789abcdef0123456789abcde", false},
		{"0123456789abcdef0123456789abcdef0", false},
		{"../3456789abcdef0123456789abcdef", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := blob.ValidID(tc.id); got != tc.want {
			t.Errorf("blob.ValidID(%q): got %v, want %v", tc.id, got, tc.want)
		}
	}
}

// TestRangeIgnored: a server that answers a ranged GET with the whole
// object still gives the caller only the range.
func TestRangeIgnored(t *testing.T) {
	const body = "0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	}))
	defer srv.Close()
	s, err := New(Config{Endpoint: srv.URL, Bucket: "b", AccessKey: "a", SecretKey: "s", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		offset, length int64
		want           string
	}{
		{0, -1, body},
		{3, -1, body[3:]},
		{3, 4, body[3:7]},
		{0, 2, body[:2]},
		{8, 5, body[8:]},
		{4, 0, ""},
	}
	for _, tc := range tests {
		r, err := s.Open(t.Context(), blob.NewID(), tc.offset, tc.length)
		if err != nil {
			t.Errorf("Open(%d, %d): %v", tc.offset, tc.length, err)
			continue
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != tc.want {
			t.Errorf("Open(%d, %d): got (%q, %v), want %q", tc.offset, tc.length, got, err, tc.want)
		}
	}
}
