package s3api_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func contentMD5(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func TestMalformedXML(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	e.put(b, "keep", []byte("keep"))
	if _, err := e.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("keep"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("t"), Value: aws.String("1")}}}}); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	id := e.upload(b, "mp")
	part := e.part(b, "mp", id, 1, []byte("only part"))

	bodies := map[string]string{
		"garbage":      "this is not xml",
		"truncated":    "<Delete><Object><Key>keep</Key></Obj",
		"wrong-root":   "<Something><Object><Key>keep</Key></Object></Something>",
		"bad-utf8":     "<Delete><Object><Key>\xff\xfe</Key></Object></Delete>",
		"empty-doc":    " ",
		"unclosed":     "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet>",
		"entity-bomb":  `<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>`,
		"wrong-number": "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
	}
	for name, doc := range bodies {
		t.Run(name, func(t *testing.T) {
			body := []byte(doc)
			hdr := http.Header{"Content-Md5": {contentMD5(body)}}
			for _, target := range []string{
				"/" + b + "?delete",
				"/" + b + "/keep?tagging",
				"/" + b + "/mp?uploadId=" + aws.ToString(id),
			} {
				method := http.MethodPost
				if strings.HasSuffix(target, "?tagging") {
					method = http.MethodPut
				}
				resp, rb := e.raw(method, target, body, rawOpts{header: hdr})
				wantXMLError(t, resp, rb, "MalformedXML", http.StatusBadRequest)
			}
			resp, rb := e.raw(http.MethodPut, "/malformed-create-bucket", body, rawOpts{})
			wantXMLError(t, resp, rb, "MalformedXML", http.StatusBadRequest)
		})
	}
	// Nothing changed.
	if !e.exists(b, "keep") {
		t.Errorf("keep was deleted by a malformed DeleteObjects")
	}
	tags, err := e.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("keep")})
	if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "t" {
		t.Errorf("tags after malformed PutObjectTagging: got %+v (%v), want t=1", tags, err)
	}
	if e.exists(b, "mp") {
		t.Errorf("malformed CompleteMultipartUpload created the object")
	}
	if _, err := e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("malformed-create-bucket")}); status(err) != http.StatusNotFound {
		t.Errorf("bucket created from a malformed body: HeadBucket got %v, want 404", err)
	}
	// The upload still completes.
	if _, err := e.complete(b, "mp", id, part); err != nil {
		t.Errorf("CompleteMultipartUpload after malformed attempts: %v", err)
	}
}

// rawConn sends a signed request over its own connection with a body
// shorter than Content-Length, closes the sending side and returns what
// came back (nil if the server closed without answering).
func (e *env) truncatedPut(target string, declared int64, sent []byte) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+e.addr+target, nil)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	req.ContentLength = declared
	e.sign(req, nil, rawOpts{payloadHash: "UNSIGNED-PAYLOAD"})
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", target, e.addr, declared)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(append(head.Bytes(), sent...)); err != nil {
		e.t.Fatalf("write: %v", err)
	}
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return nil
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp
}

func TestTruncatedUpload(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	e.put(b, "existing", []byte("original"))
	for _, tc := range []struct {
		name     string
		declared int64
		sent     int
	}{{"inline", 1000, 100}, {"blob", 1 << 20, 300 << 10}, {"overwrite", 500 << 10, 200 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "cut-" + tc.name
			if tc.name == "overwrite" {
				key = "existing"
			}
			before := e.blobFiles()
			resp := e.truncatedPut("/"+b+"/"+key, tc.declared, pattern(tc.sent))
			if resp != nil && resp.StatusCode != http.StatusBadRequest {
				t.Errorf("truncated PUT: got status %d, want 400 (or a closed connection)", resp.StatusCode)
			}
			// The server may still be unwinding if it did not answer.
			deadline := time.Now().Add(5 * time.Second)
			for e.blobFiles() != before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := e.blobFiles(); got != before {
				t.Errorf("blob files after truncated PUT: got %d, want %d", got, before)
			}
			if tc.name == "overwrite" {
				if got := e.get(b, key); string(got) != "original" {
					t.Errorf("existing object after truncated overwrite: got %q, want %q", got, "original")
				}
			} else if e.exists(b, key) {
				t.Errorf("truncated PUT left an object")
			}
		})
	}
	t.Run("part", func(t *testing.T) {
		id := e.upload(b, "mp")
		resp := e.truncatedPut("/"+b+"/mp?partNumber=1&uploadId="+aws.ToString(id), 1<<20, pattern(1000))
		if resp != nil && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("truncated UploadPart: got status %d, want 400", resp.StatusCode)
		}
		parts, err := e.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: id})
		if err != nil {
			t.Fatalf("ListParts: %v", err)
		}
		if len(parts.Parts) != 0 {
			t.Errorf("parts after truncated UploadPart: got %d, want 0", len(parts.Parts))
		}
	})
}

