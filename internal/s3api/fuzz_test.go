package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	blobfs "github.com/firnhq/firn/internal/blob/fs"
	"github.com/firnhq/firn/internal/meta/sqlite"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// FuzzParseRange checks that parseRange never panics and that what it
// returns is one well-formed range that formats back to itself.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"bytes=0-9", "bytes=5-", "bytes=-5", "bytes=-0", "bytes=0-0", "bytes=9-5", "bytes=0-1,2-3", "items=0-1",
		" bytes= 1 - 2 ", "bytes=-", "bytes=", "bytes=-9223372036854775808", "bytes=9223372036854775807-",
		"bytes=1-9223372036854775808", "bytes=+1-+2", "bytes=0x10-", "bytes=--1", "bytes=1--2", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := parseRange(v)
		if r == nil {
			return
		}
		if !strings.HasPrefix(strings.TrimSpace(v), "bytes=") || strings.Contains(v, ",") {
			t.Fatalf("parseRange(%q) = %+v, want nil for a non-bytes or multi-range header", v, *r)
		}
		var canon string
		switch {
		case r.Suffix > 0:
			if r.First != 0 || r.Last != 0 {
				t.Fatalf("parseRange(%q) = %+v: a suffix range with First/Last set", v, *r)
			}
			canon = fmt.Sprintf("bytes=-%d", r.Suffix)
		case r.Suffix < 0:
			t.Fatalf("parseRange(%q) = %+v: negative suffix", v, *r)
		case r.First < 0:
			t.Fatalf("parseRange(%q) = %+v: negative first byte", v, *r)
		case r.Last == -1:
			canon = fmt.Sprintf("bytes=%d-", r.First)
		case r.Last < r.First:
			t.Fatalf("parseRange(%q) = %+v: last before first", v, *r)
		default:
			canon = fmt.Sprintf("bytes=%d-%d", r.First, r.Last)
		}
		again := parseRange(canon)
		if again == nil || *again != *r {
			t.Fatalf("parseRange(%q) = %+v, but its canonical form %q parses to %+v", v, *r, canon, again)
		}
	})
}

const (
	fuzzAK     = "FUZZACCESSKEY"
	fuzzSK     = "fuzz-secret"
	fuzzBucket = "fuzz-bucket"
)

// fuzzServer is a Handler over real stores in a temporary directory,
// driven without a network listener.
type fuzzServer struct {
	h        *Handler
	svc      *object.Service
	uploadID string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	dir := f.TempDir()
	ms, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ms.Close() })
	bs, err := blobfs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		f.Fatal(err)
	}
	svc := object.New(object.Config{Meta: ms, Blobs: bs, Region: "us-east-1"})
	ver := &sigv4.Verifier{Region: "us-east-1", Lookup: func(_ context.Context, ak string) (string, error) {
		if ak == fuzzAK {
			return fuzzSK, nil
		}
		return "", sigv4.ErrInvalidAccessKeyID
	}}
	s := &fuzzServer{h: New(Config{Service: svc, Verifier: ver, Domains: []string{"localhost"}}), svc: svc}
	ctx := context.Background()
	if err := svc.CreateBucket(ctx, fuzzBucket, "", fuzzAK); err != nil {
		f.Fatal(err)
	}
	if _, err := svc.PutObject(ctx, object.PutInput{Bucket: fuzzBucket, Key: "obj", Owner: fuzzAK, Body: strings.NewReader("data"), Size: 4}); err != nil {
		f.Fatal(err)
	}
	s.newUpload(f)
	return s
}

func (s *fuzzServer) newUpload(tb testing.TB) {
	ctx := context.Background()
	u, err := s.svc.CreateMultipartUpload(ctx, object.CreateUploadInput{Bucket: fuzzBucket, Key: "mp", Owner: fuzzAK})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.svc.UploadPart(ctx, object.UploadPartInput{Bucket: fuzzBucket, Key: "mp", UploadID: u.ID, PartNumber: 1,
		Body: strings.NewReader("part"), Size: 4}); err != nil {
		tb.Fatal(err)
	}
	s.uploadID = u.ID
}

