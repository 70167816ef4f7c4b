// Package s3 is a backend.Backend over a prefix of an S3 bucket, on AWS
// or any S3-compatible endpoint (firn, MinIO, Ceph, moto). Credentials and
// region come from the AWS SDK's default chain (environment, shared
// config and credentials files with profiles, SSO, instance roles)
// unless Config gives them.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/firnhq/firn/internal/backup/backend"
	"github.com/firnhq/firn/internal/s3client"
	"github.com/firnhq/firn/s3archive"
)

// Config says where the repository is and how to reach it.
type Config struct {
	// URL is s3://bucket/prefix (the prefix may be empty).
	URL string
	// Endpoint is the URL of an S3-compatible service; empty means AWS.
	// A custom endpoint is addressed path-style (endpoint/bucket/key).
	Endpoint string
	// Region for SigV4; empty: from the SDK's chain, else us-east-1.
	Region string
	// Profile selects a shared-config profile; empty: AWS_PROFILE or
	// "default".
	Profile string
	// Credentials, when set, replace the SDK's default chain.
	Credentials aws.CredentialsProvider
	// HTTPClient makes the requests; nil: the SDK's default.
	HTTPClient *http.Client
}

// ParseURL splits s3://bucket/prefix into bucket and prefix, the latter
// without leading or trailing slashes.
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("repository %q: want s3://bucket/prefix", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("repository %q: no bucket", u)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// Backend is a backend.Backend over s3://bucket/prefix.
type Backend struct {
	client *s3.Client
	bucket string
	prefix string // "" or "p/" (ends with a slash)
	url    string
}

var _ backend.Backend = (*Backend)(nil)

// Open makes a client for cfg. It makes no request.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	bucket, prefix, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	client, err := s3client.New(ctx, s3client.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, Profile: cfg.Profile,
		Credentials: cfg.Credentials, HTTPClient: cfg.HTTPClient})
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		prefix += "/"
	}
	return &Backend{client: client, bucket: bucket, prefix: prefix, url: "s3://" + bucket + "/" + strings.TrimSuffix(prefix, "/")}, nil
}

// Client returns the S3 client, for callers that set up buckets.
func (b *Backend) Client() *s3.Client { return b.client }

// Location implements backend.Backend.
func (b *Backend) Location() string { return b.url }

func (b *Backend) key(name string) *string { return aws.String(b.prefix + name) }

// Put implements backend.Backend.
//
// Every repository file but config is named by the SHA-256 of its bytes
// ("data/<64 hex digits>"), which the repository has computed already:
// Put signs the request with it as the payload hash (SigV4's
// x-amz-content-sha256) instead of having the SDK hash the body again,
// and skips the SDK's extra CRC32 checksum. The endpoint checks the body
// against the signed hash, so an upload corrupted on the way, or a file
// whose content does not match its name, is rejected.
func (b *Backend) Put(ctx context.Context, name string, data []byte, class string) error {
	in := &s3.PutObjectInput{
		Bucket: &b.bucket, Key: b.key(name), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/octet-stream"),
	}
	if class != "" && class != "STANDARD" {
		in.StorageClass = types.StorageClass(class)
	}
	var opts []func(*s3.Options)
	if h, ok := nameHash(name); ok {
		opts = append(opts, signedPayload(h))
	}
	if _, err := b.client.PutObject(ctx, in, opts...); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	return nil
}

// nameHash returns the hex SHA-256 that a repository file name ends with
// ("dir/<64 lower-case hex digits>").
func nameHash(name string) (string, bool) {
	i := strings.LastIndexByte(name, '/')
	h := name[i+1:]
	if i < 0 || len(h) != sha256.Size*2 {
		return "", false
	}
	for _, c := range []byte(h) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return h, true
}

// signedPayload makes a request sign hash (hex SHA-256 of the body) as
// its payload hash, computing none, and send no flexible checksum.
func signedPayload(hash string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			// Before the middleware that would compute the hash, which
			// leaves a hash already in the context alone.
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("FirnPayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					return next.HandleFinalize(v4.SetPayloadHash(ctx, hash), in)
				}), payloadHashMiddleware, middleware.Before)
		})
	}
}

// payloadHashMiddleware is the id of the SDK's middleware that sets the
// payload hash (v4.ComputePayloadSHA256 and its variants).
var payloadHashMiddleware = (&v4.ComputePayloadSHA256{}).ID()

