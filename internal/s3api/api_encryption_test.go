package s3api_test

// Server-side encryption at rest as AWS serves it: SSE-S3 (the bucket
// default on a server with a master key), SSE-C (keys the client sends
// with every request, with or without a master key), the bucket
// encryption configuration, ranges over the 64 KiB packages of the
// stream format, multipart, copies, the archive tier and restores, and
// that no plaintext reaches the disk.

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/sse"
)

const sseAES256 = types.ServerSideEncryptionAes256

// sseEnv starts a server with a master key (SSE-S3 on by default), with
// the configuration further adjusted by tune.
func sseEnv(t *testing.T, tune ...func(*config.Server)) *env {
	return newEnvWith(t, func(c *config.Server) {
		c.MasterKey = sse.GenerateKeyLine("k1")
		for _, f := range tune {
			f(c)
		}
	})
}

// fastRestores makes restores complete as fast as the media allows.
func fastRestores(c *config.Server) {
	c.RestoreLatency = "Expedited=0s,Standard=0s,Bulk=0s"
	c.RestoreEvery = 20 * time.Millisecond
}

// seeded returns n pseudo-random bytes from seed (different seeds give
// unrelated bytes, unlike pattern, which always starts alike).
func seeded(n int, seed byte) []byte {
	var s [32]byte
	s[0], s[1] = seed, 0xA5
	b := make([]byte, n)
	mrand.NewChaCha8(s).Read(b)
	return b
}

// ssecKey is an SSE-C customer key as the headers carry it.
type ssecKey struct {
	raw      []byte
	b64, md5 string
}

func newSSECKey(t *testing.T) ssecKey {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return ssecKeyOf(raw)
}

func ssecKeyOf(raw []byte) ssecKey {
	s := md5.Sum(raw)
	return ssecKey{raw: raw, b64: base64.StdEncoding.EncodeToString(raw), md5: base64.StdEncoding.EncodeToString(s[:])}
}

// header returns the SSE-C headers of k.
func (k ssecKey) header() http.Header { return ssecHeader("AES256", k.b64, k.md5) }

// ssecHeader returns SSE-C headers ("" values left out).
func ssecHeader(alg, key, sum string) http.Header {
	h := http.Header{}
	set := func(name, v string) {
		if v != "" {
			h.Set(name, v)
		}
	}
	set("x-amz-server-side-encryption-customer-algorithm", alg)
	set("x-amz-server-side-encryption-customer-key", key)
	set("x-amz-server-side-encryption-customer-key-MD5", sum)
	return h
}

// The SDK sends SSECustomerKey as given (it neither encodes it nor
// computes its MD5: aws-sdk-go-v2 has no customization for it), so the
// key goes as base64 with its MD5.
func (k ssecKey) putIn(in *s3.PutObjectInput) *s3.PutObjectInput {
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(k.b64), aws.String(k.md5)
	return in
}

// putSSEC stores body under bucket/key encrypted with k.
func (e *env) putSSEC(t *testing.T, bucket, key string, body []byte, k ssecKey, class types.StorageClass) *s3.PutObjectOutput {
	t.Helper()
	out, err := e.s3.PutObject(ctx, k.putIn(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), StorageClass: class}))
	if err != nil {
		t.Fatalf("PutObject SSE-C %s/%s: %v", bucket, key, err)
	}
	return out
}

// getEnc GETs bucket/key with an optional SSE-C key, range (""
// none) and part number (0 none).
func (e *env) getEnc(bucket, key string, k *ssecKey, rng string, partNumber int32) ([]byte, *s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if k != nil {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(k.b64), aws.String(k.md5)
	}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	if partNumber > 0 {
		in.PartNumber = aws.Int32(partNumber)
	}
	out, err := e.s3.GetObject(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out, err
}

// headEnc HEADs bucket/key with an optional SSE-C key.
func (e *env) headEnc(bucket, key string, k *ssecKey) (*s3.HeadObjectOutput, error) {
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if k != nil {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(k.b64), aws.String(k.md5)
	}
	return e.s3.HeadObject(ctx, in)
}

// wantGet fails t unless GET of bucket/key (with k, rng, part) returns
// want; it returns the answer.
func (e *env) wantGet(t *testing.T, bucket, key string, k *ssecKey, rng string, part int32, want []byte) *s3.GetObjectOutput {
	t.Helper()
	got, out, err := e.getEnc(bucket, key, k, rng, part)
	if err != nil {
		t.Fatalf("GetObject %s/%s range %q part %d: %v", bucket, key, rng, part, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("GetObject %s/%s range %q part %d: got %d bytes (md5 %s), want %d bytes (md5 %s)%s",
			bucket, key, rng, part, len(got), md5hex(got), len(want), md5hex(want), firstDiff(got, want))
	}
	return out
}

// firstDiff describes where got first differs from want.
func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("; first difference at byte %d", i)
		}
	}
	return ""
}

// wantSSES3 checks that an answer says SSE-S3 (and not SSE-C).
func wantSSES3(t *testing.T, what string, got types.ServerSideEncryption, alg, keyMD5 *string) {
	t.Helper()
	if got != sseAES256 {
		t.Errorf("%s: x-amz-server-side-encryption %q, want AES256", what, got)
	}
	if alg != nil || keyMD5 != nil {
		t.Errorf("%s: SSE-C headers %q/%q on an SSE-S3 object, want none", what, aws.ToString(alg), aws.ToString(keyMD5))
	}
}

// wantSSEC checks that an answer says SSE-C with key k (and not SSE-S3).
func wantSSEC(t *testing.T, what string, k ssecKey, got types.ServerSideEncryption, alg, keyMD5 *string) {
	t.Helper()
	if aws.ToString(alg) != "AES256" || aws.ToString(keyMD5) != k.md5 {
		t.Errorf("%s: SSE-C algorithm %q key-MD5 %q, want AES256 and %q", what, aws.ToString(alg), aws.ToString(keyMD5), k.md5)
	}
	if got != "" {
		t.Errorf("%s: x-amz-server-side-encryption %q on an SSE-C object, want none", what, got)
	}
}

// wantStatus fails t unless err is an error with HTTP status code (HEAD
// answers have no body, so no S3 error code).
func wantStatus(t *testing.T, what string, err error, codes ...int) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got success, want HTTP %v", what, codes)
		return
	}
	if !slices.Contains(codes, status(err)) {
		t.Errorf("%s: HTTP status %d, want %v (err: %v)", what, status(err), codes, err)
	}
}