// do sends a signed request with body to the handler.
func (s *fuzzServer) do(t *testing.T, method, target string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://localhost"+target, bytes.NewReader(body))
	sum := md5.Sum(body)
	req.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	hash := sha256.Sum256(body)
	payload := hex.EncodeToString(hash[:])
	req.Header.Set("X-Amz-Content-Sha256", payload)
	err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
		SignHTTP(context.Background(), aws.Credentials{AccessKeyID: fuzzAK, SecretAccessKey: fuzzSK}, req, payload, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// FuzzXMLBodies feeds arbitrary documents to every XML request structure
// and through the handlers that decode and validate them
// (DeleteObjects, PutObjectTagging, CompleteMultipartUpload,
// CreateBucket): nothing panics, nothing is an internal error, and a
// document that does not decode is MalformedXML.
func FuzzXMLBodies(f *testing.F) {
	seeds := []string{
		`<Delete><Quiet>true</Quiet><Object><Key>obj</Key></Object><Object><Key>x</Key><VersionId>v</VersionId></Object></Delete>`,
		`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`,
		`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag><Tag><Key>a</Key><Value>c</Value></Tag></TagSet></Tagging>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"e"</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`,
		`<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`,
		`<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b</Key></Object></Delete>`,
		``, `<`, `<Delete>`, "<Delete><Object><Key>\xff</Key></Object></Delete>",
	}
	for i, s := range seeds {
		for op := range 4 {
			if i%4 == op || len(s) < 3 {
				f.Add([]byte(s), uint8(op))
			}
		}
	}
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte, op uint8) {
		// The request structures alone.
		docs := []any{&createBucketConfiguration{}, &deleteRequest{}, &completeMultipartUpload{}, &tagging{}}
		decodes := make([]bool, len(docs))
		for i, d := range docs {
			decodes[i] = xml.Unmarshal(data, d) == nil
		}
		var rec *httptest.ResponseRecorder
		var decoded bool
		switch op % 4 {
		case 0:
			rec, decoded = srv.do(t, http.MethodPost, "/"+fuzzBucket+"?delete", data), decodes[1]
			// Keep the object the next inputs may delete.
			if _, err := srv.svc.PutObject(context.Background(), object.PutInput{Bucket: fuzzBucket, Key: "obj", Owner: fuzzAK, Body: strings.NewReader("data"), Size: 4}); err != nil {
				t.Fatal(err)
			}
		case 1:
			rec, decoded = srv.do(t, http.MethodPut, "/"+fuzzBucket+"/obj?tagging", data), decodes[3]
		case 2:
			rec, decoded = srv.do(t, http.MethodPost, "/"+fuzzBucket+"/mp?uploadId="+srv.uploadID, data), decodes[2]
			if rec.Code == http.StatusOK {
				srv.newUpload(t)
			}
		case 3:
			rec, decoded = srv.do(t, http.MethodPut, "/"+fuzzBucket, data), decodes[0] || len(data) == 0
		}
		body := rec.Body.Bytes()
		if rec.Code >= 500 {
			t.Fatalf("op %d: status %d for %q: %s", op%4, rec.Code, data, body)
		}
		var apiErr struct {
			Code string `xml:"Code"`
		}
		if rec.Code >= 300 {
			if err := xml.Unmarshal(body, &apiErr); err != nil || apiErr.Code == "" {
				t.Fatalf("op %d: status %d without an S3 error document: %q", op%4, rec.Code, body)
			}
		}
		if !decoded && (rec.Code != http.StatusBadRequest || apiErr.Code != "MalformedXML") {
			t.Fatalf("op %d: %q does not decode, but got %d %s, want 400 MalformedXML", op%4, data, rec.Code, apiErr.Code)
		}
	})
}