func TestHostileRequests(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	e.put(b, "ok", []byte("fine"))

	t.Run("InvalidUTF8Key", func(t *testing.T) {
		for _, tc := range []struct{ method, target string }{
			{http.MethodPut, "/" + b + "/%FF%FE"},
			{http.MethodGet, "/" + b + "/bad%C3"},
			{http.MethodHead, "/" + b + "/%80"},
			{http.MethodDelete, "/" + b + "/a%ED%A0%80b"}, // an encoded surrogate
			{http.MethodPost, "/" + b + "/%FF?uploads"},
			{http.MethodPut, "/" + b + "/%FF?tagging"},
			{http.MethodGet, "/" + b + "?prefix=%FF"},
			{http.MethodGet, "/" + b + "?list-type=2&start-after=%FF&delimiter=%FE"},
		} {
			var body []byte
			if tc.method == http.MethodPut {
				body = []byte("<Tagging><TagSet></TagSet></Tagging>")
			}
			resp, rb := e.raw(tc.method, tc.target, body, rawOpts{})
			if resp.StatusCode >= 500 {
				t.Errorf("%s %s: got %d %s, want a 4xx S3 error", tc.method, tc.target, resp.StatusCode, rb)
			}
			if strings.Contains(tc.target, "?prefix") || strings.Contains(tc.target, "start-after") {
				continue // listing with such a prefix is harmless and may succeed
			}
			if tc.method == http.MethodHead {
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s %s: got %d, want 400", tc.method, tc.target, resp.StatusCode)
				}
				continue
			}
			wantXMLError(t, resp, rb, "InvalidURI", http.StatusBadRequest)
		}
		// Copy source and multi-delete keys too.
		resp, rb := e.raw(http.MethodPut, "/"+b+"/dst", nil, rawOpts{header: http.Header{"X-Amz-Copy-Source": {b + "/%FF"}}})
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("copy from an invalid UTF-8 key: got %d %s, want 4xx", resp.StatusCode, rb)
		}
		if got := e.keys(b); !slices.Equal(got, []string{"ok"}) {
			t.Errorf("keys: got %q, want [ok]", got)
		}
	})

	t.Run("OversizedHeader", func(t *testing.T) {
		resp, _ := e.raw(http.MethodGet, "/"+b+"/ok", nil, rawOpts{header: http.Header{"X-Padding": {strings.Repeat("p", 100<<10)}}})
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("100 KiB header: got %d, want 431 or 400", resp.StatusCode)
		}
		// Past S3's 8 KB header section but within what net/http reads:
		// S3's own error.
		resp, rb := e.raw(http.MethodGet, "/"+b+"/ok", nil, rawOpts{header: http.Header{"X-Padding": {strings.Repeat("p", 16<<10)}}})
		wantXMLError(t, resp, rb, "RequestHeaderSectionTooLarge", http.StatusBadRequest)
		// Many user metadata headers together past 2 KiB.
		hdr := http.Header{}
		for i := range 40 {
			hdr.Set(fmt.Sprintf("X-Amz-Meta-Field%02d", i), strings.Repeat("m", 60))
		}
		resp, rb = e.raw(http.MethodPut, "/"+b+"/meta", []byte("x"), rawOpts{header: hdr})
		wantXMLError(t, resp, rb, "MetadataTooLarge", http.StatusBadRequest)
		// The server still serves.
		if got := e.get(b, "ok"); string(got) != "fine" {
			t.Errorf("GetObject after hostile requests: got %q, want %q", got, "fine")
		}
	})

	t.Run("MethodsAndSubresources", func(t *testing.T) {
		for _, tc := range []struct {
			method, target, code string
			status               int
		}{
			{"PATCH", "/" + b + "/ok", "MethodNotAllowed", 405},
			{"PATCH", "/" + b, "MethodNotAllowed", 405},
			{http.MethodPost, "/", "MethodNotAllowed", 405},
			// Configurations no bucket can have yet read as unset, as on S3.
			{http.MethodGet, "/" + b + "?policy", "NoSuchBucketPolicy", 404},
			{http.MethodGet, "/" + b + "?cors", "NoSuchCORSConfiguration", 404},
			{http.MethodGet, "/" + b + "?lifecycle", "NoSuchLifecycleConfiguration", 404},
			{http.MethodGet, "/" + b + "?tagging", "NoSuchTagSet", 404},
			{http.MethodGet, "/missing-bucket?policy", "NoSuchBucket", 404},
			{http.MethodPut, "/" + b + "?object-lock", "NotImplemented", 501},
			{http.MethodPost, "/" + b + "/ok?select", "NotImplemented", 501},
		} {
			resp, rb := e.raw(tc.method, tc.target, nil, rawOpts{})
			wantXMLError(t, resp, rb, tc.code, tc.status)
		}
	})

	t.Run("BadParameters", func(t *testing.T) {
		for _, target := range []string{
			"/" + b + "/ok?partNumber=abc",
			"/" + b + "?uploads&max-uploads=-3",
			"/" + b + "/ok?uploadId=x&max-parts=z",
		} {
			resp, rb := e.raw(http.MethodGet, target, nil, rawOpts{})
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: got %d %s, want 400 or 404", target, resp.StatusCode, rb)
			}
		}
		resp, rb := e.raw(http.MethodPut, "/"+b+"/ok2", []byte("x"), rawOpts{header: http.Header{"X-Amz-Tagging": {"a=%zz"}}})
		wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
	})
}