// waitRestored waits until bucket/key (opened with k, if not nil) has a
// finished restore.
func (e *env) waitRestored(t *testing.T, bucket, key string, k *ssecKey) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := e.headEnc(bucket, key, k)
		if err != nil {
			t.Fatalf("HeadObject %s/%s while restoring: %v", bucket, key, err)
		}
		if strings.HasPrefix(aws.ToString(h.Restore), `ongoing-request="false"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore of %s/%s did not complete: x-amz-restore %q", bucket, key, aws.ToString(h.Restore))
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func (e *env) restore(t *testing.T, bucket, key string) {
	t.Helper()
	out, err := e.s3.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(30), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}})
	if err != nil {
		t.Fatalf("RestoreObject %s/%s: %v", bucket, key, err)
	}
	if s := httpStatusOf(out.ResultMetadata); s != http.StatusAccepted {
		t.Errorf("RestoreObject %s/%s: status %d, want 202", bucket, key, s)
	}
}

// TestEncryptionDefaultSSES3: on a server with a master key every new
// object is encrypted with SSE-S3 (the bucket default, as on AWS since
// 2023), PUT/GET/HEAD say so, and the bucket encryption configuration
// reads AES256, round-trips, refuses aws:kms without a KMS and falls
// back to AES256 when deleted.
func TestEncryptionDefaultSSES3(t *testing.T) {
	e := sseEnv(t)
	b := e.bucket()

	for _, tc := range []struct {
		name string
		size int
	}{{"empty", 0}, {"inline", 1000}, {"blob", 200 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			body := seeded(tc.size, 1)
			put := e.put(b, tc.name, body)
			wantSSES3(t, "PutObject", put.ServerSideEncryption, put.SSECustomerAlgorithm, put.SSECustomerKeyMD5)
			if got := aws.ToString(put.ETag); got != etagOf(body) {
				t.Errorf("PutObject ETag: got %s, want the MD5 of the plaintext %s", got, etagOf(body))
			}
			out := e.wantGet(t, b, tc.name, nil, "", 0, body)
			wantSSES3(t, "GetObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
			if got := aws.ToString(out.ETag); got != etagOf(body) {
				t.Errorf("GetObject ETag: got %s, want %s", got, etagOf(body))
			}
			h, err := e.headEnc(b, tc.name, nil)
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			wantSSES3(t, "HeadObject", h.ServerSideEncryption, h.SSECustomerAlgorithm, h.SSECustomerKeyMD5)
			if aws.ToInt64(h.ContentLength) != int64(tc.size) {
				t.Errorf("HeadObject Content-Length: got %d, want the plaintext size %d", aws.ToInt64(h.ContentLength), tc.size)
			}
			// On the wire, exactly as AWS names it.
			for _, m := range []string{http.MethodGet, http.MethodHead} {
				resp, _ := e.raw(m, "/"+b+"/"+tc.name, nil, rawOpts{})
				if resp.StatusCode != http.StatusOK || resp.Header.Get("x-amz-server-side-encryption") != "AES256" {
					t.Errorf("%s: status %d, x-amz-server-side-encryption %q, want 200 and AES256", m, resp.StatusCode, resp.Header.Get("x-amz-server-side-encryption"))
				}
				if resp.Header.Get("Content-Length") != fmt.Sprint(tc.size) {
					t.Errorf("%s: Content-Length %q, want the plaintext size %d", m, resp.Header.Get("Content-Length"), tc.size)
				}
			}
		})
	}

	t.Run("ListObjectsV2 size is the plaintext's", func(t *testing.T) {
		lo, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("blob")})
		if err != nil || len(lo.Contents) != 1 || aws.ToInt64(lo.Contents[0].Size) != 200<<10 || aws.ToString(lo.Contents[0].ETag) != etagOf(seeded(200<<10, 1)) {
			t.Errorf("ListObjectsV2: %v %+v, want blob with size %d and the plaintext's MD5", err, lo, 200<<10)
		}
	})

	t.Run("explicit AES256", func(t *testing.T) {
		put, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("explicit"),
			Body: strings.NewReader("explicit"), ServerSideEncryption: sseAES256})
		if err != nil {
			t.Fatalf("PutObject x-amz-server-side-encryption AES256: %v", err)
		}
		wantSSES3(t, "PutObject", put.ServerSideEncryption, put.SSECustomerAlgorithm, put.SSECustomerKeyMD5)
		e.wantGet(t, b, "explicit", nil, "", 0, []byte("explicit"))
	})

	t.Run("PUT with an unknown algorithm", func(t *testing.T) {
		resp, body := e.raw(http.MethodPut, "/"+b+"/bad-alg", []byte("x"), rawOpts{header: http.Header{"X-Amz-Server-Side-Encryption": {"AES128"}}})
		wantXMLError(t, resp, body, "InvalidArgument", http.StatusBadRequest)
		if e.exists(b, "bad-alg") {
			t.Errorf("a refused PUT created the object")
		}
	})

	t.Run("bucket encryption configuration", func(t *testing.T) {
		getAlg := func(what string) types.ServerSideEncryption {
			t.Helper()
			out, err := e.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
			if err != nil {
				t.Fatalf("GetBucketEncryption %s: %v", what, err)
			}
			rules := out.ServerSideEncryptionConfiguration.Rules
			if len(rules) != 1 || rules[0].ApplyServerSideEncryptionByDefault == nil {
				t.Fatalf("GetBucketEncryption %s: rules %+v, want exactly one with ApplyServerSideEncryptionByDefault", what, rules)
			}
			return rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm
		}
		if got := getAlg("of a new bucket"); got != sseAES256 {
			t.Errorf("GetBucketEncryption of a new bucket: SSEAlgorithm %q, want AES256", got)
		}
		put := func(alg types.ServerSideEncryption) error {
			_, err := e.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b),
				ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{
					{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg}}}}})
			return err
		}
		if err := put(sseAES256); err != nil {
			t.Fatalf("PutBucketEncryption AES256: %v", err)
		}
		if got := getAlg("after PUT AES256"); got != sseAES256 {
			t.Errorf("GetBucketEncryption after PUT AES256: %q", got)
		}
		for _, alg := range []types.ServerSideEncryption{types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse} {
			wantErr(t, put(alg), "InvalidArgument", http.StatusBadRequest)
		}
		if got := getAlg("after refused aws:kms"); got != sseAES256 {
			t.Errorf("GetBucketEncryption after a refused aws:kms: %q, want AES256 unchanged", got)
		}
		del, err := e.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("DeleteBucketEncryption: %v", err)
		}
		if s := httpStatusOf(del.ResultMetadata); s != http.StatusNoContent {
			t.Errorf("DeleteBucketEncryption: status %d, want 204", s)
		}
		if got := getAlg("after DELETE"); got != sseAES256 {
			t.Errorf("GetBucketEncryption after DeleteBucketEncryption: %q, want the AES256 default", got)
		}
		// New objects are still encrypted.
		p := e.put(b, "after-delete", []byte("still encrypted"))
		wantSSES3(t, "PutObject after DeleteBucketEncryption", p.ServerSideEncryption, p.SSECustomerAlgorithm, p.SSECustomerKeyMD5)
		_, err = e.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("no-such-bucket-enc")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})

	t.Run("PUT aws:kms without a KMS", func(t *testing.T) {
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("kms"),
			Body: strings.NewReader("x"), ServerSideEncryption: types.ServerSideEncryptionAwsKms})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	})
}

// TestEncryptionNoMasterKey: without a master key there is no default
// encryption (404 ServerSideEncryptionConfigurationNotFoundError),
// SSE-S3 is refused, and plain objects carry no SSE header.
func TestEncryptionNoMasterKey(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()

	_, err := e.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
	wantErr(t, err, "ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound)
	resp, body := e.raw(http.MethodGet, "/"+b+"?encryption", nil, rawOpts{})
	wantXMLError(t, resp, body, "ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound)

	_, err = e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("sse"),
		Body: strings.NewReader("x"), ServerSideEncryption: sseAES256})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	if e.exists(b, "sse") {
		t.Errorf("a refused SSE-S3 PUT created the object")
	}
	_, err = e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("sse-mp"),
		ServerSideEncryption: sseAES256})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)

	put := e.put(b, "plain", []byte("plain bytes"))
	if put.ServerSideEncryption != "" || put.SSECustomerAlgorithm != nil {
		t.Errorf("PutObject: SSE %q / SSE-C %q, want none", put.ServerSideEncryption, aws.ToString(put.SSECustomerAlgorithm))
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		resp, body := e.raw(m, "/"+b+"/plain", nil, rawOpts{})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s plain: status %d %s", m, resp.StatusCode, body)
		}
		for _, h := range []string{"x-amz-server-side-encryption", "x-amz-server-side-encryption-customer-algorithm"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("%s plain: %s %q, want none", m, h, v)
			}
		}
	}
	e.wantGet(t, b, "plain", nil, "", 0, []byte("plain bytes"))
	_, err = e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("plain-copy"),
		CopySource: aws.String(b + "/plain"), ServerSideEncryption: sseAES256})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)

	_, err = e.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{
			{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: sseAES256}}}}})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	_, err = e.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
	wantErr(t, err, "ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound)
}

// encRanges are Range headers over an object of size bytes that cross
// the 64 KiB package boundaries of the stream format, with the bytes
// they select (first -1: the whole object, 200).
func encRanges(size int64) []struct {
	hdr         string
	first, last int64
} {
	const pk = 64 << 10
	type r = struct {
		hdr         string
		first, last int64
	}
	rs := []r{
		{"bytes=0-0", 0, 0},
		{fmt.Sprintf("bytes=%d-%d", size-1, size-1), size - 1, size - 1},
		{fmt.Sprintf("bytes=%d-", size-1), size - 1, size - 1},
		{"bytes=0-65535", 0, pk - 1},
		{"bytes=65535-65535", pk - 1, pk - 1},
		{"bytes=65536-65536", pk, pk},
		{"bytes=65535-65536", pk - 1, pk},
		{"bytes=65536-131071", pk, 2*pk - 1},
		{"bytes=65535-131072", pk - 1, 2 * pk},
		{"bytes=1000-200000", 1000, 200000},
		{"bytes=131071-262145", 2*pk - 1, 4*pk + 1},
		{"bytes=1-", 1, size - 1},
		{fmt.Sprintf("bytes=%d-", 4*pk), 4 * pk, size - 1},
		{fmt.Sprintf("bytes=%d-%d", 3*pk+17, size+100000), 3*pk + 17, size - 1},
		{"bytes=-1", size - 1, size - 1},
		{fmt.Sprintf("bytes=-%d", pk), size - pk, size - 1},
		{fmt.Sprintf("bytes=-%d", pk+1), size - pk - 1, size - 1},
		{fmt.Sprintf("bytes=-%d", size%pk), size - size%pk, size - 1},
		{fmt.Sprintf("bytes=-%d", size%pk+1), size - size%pk - 1, size - 1},
		{fmt.Sprintf("bytes=-%d", size-1), 1, size - 1},
		{fmt.Sprintf("bytes=-%d", size), 0, size - 1},
		{fmt.Sprintf("bytes=-%d", size+5000), 0, size - 1},
		{"bytes=0-", 0, size - 1},
	}
	return rs
}

// TestEncryptionRanges: ranges of SSE-S3 and SSE-C objects larger than
// 300 KiB (several 64 KiB packages, the last one partial) return exactly
// the bytes asked for, with the right Content-Range, and the ETag is the
// MD5 of the plaintext.
func TestEncryptionRanges(t *testing.T) {
	e := sseEnv(t)
	b := e.bucket()
	const size = 5*(64<<10) + 12345
	body := seeded(size, 2)
	k := newSSECKey(t)
	if p := e.put(b, "s3", body); aws.ToString(p.ETag) != etagOf(body) {
		t.Errorf("PutObject s3 ETag: got %s, want %s", aws.ToString(p.ETag), etagOf(body))
	}
	// The same bytes through aws-chunked with a trailing checksum.
	if _, err := e.tls.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("s3-chunked"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject aws-chunked: %v", err)
	}
	e.putSSEC(t, b, "c", body, k, "")

	for _, obj := range []struct {
		key string
		k   *ssecKey
	}{{"s3", nil}, {"s3-chunked", nil}, {"c", &k}} {
		t.Run(obj.key, func(t *testing.T) {
			out := e.wantGet(t, b, obj.key, obj.k, "", 0, body)
			if obj.k == nil && aws.ToString(out.ETag) != etagOf(body) {
				t.Errorf("GetObject ETag: got %s, want the MD5 of the plaintext %s", aws.ToString(out.ETag), etagOf(body))
			}
			for _, r := range encRanges(size) {
				out := e.wantGet(t, b, obj.key, obj.k, r.hdr, 0, body[r.first:r.last+1])
				if s := httpStatusOf(out.ResultMetadata); s != http.StatusPartialContent {
					t.Errorf("%s: status %d, want 206", r.hdr, s)
				}
				if got, want := aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-%d/%d", r.first, r.last, size); got != want {
					t.Errorf("%s: Content-Range %q, want %q", r.hdr, got, want)
				}
				if got := aws.ToInt64(out.ContentLength); got != r.last-r.first+1 {
					t.Errorf("%s: Content-Length %d, want %d", r.hdr, got, r.last-r.first+1)
				}
				if obj.k == nil {
					wantSSES3(t, r.hdr, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
				} else {
					wantSSEC(t, r.hdr, *obj.k, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
				}
			}
			_, _, err := e.getEnc(b, obj.key, obj.k, fmt.Sprintf("bytes=%d-", size), 0)
			wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
		})
	}

	t.Run("HEAD with a range", func(t *testing.T) {
		h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("s3"), Range: aws.String("bytes=65530-65545")})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if aws.ToInt64(h.ContentLength) != 16 || aws.ToString(h.ContentRange) != fmt.Sprintf("bytes 65530-65545/%d", size) {
			t.Errorf("HeadObject range: Content-Length %d Content-Range %q", aws.ToInt64(h.ContentLength), aws.ToString(h.ContentRange))
		}
	})

	t.Run("small inline object", func(t *testing.T) {
		small := seeded(100, 3)
		e.put(b, "small", small)
		e.putSSEC(t, b, "small-c", small, k, "")
		for _, r := range []struct {
			hdr         string
			first, last int64
		}{{"bytes=0-0", 0, 0}, {"bytes=-1", 99, 99}, {"bytes=10-20", 10, 20}, {"bytes=50-", 50, 99}, {"bytes=-150", 0, 99}} {
			e.wantGet(t, b, "small", nil, r.hdr, 0, small[r.first:r.last+1])
			e.wantGet(t, b, "small-c", &k, r.hdr, 0, small[r.first:r.last+1])
		}
	})
}

// mpParts are the parts of the multipart tests: none a multiple of the
// 64 KiB package size, so the part boundaries fall inside packages.
func mpParts() [][]byte {
	return [][]byte{seeded(minPart+1000, 11), seeded(minPart+65536+3, 12), seeded(100<<10+7, 13)}
}

// mpRanges are ranges over the concatenation of parts that cross part
// boundaries.
func mpRanges(parts [][]byte) []struct{ first, last int64 } {
	p1, p2 := int64(len(parts[0])), int64(len(parts[1]))
	total := int64(len(slices.Concat(parts...)))
	return []struct{ first, last int64 }{
		{0, 0},
		{p1 - 1, p1},
		{p1 - 100, p1 + 100},
		{p1 - 70000, p1 + 70000},
		{p1, p1 + p2 - 1},
		{p1 + p2 - 1, p1 + p2},
		{p1 - 5, p1 + p2 + 5},
		{total - 1, total - 1},
		{total - 200000, total - 1},
	}
}

// TestEncryptionMultipart: a multipart upload under SSE-S3 says so at
// every step, and the object reads back whole, by ranges across part
// boundaries, and part by part.
func TestEncryptionMultipart(t *testing.T) {
	e := sseEnv(t)
	b := e.bucket()
	parts := mpParts()
	whole := slices.Concat(parts...)

	mpu, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	wantSSES3(t, "CreateMultipartUpload", mpu.ServerSideEncryption, mpu.SSECustomerAlgorithm, mpu.SSECustomerKeyMD5)
	var done []types.CompletedPart
	for i, p := range parts {
		out, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mpu.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		if aws.ToString(out.ETag) != etagOf(p) {
			t.Errorf("UploadPart %d ETag: got %s, want %s", i+1, aws.ToString(out.ETag), etagOf(p))
		}
		// AWS answers UploadPart with the upload's encryption too.
		wantSSES3(t, fmt.Sprintf("UploadPart %d", i+1), out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	// An SSE-C key is not applicable to an SSE-S3 upload.
	k := newSSECKey(t)
	_, err = e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mpu.UploadId,
		PartNumber: aws.Int32(9), Body: strings.NewReader("x"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k.b64), SSECustomerKeyMD5: aws.String(k.md5)})
	wantStatus(t, "UploadPart with an SSE-C key to an SSE-S3 upload", err, http.StatusBadRequest)

	cmp, err := e.complete(b, "mp", mpu.UploadId, done...)
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if cmp.ServerSideEncryption != sseAES256 {
		t.Errorf("CompleteMultipartUpload: x-amz-server-side-encryption %q, want AES256", cmp.ServerSideEncryption)
	}
	if got, want := aws.ToString(cmp.ETag), multipartETag(parts...); got != want {
		t.Errorf("CompleteMultipartUpload ETag: got %s, want %s", got, want)
	}

	out := e.wantGet(t, b, "mp", nil, "", 0, whole)
	wantSSES3(t, "GetObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
	for _, r := range mpRanges(parts) {
		hdr := fmt.Sprintf("bytes=%d-%d", r.first, r.last)
		out := e.wantGet(t, b, "mp", nil, hdr, 0, whole[r.first:r.last+1])
		if got, want := aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-%d/%d", r.first, r.last, len(whole)); got != want {
			t.Errorf("%s: Content-Range %q, want %q", hdr, got, want)
		}
	}
	e.wantGet(t, b, "mp", nil, "bytes=-200000", 0, whole[len(whole)-200000:])
	off := 0
	for i, p := range parts {
		out := e.wantGet(t, b, "mp", nil, "", int32(i+1), p)
		if aws.ToInt32(out.PartsCount) != 3 {
			t.Errorf("GetObject partNumber=%d: PartsCount %d, want 3", i+1, aws.ToInt32(out.PartsCount))
		}
		if got, want := aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-%d/%d", off, off+len(p)-1, len(whole)); got != want {
			t.Errorf("GetObject partNumber=%d: Content-Range %q, want %q", i+1, got, want)
		}
		wantSSES3(t, fmt.Sprintf("GetObject partNumber=%d", i+1), out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		off += len(p)
	}
	h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(2)})
	if err != nil || aws.ToInt64(h.ContentLength) != int64(len(parts[1])) || h.ServerSideEncryption != sseAES256 {
		t.Errorf("HeadObject partNumber=2: %v, Content-Length %d SSE %q, want %d and AES256", err, aws.ToInt64(h.ContentLength), h.ServerSideEncryption, len(parts[1]))
	}

	// Parts sent out of order, one of them twice: the last one counts.
	t.Run("out of order parts", func(t *testing.T) {
		id := e.upload(b, "mp2")
		c3 := e.part(b, "mp2", id, 3, parts[2])
		c1 := e.part(b, "mp2", id, 1, parts[0])
		e.part(b, "mp2", id, 2, []byte("replaced"))
		c2 := e.part(b, "mp2", id, 2, parts[1])
		if _, err := e.complete(b, "mp2", id, c1, c2, c3); err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		e.wantGet(t, b, "mp2", nil, "", 0, whole)
		e.wantGet(t, b, "mp2", nil, "", 2, parts[1])
	})
}

// TestEncryptionMultipartSSEC: a multipart upload under SSE-C needs the
// key on every UploadPart, and the object needs it to be read.
func TestEncryptionMultipartSSEC(t *testing.T) {
	for _, withMaster := range []bool{true, false} {
		t.Run(map[bool]string{true: "master key", false: "no master key"}[withMaster], func(t *testing.T) {
			var e *env
			if withMaster {
				e = sseEnv(t)
			} else {
				e = newEnv(t)
			}
			b := e.bucket()
			k, other := newSSECKey(t), newSSECKey(t)
			parts := mpParts()
			whole := slices.Concat(parts...)
			mpu, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k.b64), SSECustomerKeyMD5: aws.String(k.md5)})
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			wantSSEC(t, "CreateMultipartUpload", k, mpu.ServerSideEncryption, mpu.SSECustomerAlgorithm, mpu.SSECustomerKeyMD5)
			uploadPart := func(n int32, body []byte, key *ssecKey) (*s3.UploadPartOutput, error) {
				in := &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mpu.UploadId,
					PartNumber: aws.Int32(n), Body: bytes.NewReader(body)}
				if key != nil {
					in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(key.b64), aws.String(key.md5)
				}
				return e.s3.UploadPart(ctx, in)
			}
			_, err = uploadPart(1, parts[0], nil)
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			_, err = uploadPart(1, parts[0], &other)
			wantStatus(t, "UploadPart with another SSE-C key", err, http.StatusBadRequest, http.StatusForbidden)
			var done []types.CompletedPart
			for i, p := range parts {
				out, err := uploadPart(int32(i+1), p, &k)
				if err != nil {
					t.Fatalf("UploadPart %d with the key: %v", i+1, err)
				}
				// AWS answers UploadPart with the SSE-C algorithm and key MD5.
				wantSSEC(t, fmt.Sprintf("UploadPart %d", i+1), k, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
				done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
			}
			if _, err := e.complete(b, "mp", mpu.UploadId, done...); err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}

			_, _, err = e.getEnc(b, "mp", nil, "", 0)
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			_, _, err = e.getEnc(b, "mp", &other, "", 0)
			wantErr(t, err, "AccessDenied", http.StatusForbidden)
			_, _, err = e.getEnc(b, "mp", nil, "", 2)
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			out := e.wantGet(t, b, "mp", &k, "", 0, whole)
			wantSSEC(t, "GetObject", k, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
			for _, r := range mpRanges(parts) {
				e.wantGet(t, b, "mp", &k, fmt.Sprintf("bytes=%d-%d", r.first, r.last), 0, whole[r.first:r.last+1])
			}
			for i, p := range parts {
				e.wantGet(t, b, "mp", &k, "", int32(i+1), p)
			}
			h, err := e.headEnc(b, "mp", &k)
			if err != nil || aws.ToInt64(h.ContentLength) != int64(len(whole)) {
				t.Errorf("HeadObject with the key: %v, Content-Length %d, want %d", err, aws.ToInt64(h.ContentLength), len(whole))
			} else {
				wantSSEC(t, "HeadObject", k, h.ServerSideEncryption, h.SSECustomerAlgorithm, h.SSECustomerKeyMD5)
			}
			_, err = e.headEnc(b, "mp", nil)
			wantStatus(t, "HeadObject without the key", err, http.StatusBadRequest)
		})
	}
}

// TestEncryptionCopy: copies decrypt their source and encrypt the copy
// as the request (or the bucket default) says; an SSE-C source needs its
// key in the x-amz-copy-source-server-side-encryption-customer-*
// headers.
func TestEncryptionCopy(t *testing.T) {
	e := sseEnv(t)
	b := e.bucket()
	body := seeded(200<<10+9, 21)
	k, other := newSSECKey(t), newSSECKey(t)
	e.put(b, "src", body)
	e.putSSEC(t, b, "csrc", body, k, "")

	copyObj := func(dst, src string, mod func(*s3.CopyObjectInput)) (*s3.CopyObjectOutput, error) {
		in := &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(dst), CopySource: aws.String(b + "/" + src)}
		if mod != nil {
			mod(in)
		}
		return e.s3.CopyObject(ctx, in)
	}
	srcKey := func(k ssecKey) func(*s3.CopyObjectInput) {
		return func(in *s3.CopyObjectInput) {
			in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = aws.String("AES256"), aws.String(k.b64), aws.String(k.md5)
		}
	}
	dstKey := func(k ssecKey) func(*s3.CopyObjectInput) {
		return func(in *s3.CopyObjectInput) {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(k.b64), aws.String(k.md5)
		}
	}
	both := func(fs ...func(*s3.CopyObjectInput)) func(*s3.CopyObjectInput) {
		return func(in *s3.CopyObjectInput) {
			for _, f := range fs {
				f(in)
			}
		}
	}

	t.Run("SSE-S3 to SSE-S3", func(t *testing.T) {
		out, err := copyObj("copy", "src", nil)
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		wantSSES3(t, "CopyObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		if out.CopyObjectResult == nil || aws.ToString(out.CopyObjectResult.ETag) != etagOf(body) {
			t.Errorf("CopyObject ETag: %+v, want %s", out.CopyObjectResult, etagOf(body))
		}
		g := e.wantGet(t, b, "copy", nil, "", 0, body)
		wantSSES3(t, "GetObject of the copy", g.ServerSideEncryption, g.SSECustomerAlgorithm, g.SSECustomerKeyMD5)
		e.wantGet(t, b, "copy", nil, "bytes=65000-140000", 0, body[65000:140001])
	})

	t.Run("SSE-S3 to SSE-C", func(t *testing.T) {
		out, err := copyObj("copy-c", "src", dstKey(k))
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		wantSSEC(t, "CopyObject", k, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		_, _, err = e.getEnc(b, "copy-c", nil, "", 0)
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		e.wantGet(t, b, "copy-c", &k, "", 0, body)
	})

	t.Run("SSE-C key on a non-SSE-C source", func(t *testing.T) {
		_, err := copyObj("nope-1", "src", srcKey(k))
		wantStatus(t, "CopyObject", err, http.StatusBadRequest)
		if e.exists(b, "nope-1") {
			t.Errorf("a refused copy created the object")
		}
	})

	t.Run("SSE-C source without its key", func(t *testing.T) {
		_, err := copyObj("nope-2", "csrc", nil)
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		_, err = copyObj("nope-2", "csrc", dstKey(k)) // the key as the destination's is not the source's
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		_, err = copyObj("nope-2", "csrc", srcKey(other))
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
		if e.exists(b, "nope-2") {
			t.Errorf("a refused copy created the object")
		}
	})

	// On the wire, with AWS's header names
	// (x-amz-copy-source-server-side-encryption-customer-*).
	t.Run("raw copy-source SSE-C headers", func(t *testing.T) {
		h := http.Header{}
		h.Set("x-amz-copy-source", "/"+b+"/csrc")
		h.Set("x-amz-copy-source-server-side-encryption-customer-algorithm", "AES256")
		h.Set("x-amz-copy-source-server-side-encryption-customer-key", k.b64)
		h.Set("x-amz-copy-source-server-side-encryption-customer-key-MD5", k.md5)
		resp, rb := e.raw(http.MethodPut, "/"+b+"/raw-copy", nil, rawOpts{header: h})
		if resp.StatusCode != http.StatusOK || !bytes.Contains(rb, []byte("<CopyObjectResult")) {
			t.Fatalf("PUT with x-amz-copy-source of an SSE-C object and its key: status %d %s, want 200 and a CopyObjectResult", resp.StatusCode, rb)
		}
		e.wantGet(t, b, "raw-copy", nil, "", 0, body)
	})

	t.Run("SSE-C to SSE-S3", func(t *testing.T) {
		out, err := copyObj("c-to-s3", "csrc", srcKey(k))
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		wantSSES3(t, "CopyObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		e.wantGet(t, b, "c-to-s3", nil, "", 0, body)
	})

	t.Run("SSE-C to another SSE-C key", func(t *testing.T) {
		out, err := copyObj("c-to-c", "csrc", both(srcKey(k), dstKey(other)))
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		wantSSEC(t, "CopyObject", other, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		e.wantGet(t, b, "c-to-c", &other, "", 0, body)
		_, _, err = e.getEnc(b, "c-to-c", &k, "", 0)
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
	})

	t.Run("SSE-C key rotation in place", func(t *testing.T) {
		e.putSSEC(t, b, "rot", body, k, "")
		if _, err := copyObj("rot", "rot", both(srcKey(k), dstKey(other))); err != nil {
			t.Fatalf("CopyObject onto itself with a new key: %v", err)
		}
		e.wantGet(t, b, "rot", &other, "", 0, body)
		_, _, err := e.getEnc(b, "rot", &k, "", 0)
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
	})

	t.Run("multipart SSE-S3 source", func(t *testing.T) {
		p1, p2 := seeded(minPart+5, 22), seeded(70000, 23)
		id := e.upload(b, "mpsrc")
		c1, c2 := e.part(b, "mpsrc", id, 1, p1), e.part(b, "mpsrc", id, 2, p2)
		if _, err := e.complete(b, "mpsrc", id, c1, c2); err != nil {
			t.Fatal(err)
		}
		if _, err := copyObj("mpcopy", "mpsrc", dstKey(k)); err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		e.wantGet(t, b, "mpcopy", &k, "", 0, slices.Concat(p1, p2))
	})

	t.Run("UploadPartCopy from an SSE-C source", func(t *testing.T) {
		id := e.upload(b, "upc")
		_, err := e.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("upc"), UploadId: id,
			PartNumber: aws.Int32(1), CopySource: aws.String(b + "/csrc")})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		out, err := e.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("upc"), UploadId: id,
			PartNumber: aws.Int32(1), CopySource: aws.String(b + "/csrc"), CopySourceRange: aws.String("bytes=1000-150000"),
			CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(k.b64), CopySourceSSECustomerKeyMD5: aws.String(k.md5)})
		if err != nil {
			t.Fatalf("UploadPartCopy with the source key: %v", err)
		}
		if _, err := e.complete(b, "upc", id, types.CompletedPart{PartNumber: aws.Int32(1), ETag: out.CopyPartResult.ETag}); err != nil {
			t.Fatal(err)
		}
		g := e.wantGet(t, b, "upc", nil, "", 0, body[1000:150001])
		wantSSES3(t, "GetObject", g.ServerSideEncryption, g.SSECustomerAlgorithm, g.SSECustomerKeyMD5)
	})

	t.Run("UploadPartCopy into an SSE-C upload", func(t *testing.T) {
		mpu, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("upc-c"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(other.b64), SSECustomerKeyMD5: aws.String(other.md5)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		in := func() *s3.UploadPartCopyInput {
			return &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("upc-c"), UploadId: mpu.UploadId,
				PartNumber: aws.Int32(1), CopySource: aws.String(b + "/src")}
		}
		_, err = e.s3.UploadPartCopy(ctx, in())
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		withKey := in()
		withKey.SSECustomerAlgorithm, withKey.SSECustomerKey, withKey.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(other.b64), aws.String(other.md5)
		out, err := e.s3.UploadPartCopy(ctx, withKey)
		if err != nil {
			t.Fatalf("UploadPartCopy with the upload's key: %v", err)
		}
		wantSSEC(t, "UploadPartCopy", other, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		if _, err := e.complete(b, "upc-c", mpu.UploadId, types.CompletedPart{PartNumber: aws.Int32(1), ETag: out.CopyPartResult.ETag}); err != nil {
			t.Fatal(err)
		}
		e.wantGet(t, b, "upc-c", &other, "", 0, body)
		_, _, err = e.getEnc(b, "upc-c", nil, "", 0)
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	})

	t.Run("SSE-C source copied on a server without master key", func(t *testing.T) {
		e := newEnv(t)
		b := e.bucket()
		e.putSSEC(t, b, "c", body, k, "")
		out, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("plain"), CopySource: aws.String(b + "/c"),
			CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(k.b64), CopySourceSSECustomerKeyMD5: aws.String(k.md5)})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		if out.ServerSideEncryption != "" || out.SSECustomerAlgorithm != nil {
			t.Errorf("CopyObject to a plain object: SSE %q SSE-C %q, want none", out.ServerSideEncryption, aws.ToString(out.SSECustomerAlgorithm))
		}
		e.wantGet(t, b, "plain", nil, "", 0, body)
	})
}

// TestEncryptionSSEC: SSE-C objects, with or without a master key: the
// key is needed (and checked) on every read, bad SSE-C headers are
// refused, and SSE-C headers on other objects are refused.
func TestEncryptionSSEC(t *testing.T) {
	for _, withMaster := range []bool{true, false} {
		t.Run(map[bool]string{true: "master key", false: "no master key"}[withMaster], func(t *testing.T) {
			var e *env
			if withMaster {
				e = sseEnv(t)
			} else {
				e = newEnv(t)
			}
			testSSEC(t, e)
		})
	}
}

func testSSEC(t *testing.T, e *env) {
	b := e.bucket()
	k, other := newSSECKey(t), newSSECKey(t)
	for _, tc := range []struct {
		name string
		size int
	}{{"empty", 0}, {"inline", 1000}, {"blob", 200 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			body := seeded(tc.size, 31)
			put := e.putSSEC(t, b, tc.name, body, k, "")
			wantSSEC(t, "PutObject", k, put.ServerSideEncryption, put.SSECustomerAlgorithm, put.SSECustomerKeyMD5)

			_, _, err := e.getEnc(b, tc.name, nil, "", 0)
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			_, err = e.headEnc(b, tc.name, nil)
			wantStatus(t, "HeadObject without the key", err, http.StatusBadRequest)
			_, _, err = e.getEnc(b, tc.name, &other, "", 0)
			wantErr(t, err, "AccessDenied", http.StatusForbidden)
			_, err = e.headEnc(b, tc.name, &other)
			wantStatus(t, "HeadObject with another key", err, http.StatusForbidden)
			// A range does not get around the key.
			if tc.size > 0 {
				_, _, err = e.getEnc(b, tc.name, nil, "bytes=0-0", 0)
				wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			}

			out := e.wantGet(t, b, tc.name, &k, "", 0, body)
			wantSSEC(t, "GetObject", k, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
			h, err := e.headEnc(b, tc.name, &k)
			if err != nil {
				t.Fatalf("HeadObject with the key: %v", err)
			}
			wantSSEC(t, "HeadObject", k, h.ServerSideEncryption, h.SSECustomerAlgorithm, h.SSECustomerKeyMD5)
			if aws.ToInt64(h.ContentLength) != int64(tc.size) {
				t.Errorf("HeadObject Content-Length %d, want %d", aws.ToInt64(h.ContentLength), tc.size)
			}
			if tc.size > 70000 {
				e.wantGet(t, b, tc.name, &k, "bytes=65530-70000", 0, body[65530:70001])
			}
			// On the wire, the key's headers exactly as AWS sends them.
			resp, _ := e.raw(http.MethodGet, "/"+b+"/"+tc.name, nil, rawOpts{header: k.header()})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("x-amz-server-side-encryption-customer-algorithm") != "AES256" ||
				resp.Header.Get("x-amz-server-side-encryption-customer-key-MD5") != k.md5 || resp.Header.Get("x-amz-server-side-encryption") != "" {
				t.Errorf("raw GET: status %d, headers %v", resp.StatusCode, resp.Header)
			}
			lo, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String(tc.name)})
			if err != nil || len(lo.Contents) != 1 || aws.ToInt64(lo.Contents[0].Size) != int64(tc.size) {
				t.Errorf("ListObjectsV2: %v %+v, want one object of %d bytes", err, lo, tc.size)
			}
		})
	}

	t.Run("overwrite with another key", func(t *testing.T) {
		e.putSSEC(t, b, "ow", []byte("first"), k, "")
		e.putSSEC(t, b, "ow", []byte("second"), other, "")
		e.wantGet(t, b, "ow", &other, "", 0, []byte("second"))
		_, _, err := e.getEnc(b, "ow", &k, "", 0)
		wantErr(t, err, "AccessDenied", http.StatusForbidden)
	})

	t.Run("SSE-C headers on a non-SSE-C object", func(t *testing.T) {
		e.put(b, "not-c", []byte("not SSE-C"))
		_, _, err := e.getEnc(b, "not-c", &k, "", 0)
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		_, err = e.headEnc(b, "not-c", &k)
		wantStatus(t, "HeadObject with an SSE-C key of a non-SSE-C object", err, http.StatusBadRequest)
	})

	t.Run("bad SSE-C headers", func(t *testing.T) {
		short := make([]byte, 16)
		rand.Read(short)
		long := make([]byte, 33)
		rand.Read(long)
		ks, kl := ssecKeyOf(short), ssecKeyOf(long)
		for _, tc := range []struct {
			name string
			h    http.Header
		}{
			{"16-byte key", ks.header()},
			{"33-byte key", kl.header()},
			{"MD5 not matching", ssecHeader("AES256", k.b64, other.md5)},
			{"algorithm AES128", ssecHeader("AES128", k.b64, k.md5)},
			{"no algorithm", ssecHeader("", k.b64, k.md5)},
			{"no key", ssecHeader("AES256", "", k.md5)},
			{"no MD5", ssecHeader("AES256", k.b64, "")},
			{"key not base64", ssecHeader("AES256", "not*base64*at*all*!!", k.md5)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, rb := e.raw(http.MethodPut, "/"+b+"/bad-"+strings.ReplaceAll(tc.name, " ", "-"), []byte("x"), rawOpts{header: tc.h})
				wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
				if e.exists(b, "bad-"+strings.ReplaceAll(tc.name, " ", "-")) {
					t.Errorf("a refused PUT created the object")
				}
				resp, rb = e.raw(http.MethodGet, "/"+b+"/inline", nil, rawOpts{header: tc.h})
				wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
				resp, _ = e.raw(http.MethodHead, "/"+b+"/inline", nil, rawOpts{header: tc.h})
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("HEAD: status %d, want 400", resp.StatusCode)
				}
				resp, rb = e.raw(http.MethodPost, "/"+b+"/bad-mp?uploads", nil, rawOpts{header: tc.h})
				wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
			})
		}
	})

	t.Run("SSE-C with x-amz-server-side-encryption", func(t *testing.T) {
		h := k.header()
		h.Set("x-amz-server-side-encryption", "AES256")
		resp, rb := e.raw(http.MethodPut, "/"+b+"/both", []byte("x"), rawOpts{header: h})
		wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
	})
}

// TestEncryptionReadHeaderRefused: a GET or HEAD that sends
// x-amz-server-side-encryption is refused (400 InvalidArgument), as S3
// does: the header only applies to writes.
func TestEncryptionReadHeaderRefused(t *testing.T) {
	for _, withMaster := range []bool{true, false} {
		t.Run(map[bool]string{true: "master key", false: "no master key"}[withMaster], func(t *testing.T) {
			var e *env
			if withMaster {
				e = sseEnv(t)
			} else {
				e = newEnv(t)
			}
			b := e.bucket()
			e.put(b, "obj", []byte("some bytes"))
			h := http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}}
			resp, rb := e.raw(http.MethodGet, "/"+b+"/obj", nil, rawOpts{header: h})
			wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
			if bytes.Contains(rb, []byte("some bytes")) {
				t.Errorf("refused GET sent the object's bytes")
			}
			resp, _ = e.raw(http.MethodHead, "/"+b+"/obj", nil, rawOpts{header: h})
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("HEAD with x-amz-server-side-encryption: status %d, want 400", resp.StatusCode)
			}
		})
	}
}

// TestEncryptionArchiveRestore: encrypted objects in the archive tier
// (GLACIER, restored first; GLACIER_IR, read at once) read back
// byte-identical; restoring an SSE-C object needs no key, reading it
// does.
func TestEncryptionArchiveRestore(t *testing.T) {
	e := sseEnv(t, fastRestores)
	b := e.bucket()
	k, other := newSSECKey(t), newSSECKey(t)
	type obj struct {
		key   string
		body  []byte
		k     *ssecKey
		class types.StorageClass
	}
	objs := []obj{
		{"s3-small", seeded(1000, 41), nil, types.StorageClassGlacier},
		{"s3-big", seeded(300<<10+5, 42), nil, types.StorageClassGlacier},
		{"c-small", seeded(500, 43), &k, types.StorageClassGlacier},
		{"c-big", seeded(200<<10+1, 44), &k, types.StorageClassGlacier},
		{"s3-deep", seeded(70000, 45), nil, types.StorageClassDeepArchive},
		{"ir-s3", seeded(200<<10+3, 46), nil, types.StorageClassGlacierIr},
		{"ir-c", seeded(150<<10, 47), &k, types.StorageClassGlacierIr},
	}
	for _, o := range objs {
		if o.k != nil {
			e.putSSEC(t, b, o.key, o.body, *o.k, o.class)
			continue
		}
		put, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(o.key), Body: bytes.NewReader(o.body), StorageClass: o.class})
		if err != nil {
			t.Fatalf("PutObject %s: %v", o.key, err)
		}
		wantSSES3(t, "PutObject "+o.key, put.ServerSideEncryption, put.SSECustomerAlgorithm, put.SSECustomerKeyMD5)
	}
	// Multipart uploads into GLACIER, SSE-S3 and SSE-C.
	parts := [][]byte{seeded(minPart+3, 48), seeded(77777, 49)}
	for _, mp := range []struct {
		key string
		k   *ssecKey
	}{{"s3-mp", nil}, {"c-mp", &k}} {
		in := &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(mp.key), StorageClass: types.StorageClassGlacier}
		if mp.k != nil {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(mp.k.b64), aws.String(mp.k.md5)
		}
		cr, err := e.s3.CreateMultipartUpload(ctx, in)
		if err != nil {
			t.Fatalf("CreateMultipartUpload %s: %v", mp.key, err)
		}
		var done []types.CompletedPart
		for i, p := range parts {
			pin := &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(mp.key), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)}
			if mp.k != nil {
				pin.SSECustomerAlgorithm, pin.SSECustomerKey, pin.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(mp.k.b64), aws.String(mp.k.md5)
			}
			out, err := e.s3.UploadPart(ctx, pin)
			if err != nil {
				t.Fatalf("UploadPart %s %d: %v", mp.key, i+1, err)
			}
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
		}
		if _, err := e.complete(b, mp.key, cr.UploadId, done...); err != nil {
			t.Fatalf("CompleteMultipartUpload %s: %v", mp.key, err)
		}
		objs = append(objs, obj{mp.key, slices.Concat(parts...), mp.k, types.StorageClassGlacier})
	}

	// Hot objects moved to GLACIER by a copy onto themselves: an SSE-S3
	// multipart object (its bytes rewritten as one stream, its parts
	// kept) and an SSE-C object (with its key as source and
	// destination).
	hp := [][]byte{seeded(minPart+11, 57), seeded(3333, 58)}
	hid := e.upload(b, "hot-mp")
	hc1, hc2 := e.part(b, "hot-mp", hid, 1, hp[0]), e.part(b, "hot-mp", hid, 2, hp[1])
	if _, err := e.complete(b, "hot-mp", hid, hc1, hc2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("hot-mp"), CopySource: aws.String(b + "/hot-mp"),
		StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatalf("CopyObject hot-mp onto itself into GLACIER: %v", err)
	}
	objs = append(objs, obj{"hot-mp", slices.Concat(hp...), nil, types.StorageClassGlacier})
	hotC := seeded(150<<10+9, 59)
	e.putSSEC(t, b, "hot-c", hotC, k, "")
	if _, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("hot-c"), CopySource: aws.String(b + "/hot-c"),
		StorageClass:                   types.StorageClassGlacier,
		CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(k.b64), CopySourceSSECustomerKeyMD5: aws.String(k.md5),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k.b64), SSECustomerKeyMD5: aws.String(k.md5)}); err != nil {
		t.Fatalf("CopyObject hot-c onto itself into GLACIER: %v", err)
	}
	objs = append(objs, obj{"hot-c", hotC, &k, types.StorageClassGlacier})

	// GLACIER_IR is read at once, from the archive.
	for _, o := range objs {
		if o.class != types.StorageClassGlacierIr {
			continue
		}
		e.wantGet(t, b, o.key, o.k, "", 0, o.body)
		e.wantGet(t, b, o.key, o.k, "bytes=65530-131080", 0, o.body[65530:131081])
		e.wantGet(t, b, o.key, o.k, "bytes=-70000", 0, o.body[len(o.body)-70000:])
		if o.k != nil {
			_, _, err := e.getEnc(b, o.key, nil, "", 0)
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		}
	}

	// Archived: HEAD answers (SSE-C with its key), GET refuses.
	var archived []obj
	for _, o := range objs {
		if o.class == types.StorageClassGlacierIr {
			continue
		}
		archived = append(archived, o)
		h, err := e.headEnc(b, o.key, o.k)
		if err != nil {
			t.Fatalf("HeadObject %s: %v", o.key, err)
		}
		if h.StorageClass != o.class {
			t.Errorf("HeadObject %s: class %q, want %q", o.key, h.StorageClass, o.class)
		}
		if o.k == nil {
			wantSSES3(t, "HeadObject "+o.key, h.ServerSideEncryption, h.SSECustomerAlgorithm, h.SSECustomerKeyMD5)
		} else {
			wantSSEC(t, "HeadObject "+o.key, *o.k, h.ServerSideEncryption, h.SSECustomerAlgorithm, h.SSECustomerKeyMD5)
			_, err := e.headEnc(b, o.key, nil)
			wantStatus(t, "HeadObject of an archived SSE-C object without the key", err, http.StatusBadRequest)
		}
		_, _, err = e.getEnc(b, o.key, o.k, "", 0)
		wantErr(t, err, "InvalidObjectState", http.StatusForbidden)
	}
	// Restores need no key.
	for _, o := range archived {
		e.restore(t, b, o.key)
	}
	for _, o := range archived {
		e.waitRestored(t, b, o.key, o.k)
	}
	for _, o := range archived {
		t.Run(o.key, func(t *testing.T) {
			out := e.wantGet(t, b, o.key, o.k, "", 0, o.body)
			if o.k == nil {
				wantSSES3(t, "GetObject after restore", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
			} else {
				wantSSEC(t, "GetObject after restore", *o.k, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
				_, _, err := e.getEnc(b, o.key, nil, "", 0)
				wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
				_, _, err = e.getEnc(b, o.key, &other, "", 0)
				wantErr(t, err, "AccessDenied", http.StatusForbidden)
			}
			n := int64(len(o.body))
			for _, r := range [][2]int64{{0, 0}, {n - 1, n - 1}, {n / 3, n - 2}, {max(n-65540, 0), n - 1}} {
				e.wantGet(t, b, o.key, o.k, fmt.Sprintf("bytes=%d-%d", r[0], r[1]), 0, o.body[r[0]:r[1]+1])
			}
			if strings.HasSuffix(o.key, "-mp") {
				ps := parts
				if o.key == "hot-mp" {
					ps = hp
				}
				p1 := int64(len(ps[0]))
				e.wantGet(t, b, o.key, o.k, fmt.Sprintf("bytes=%d-%d", p1-1000, p1+1000), 0, o.body[p1-1000:p1+1001])
				e.wantGet(t, b, o.key, o.k, "", 2, ps[1])
			}
		})
	}

	// A restored SSE-C object copies out with its key.
	cp, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("c-big-copy"), CopySource: aws.String(b + "/c-big"),
		CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(k.b64), CopySourceSSECustomerKeyMD5: aws.String(k.md5)})
	if err != nil {
		t.Fatalf("CopyObject of the restored SSE-C object: %v", err)
	}
	wantSSES3(t, "CopyObject of the restored SSE-C object", cp.ServerSideEncryption, cp.SSECustomerAlgorithm, cp.SSECustomerKeyMD5)
	e.wantGet(t, b, "c-big-copy", nil, "", 0, seeded(200<<10+1, 44))
}

// TestEncryptionLifecycleTransition: encrypted objects moved to the
// archive by lifecycle rules (their ciphertext copied as is: the server
// has no SSE-C key) read back byte-identical, small ones (kept inline
// while hot) included.
func TestEncryptionLifecycleTransition(t *testing.T) {
	e := sseEnv(t, fastRestores, func(c *config.Server) { c.DayLength = time.Second })
	b := e.bucket()
	k := newSSECKey(t)
	rules := []types.LifecycleRule{
		{ID: aws.String("g"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("g/")},
			Transitions: []types.Transition{{Days: aws.Int32(0), StorageClass: types.TransitionStorageClassGlacier}}},
		{ID: aws.String("ir"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("ir/")},
			Transitions: []types.Transition{{Days: aws.Int32(0), StorageClass: types.TransitionStorageClassGlacierIr}}},
	}
	if _, err := e.putLifecycle(e.s3, b, rules, types.TransitionDefaultMinimumObjectSizeVariesByStorageClass); err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	type obj struct {
		key  string
		body []byte
		k    *ssecKey
	}
	var objs []obj
	for _, prefix := range []string{"g/", "ir/"} {
		list := []obj{
			{prefix + "s3-blob", seeded(200<<10+1, 52), nil},
			{prefix + "c-blob", seeded(200<<10+1, 54), &k},
		}
		if prefix == "g/" {
			// With varies_by_storage_class objects under 128 KiB move to
			// GLACIER (not to GLACIER_IR): these are the inline ones.
			list = append(list, obj{prefix + "s3-inline", seeded(1000, 51), nil}, obj{prefix + "c-inline", seeded(1000, 53), &k})
		}
		for _, o := range list {
			if o.k != nil {
				e.putSSEC(t, b, o.key, o.body, *o.k, "")
			} else {
				e.put(b, o.key, o.body)
			}
			objs = append(objs, o)
		}
		p1, p2 := seeded(minPart+1, 55), seeded(1234, 56)
		id := e.upload(b, prefix+"s3-mp")
		c1, c2 := e.part(b, prefix+"s3-mp", id, 1, p1), e.part(b, prefix+"s3-mp", id, 2, p2)
		if _, err := e.complete(b, prefix+"s3-mp", id, c1, c2); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, obj{prefix + "s3-mp", slices.Concat(p1, p2), nil})
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, o := range objs {
		want := types.StorageClassGlacier
		if strings.HasPrefix(o.key, "ir/") {
			want = types.StorageClassGlacierIr
		}
		for {
			h, err := e.headEnc(b, o.key, o.k)
			if err != nil {
				t.Fatalf("HeadObject %s: %v", o.key, err)
			}
			if h.StorageClass == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still %q, want %q", o.key, h.StorageClass, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, o := range objs {
		if strings.HasPrefix(o.key, "g/") {
			e.restore(t, b, o.key)
		}
	}
	for _, o := range objs {
		if strings.HasPrefix(o.key, "g/") {
			e.waitRestored(t, b, o.key, o.k)
		}
	}
	for _, o := range objs {
		out := e.wantGet(t, b, o.key, o.k, "", 0, o.body)
		if o.k == nil {
			wantSSES3(t, "GetObject "+o.key, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		} else {
			wantSSEC(t, "GetObject "+o.key, *o.k, out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5)
		}
		n := len(o.body)
		e.wantGet(t, b, o.key, o.k, fmt.Sprintf("bytes=%d-", n/2), 0, o.body[n/2:])
	}
}

// atRest is one object of TestEncryptionNoPlaintextAtRest: its body
// holds its marker every few hundred bytes between random bytes (so
// that it does not compress, and a marker is whole in any stored
// plaintext).
type atRest struct {
	key, marker string
	body        []byte
}

func markedBody(n, every int, marker string, seed byte) []byte {
	b := seeded(n, seed)
	for off := 0; off+len(marker) <= n; off += every {
		copy(b[off:], marker)
	}
	return b
}

// scanFiles returns, for every needle, the files under roots that
// contain it (paths relative to rel).
func scanFiles(t *testing.T, rel string, roots []string, needles map[string][]byte) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	files := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // a temporary file gone
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			files++
			r, _ := filepath.Rel(rel, path)
			for name, n := range needles {
				if bytes.Contains(b, n) {
					found[name] = append(found[name], r)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	if files < 3 {
		t.Fatalf("walked only %d files under %v", files, roots)
	}
	return found
}

// waitSealed waits until the archive's open pack is sealed: shard files
// in the archive directory, no journal holding frames.
func waitSealed(t *testing.T, data string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		shards, journaled := 0, 0
		filepath.WalkDir(filepath.Join(data, "archive"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				shards++
			}
			return nil
		})
		filepath.WalkDir(filepath.Join(data, "archive-state", "journal"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil && fi.Size() > 32 {
					journaled++
				}
			}
			return nil
		})
		if shards > 0 && journaled == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive pack not sealed after 30s: %d shard files, %d journals with frames", shards, journaled)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEncryptionNoPlaintextAtRest: with a master key no file of the data
// directory (metadata database and its WAL, blobs, multipart parts,
// archive journal and sealed pack shards, restored copies) holds any of
// the plaintext, nor the SSE-C key, nor the master key. The same scan of
// a server without a master key finds every marker, which proves the
// scan looks where the bytes go.
func TestEncryptionNoPlaintextAtRest(t *testing.T) {
	for _, encrypted := range []bool{true, false} {
		t.Run(map[bool]string{true: "encrypted", false: "baseline without master key"}[encrypted], func(t *testing.T) {
			keyLine := sse.GenerateKeyLine("k1")
			_, b64, _ := strings.Cut(keyLine, ":")
			master, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnvWith(t, func(c *config.Server) {
				if encrypted {
					c.MasterKey = keyLine
				}
				c.SealEvery = time.Second
				fastRestores(c)
			})
			b := e.bucket()
			k := newSSECKey(t)
			objs := []atRest{
				{"small", "FIRN-MARKER-small-q7Zp", markedBody(4<<10, 256, "FIRN-MARKER-small-q7Zp", 61)},
				{"mib", "FIRN-MARKER-mib-W3xk", markedBody(1<<20, 4096, "FIRN-MARKER-mib-W3xk", 62)},
				{"glacier", "FIRN-MARKER-glacier-Rt5m", markedBody(300<<10, 4096, "FIRN-MARKER-glacier-Rt5m", 63)},
				{"multipart", "FIRN-MARKER-multipart-Hs2c", markedBody(minPart+200<<10, 4096, "FIRN-MARKER-multipart-Hs2c", 64)},
				{"pending-part", "FIRN-MARKER-pending-Lp8d", markedBody(minPart, 4096, "FIRN-MARKER-pending-Lp8d", 65)},
				{"ssec", "FIRN-MARKER-ssec-Vb4n", markedBody(200<<10, 4096, "FIRN-MARKER-ssec-Vb4n", 66)},
				{"ssec-small", "FIRN-MARKER-ssecsmall-Kq9e", markedBody(2<<10, 256, "FIRN-MARKER-ssecsmall-Kq9e", 67)},
				{"glacier-ssec", "FIRN-MARKER-glacierssec-Tz1w", markedBody(100<<10, 4096, "FIRN-MARKER-glacierssec-Tz1w", 68)},
			}
			byKey := map[string]atRest{}
			for _, o := range objs {
				byKey[o.key] = o
			}
			// The SSE-C objects are SSE-C on the encrypted server, plain on
			// the baseline (which proves the scan would see their bytes).
			putC := func(key string, class types.StorageClass) {
				if encrypted {
					e.putSSEC(t, b, key, byKey[key].body, k, class)
				} else if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key),
					Body: bytes.NewReader(byKey[key].body), StorageClass: class}); err != nil {
					t.Fatal(err)
				}
			}
			e.put(b, "small", byKey["small"].body)
			e.put(b, "mib", byKey["mib"].body)
			if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("glacier"),
				Body: bytes.NewReader(byKey["glacier"].body), StorageClass: types.StorageClassGlacier}); err != nil {
				t.Fatal(err)
			}
			mp := byKey["multipart"].body
			id := e.upload(b, "multipart")
			c1, c2 := e.part(b, "multipart", id, 1, mp[:minPart]), e.part(b, "multipart", id, 2, mp[minPart:])
			if _, err := e.complete(b, "multipart", id, c1, c2); err != nil {
				t.Fatal(err)
			}
			// An upload left open: its part is at rest too.
			pid := e.upload(b, "pending-part")
			e.part(b, "pending-part", pid, 1, byKey["pending-part"].body)
			putC("ssec", "")
			putC("ssec-small", "")
			putC("glacier-ssec", types.StorageClassGlacier)
			// Every object reads back.
			for _, o := range objs {
				if o.key == "pending-part" || o.key == "glacier" || o.key == "glacier-ssec" {
					continue
				}
				var kp *ssecKey
				if encrypted && strings.HasPrefix(o.key, "ssec") {
					kp = &k
				}
				e.wantGet(t, b, o.key, kp, "", 0, o.body)
			}

			needles := map[string][]byte{}
			for _, o := range objs {
				needles[o.key] = []byte(o.marker)
			}
			if encrypted {
				needles["SSE-C key (raw)"] = k.raw
				needles["SSE-C key (base64)"] = []byte(k.b64)
				needles["master key (raw)"] = master
				needles["master key (base64)"] = []byte(b64)
			}
			check := func(stage string, wantFound []string) {
				t.Helper()
				found := scanFiles(t, e.data, []string{e.data}, needles)
				if encrypted {
					names := make([]string, 0, len(found))
					for n := range found {
						names = append(names, n)
					}
					sort.Strings(names)
					for _, n := range names {
						t.Errorf("%s: %s found at rest in %v", stage, n, found[n])
					}
					return
				}
				for _, n := range wantFound {
					if len(found[n]) == 0 {
						t.Errorf("%s (baseline): marker of %s not found in any file: the scan misses where the bytes are", stage, n)
					}
				}
			}
			all := make([]string, 0, len(objs))
			for _, o := range objs {
				all = append(all, o.key)
			}
			check("after the writes (archive journal open)", all)

			// Seal the archive pack: the shards must not hold plaintext
			// either.
			waitSealed(t, e.data)
			check("after the archive pack is sealed", all)
			if !encrypted {
				if len(scanFiles(t, e.data, []string{filepath.Join(e.data, "archive")}, needles)["glacier"]) == 0 {
					t.Errorf("baseline: the GLACIER marker is not in the sealed shards: the scan misses them")
				}
			}

			// Restored copies are hot again: still no plaintext.
			e.restore(t, b, "glacier")
			e.restore(t, b, "glacier-ssec")
			var kp *ssecKey
			if encrypted {
				kp = &k
			}
			e.waitRestored(t, b, "glacier", nil)
			e.waitRestored(t, b, "glacier-ssec", kp)
			e.wantGet(t, b, "glacier", nil, "", 0, byKey["glacier"].body)
			e.wantGet(t, b, "glacier-ssec", kp, "", 0, byKey["glacier-ssec"].body)
			check("after the restores", all)
		})
	}
}
