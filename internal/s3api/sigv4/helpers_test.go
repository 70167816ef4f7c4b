package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// docTime is the date of the AWS documentation examples.
var docTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

// keys is the credential store of the tests.
var keys = map[string]string{
	docAccessKey: docSecret,
	"AKID2":      "secret/with+special=chars",
}

func lookup(_ context.Context, ak string) (string, error) {
	if s, ok := keys[ak]; ok {
		return s, nil
	}
	return "", ErrInvalidAccessKeyID
}

func newVerifier(now time.Time) *Verifier {
	return &Verifier{Region: "us-east-1", Lookup: lookup, Now: func() time.Time { return now }}
}

// parseWire parses a raw HTTP/1.1 request the way net/http's server does.
func parseWire(t testing.TB, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	return r
}

// toServer sends a client request through the wire format and parses it
// back, as a server would receive it.
func toServer(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("Write: %v", err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("ReadRequest: %v\n%s", err, buf.String())
	}
	return r
}

// wantKind fails unless err wraps kind.
func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	if kind == nil {
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.CanonicalRequest != "" {
				t.Fatalf("unexpected error: %v\ncanonical request:\n%s\nstring to sign:\n%s", err, e.CanonicalRequest, e.StringToSign)
			}
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
}

// readAll reads a Result body completely.
func readAll(t testing.TB, res *Result) ([]byte, error) {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return b, err
}

// refSigner is a minimal, independent SigV4 signer used for what the AWS SDK
// for Go cannot produce (Date-only requests, signed trailers).
type refSigner struct {
	secret, date, region, service, amzDate string
}

func (s refSigner) key() []byte {
	mac := func(k []byte, d string) []byte {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(d))
		return m.Sum(nil)
	}
	k := mac([]byte("AWS4"+s.secret), s.date)
	k = mac(k, s.region)
	k = mac(k, s.service)
	return mac(k, "aws4_request")
}

func (s refSigner) scope() string {
	return s.date + "/" + s.region + "/" + s.service + "/aws4_request"
}

func (s refSigner) sign(sts string) string {
	m := hmac.New(sha256.New, s.key())
	m.Write([]byte(sts))
	return hex.EncodeToString(m.Sum(nil))
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signCanonical signs a hand-written canonical request.
func (s refSigner) signCanonical(cr string) string {
	return s.sign("AWS4-HMAC-SHA256\n" + s.amzDate + "\n" + s.scope() + "\n" + hexSHA([]byte(cr)))
}

func (s refSigner) chunkSig(prev string, data []byte) string {
	return s.sign("AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope() + "\n" + prev + "\n" + EmptySHA256 + "\n" + hexSHA(data))
}

func (s refSigner) trailerSig(prev string, trailers [][2]string) string {
	sorted := slices.Clone(trailers)
	slices.SortFunc(sorted, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	var b strings.Builder
	for _, t := range sorted {
		fmt.Fprintf(&b, "%s:%s\n", t[0], t[1])
	}
	return s.sign("AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope() + "\n" + prev + "\n" + hexSHA([]byte(b.String())))
}

// encodeSigned builds a signed aws-chunked body; it returns the body and
// the final chunk signature.
func (s refSigner) encodeSigned(seed string, data []byte, chunk int, trailers [][2]string, withTrailer bool) []byte {
	var b bytes.Buffer
	prev := seed
	for len(data) > 0 {
		n := min(chunk, len(data))
		prev = s.chunkSig(prev, data[:n])
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", n, prev)
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	prev = s.chunkSig(prev, nil)
	fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", prev)
	if withTrailer {
		for _, t := range trailers {
			fmt.Fprintf(&b, "%s:%s\r\n", t[0], t[1])
		}
		fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n", s.trailerSig(prev, trailers))
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// encodeUnsigned builds an unsigned aws-chunked body with trailers, as the
// AWS SDKs do.
func encodeUnsigned(data []byte, chunk int, trailers [][2]string) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(chunk, len(data))
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	b.WriteString("0\r\n")
	for _, t := range trailers {
		fmt.Fprintf(&b, "%s:%s\r\n", t[0], t[1])
	}
	b.WriteString("\r\n")
	return b.Bytes()
}
