package s3api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// skewedSigner signs as if the clock were off by skew.
type skewedSigner struct {
	skew time.Duration
	v4   *v4.Signer
}

func (s skewedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) error {
	return s.v4.SignHTTP(ctx, creds, r, payloadHash, service, region, t.Add(s.skew), opts...)
}

func (s skewedSigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return s.v4.PresignHTTP(ctx, creds, r, payloadHash, service, region, t.Add(s.skew), opts...)
}

func s3Signer() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	e.put(b, "secret.txt", []byte("top secret"))

	t.Run("WrongSecret", func(t *testing.T) {
		c := e.withCreds(testAccessKey, "not-the-secret")
		_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantErr(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("intruder"), Body: strings.NewReader("x")})
		wantErr(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
		if e.exists(b, "intruder") {
			t.Errorf("object written with a wrong signature")
		}
		resp, body := e.raw(http.MethodGet, "/"+b+"/secret.txt", nil, rawOpts{secret: "nope"})
		wantXMLError(t, resp, body, "SignatureDoesNotMatch", http.StatusForbidden)
	})

	t.Run("UnknownAccessKey", func(t *testing.T) {
		_, err := e.withCreds("AKIAUNKNOWNKEY000000", testSecretKey).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
		wantErr(t, err, "InvalidAccessKeyId", http.StatusForbidden)
	})

	t.Run("Unsigned", func(t *testing.T) {
		for _, target := range []string{"/", "/" + b, "/" + b + "/secret.txt"} {
			resp, body := e.raw(http.MethodGet, target, nil, rawOpts{unsigned: true})
			doc := wantXMLError(t, resp, body, "AccessDenied", http.StatusForbidden)
			if doc.Resource != target {
				t.Errorf("Resource: got %q, want %q", doc.Resource, target)
			}
			if strings.Contains(string(body), "top secret") {
				t.Errorf("unsigned GET %s leaked the object", target)
			}
		}
		resp, _ := e.raw(http.MethodPut, "/"+b+"/anon", []byte("x"), rawOpts{unsigned: true})
		if resp.StatusCode != http.StatusForbidden || e.exists(b, "anon") {
			t.Errorf("unsigned PUT: got %d, exists %v; want 403, false", resp.StatusCode, e.exists(b, "anon"))
		}
	})

	t.Run("Presigned", func(t *testing.T) {
		pc := s3.NewPresignClient(e.s3)
		req, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")}, s3.WithPresignExpires(5*time.Minute))
		if err != nil {
			t.Fatalf("PresignGetObject: %v", err)
		}
		resp, err := e.http.Get(req.URL)
		if err != nil {
			t.Fatalf("GET presigned: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "top secret" {
			t.Errorf("presigned GET: got %d %q, want 200 %q", resp.StatusCode, body, "top secret")
		}

		// The signature covers the path: another key is refused.
		other := strings.Replace(req.URL, "/secret.txt", "/secret.tx", 1)
		resp, err = e.http.Get(other)
		if err != nil {
			t.Fatalf("GET tampered: %v", err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		wantXMLError(t, resp, body, "SignatureDoesNotMatch", http.StatusForbidden)

		put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("uploaded")})
		if err != nil {
			t.Fatalf("PresignPutObject: %v", err)
		}
		preq, _ := http.NewRequest(http.MethodPut, put.URL, bytes.NewReader([]byte("via presigned PUT")))
		for k, vs := range put.SignedHeader {
			if !strings.EqualFold(k, "host") {
				preq.Header[k] = vs
			}
		}
		resp, err = e.http.Do(preq)
		if err != nil {
			t.Fatalf("PUT presigned: %v", err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("presigned PUT: got %d %s, want 200", resp.StatusCode, body)
		}
		if got := e.get(b, "uploaded"); string(got) != "via presigned PUT" {
			t.Errorf("presigned PUT stored %q, want %q", got, "via presigned PUT")
		}
	})

	t.Run("PresignedExpired", func(t *testing.T) {
		pc := s3.NewPresignClient(e.s3, func(o *s3.PresignOptions) { o.Presigner = skewedSigner{-2 * time.Hour, s3Signer()} })
		req, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")}, s3.WithPresignExpires(time.Hour))
		if err != nil {
			t.Fatalf("PresignGetObject: %v", err)
		}
		resp, err := e.http.Get(req.URL)
		if err != nil {
			t.Fatalf("GET presigned: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		doc := wantXMLError(t, resp, body, "AccessDenied", http.StatusForbidden)
		if !strings.Contains(doc.Message, "expired") {
			t.Errorf("Message: got %q, want it to say the request expired", doc.Message)
		}
	})

	t.Run("ClockSkew", func(t *testing.T) {
		for _, tc := range []struct {
			skew time.Duration
			ok   bool
		}{{-20 * time.Minute, false}, {20 * time.Minute, false}, {-10 * time.Minute, true}, {10 * time.Minute, true}} {
			c := e.newClient("http://"+e.addr, true, func(o *s3.Options) { o.HTTPSignerV4 = skewedSigner{tc.skew, s3Signer()} })
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
			if tc.ok {
				if err != nil {
					t.Errorf("skew %v: got %v, want success", tc.skew, err)
				}
				continue
			}
			if got := status(err); got != http.StatusForbidden {
				t.Errorf("HEAD with skew %v: got status %d, want 403", tc.skew, got)
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
			wantErr(t, err, "RequestTimeTooSkewed", http.StatusForbidden)
		}
		resp, body := e.raw(http.MethodGet, "/"+b+"/secret.txt", nil, rawOpts{signTime: time.Now().Add(-20 * time.Minute)})
		wantXMLError(t, resp, body, "RequestTimeTooSkewed", http.StatusForbidden)
	})

	t.Run("WrongRegion", func(t *testing.T) {
		c := e.newClient("http://"+e.addr, true, func(o *s3.Options) { o.Region = "eu-west-1" })
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("secret.txt")})
		wantErr(t, err, "AuthorizationHeaderMalformed", http.StatusBadRequest)
	})

	t.Run("PayloadHashMismatch", func(t *testing.T) {
		resp, body := e.raw(http.MethodPut, "/"+b+"/tampered", []byte("actual body"), rawOpts{
			payloadHash: "a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e"}) // sha256("Hello World")
		wantXMLError(t, resp, body, "XAmzContentSHA256Mismatch", http.StatusBadRequest)
		if e.exists(b, "tampered") {
			t.Errorf("object stored despite a payload hash mismatch")
		}
	})

	t.Run("TamperedHeader", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, "http://"+e.addr+"/"+b+"/meta", bytes.NewReader([]byte("x")))
		req.Header.Set("X-Amz-Meta-Owner", "alice")
		e.sign(req, []byte("x"), rawOpts{})
		req.Header.Set("X-Amz-Meta-Owner", "mallory")
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatalf("PUT: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantXMLError(t, resp, body, "SignatureDoesNotMatch", http.StatusForbidden)
	})

	t.Run("SignatureV2", func(t *testing.T) {
		resp, body := e.raw(http.MethodGet, "/"+b+"/secret.txt", nil, rawOpts{unsigned: true,
			header: http.Header{"Authorization": {"AWS " + testAccessKey + ":c2lnbmF0dXJl"}, "Date": {time.Now().UTC().Format(http.TimeFormat)}}})
		wantXMLError(t, resp, body, "InvalidRequest", http.StatusBadRequest)
	})
}
