package glacierapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// FuzzServeHTTP sends correctly signed requests with arbitrary methods,
// paths, bodies and version headers: the handler must never panic, never
// fail internally (the store works), and always answer with a request id
// and, for errors, a well-formed Glacier error.
func FuzzServeHTTP(f *testing.F) {
	for _, s := range []struct {
		method, path, version string
		body                  []byte
	}{
		{"GET", "/-/policies/data-retrieval", APIVersion, nil},
		{"PUT", "/-/policies/data-retrieval", APIVersion, []byte(`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":10737418240}]}}`)},
		{"PUT", "/111122223333/policies/data-retrieval", APIVersion, []byte(`{"Policy":{"Rules":[{"Strategy":"FreeTier"}]}}`)},
		{"PUT", "/-/policies/data-retrieval", APIVersion, []byte(`{"Policy":{"Rules":[]}}`)},
		{"POST", "/-/vaults/v/jobs", APIVersion, []byte(`{"Type":"archive-retrieval","Tier":"Standard"}`)},
		{"GET", "/-/vaults/v%2Fw/jobs?statuscode=InProgress", APIVersion, nil},
		{"DELETE", "//", "", nil},
		{"GET", "/-/policies/data-retrieval", "2011-01-01", nil},
	} {
		f.Add(s.method, s.path, s.version, s.body)
	}
	h, err := New(Config{
		Verifier:  &sigv4.Verifier{Region: testRegion, Service: Service, Lookup: lookup},
		Store:     &retrieval.MemStore{},
		AccountID: testAccount,
	})
	if err != nil {
		f.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	signer := v4.NewSigner()
	f.Fuzz(func(t *testing.T, method, path, version string, body []byte) {
		r, err := http.NewRequest(method, "http://firn.test"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		if version != "" {
			r.Header.Set("X-Amz-Glacier-Version", version)
			if r.Header.Get("X-Amz-Glacier-Version") != version {
				return // not a valid header value
			}
		}
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), Service, testRegion, time.Now()); err != nil {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Header().Get("x-amzn-RequestId") == "" {
			t.Fatalf("%s %q: no request id", method, path)
		}
		switch w.Code {
		case 200, 204:
		case 400, 403, 404:
			var e struct{ Code, Message, Type string }
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == "" || e.Type != "Client" {
				t.Fatalf("%s %q: HTTP %d with body %q", method, path, w.Code, w.Body)
			}
		default:
			t.Fatalf("%s %q: HTTP %d %s", method, path, w.Code, w.Body)
		}
	})
}