// Get implements backend.Backend.
func (b *Backend) Get(ctx context.Context, name string, off, length int64) ([]byte, error) {
	return b.GetInto(ctx, name, off, length, nil)
}

// GetInto is Get reading into buf's memory when its capacity allows,
// so that a caller reading many packs can reuse one buffer (a new one is
// allocated otherwise).
func (b *Backend) GetInto(ctx context.Context, name string, off, length int64, buf []byte) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: b.key(name)}
	switch {
	case length == 0:
		return []byte{}, nil
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1))
	case off > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	// Whoever reads a repository file checks it against its name or its
	// blobs' ids: the SDK need not checksum the response too.
	out, err := b.client.GetObject(ctx, in, func(o *s3.Options) {
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if err != nil {
		var ios *types.InvalidObjectState
		switch {
		case errors.As(err, &ios):
			class := string(ios.StorageClass)
			if ios.AccessTier != "" {
				class = string(types.StorageClassIntelligentTiering) + " (" + string(ios.AccessTier) + ")"
			}
			return nil, &backend.ArchivedError{Name: name, StorageClass: class}
		case isCode(err, "NoSuchKey", "NotFound"):
			return nil, fmt.Errorf("%s: %w", name, backend.ErrNotFound)
		}
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > 0 && (length < 0 || n == length) {
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		// (The HTTP client holds the body to its Content-Length.)
		if _, err := io.ReadFull(out.Body, buf); err != nil {
			return nil, fmt.Errorf("get %s: %w", name, err)
		}
		return buf, nil
	}
	w := bytes.NewBuffer(buf[:0])
	if _, err := w.ReadFrom(out.Body); err != nil {
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	if length > 0 && int64(w.Len()) != length {
		return nil, fmt.Errorf("get %s: got %d bytes at %d, want %d", name, w.Len(), off, length)
	}
	return w.Bytes(), nil
}

// Head implements backend.Backend. The restore state comes from the
// x-amz-restore header, the class from x-amz-storage-class and
// x-amz-archive-status.
func (b *Backend) Head(ctx context.Context, name string) (backend.FileInfo, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: b.key(name)})
	if err != nil {
		if isCode(err, "NoSuchKey", "NotFound") {
			return backend.FileInfo{}, fmt.Errorf("%s: %w", name, backend.ErrNotFound)
		}
		return backend.FileInfo{}, fmt.Errorf("head %s: %w", name, err)
	}
	fi := backend.FileInfo{Name: name, Size: aws.ToInt64(out.ContentLength), LastModified: aws.ToTime(out.LastModified),
		StorageClass: normClass(string(out.StorageClass)), ArchiveStatus: string(out.ArchiveStatus)}
	fi.RestoreOngoing, fi.RestoredUntil = ParseRestore(aws.ToString(out.Restore))
	return fi, nil
}

// ParseRestore reads an x-amz-restore header value (see
// s3archive.ParseRestore).
func ParseRestore(h string) (ongoing bool, expiry time.Time) { return s3archive.ParseRestore(h) }

func normClass(c string) string {
	if c == string(types.StorageClassStandard) {
		return ""
	}
	return c
}

// List implements backend.Backend.
func (b *Backend) List(ctx context.Context, prefix string, fn func(backend.FileInfo) error) error {
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: b.key(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			name, ok := strings.CutPrefix(aws.ToString(o.Key), b.prefix)
			if !ok {
				continue
			}
			fi := backend.FileInfo{Name: name, Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified),
				StorageClass: normClass(string(o.StorageClass))}
			if err := fn(fi); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements backend.Backend.
func (b *Backend) Delete(ctx context.Context, name string) error {
	if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: b.key(name)}); err != nil {
		if isCode(err, "NoSuchKey", "NotFound") {
			return nil
		}
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// Restore implements backend.Backend.
func (b *Backend) Restore(ctx context.Context, name string, days int, tier string) error {
	req := &types.RestoreRequest{Days: aws.Int32(int32(days)), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.Tier(tier)}}
	_, err := b.client.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: &b.bucket, Key: b.key(name), RestoreRequest: req})
	if err != nil && !isCode(err, "RestoreAlreadyInProgress") {
		return fmt.Errorf("restore %s: %w", name, err)
	}
	return nil
}

// isCode reports whether err is an S3 error with one of codes.
func isCode(err error, codes ...string) bool { return s3archive.IsCode(err, codes...) }
