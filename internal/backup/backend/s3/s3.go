// Package s3 is a backend.Backend over a prefix of an S3 bucket, on AWS
// or any S3-compatible endpoint (firn, MinIO, Ceph, moto). Credentials and
// region come from the AWS SDK's default chain (environment, shared
// config and credentials files with profiles, SSO, instance roles)
// unless Config gives them.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

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
func (b *Backend) Put(ctx context.Context, name string, data []byte, class string) error {
	in := &s3.PutObjectInput{
		Bucket: &b.bucket, Key: b.key(name), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/octet-stream"),
	}
	if class != "" && class != "STANDARD" {
		in.StorageClass = types.StorageClass(class)
	}
	if _, err := b.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	return nil
}

// Get implements backend.Backend.
func (b *Backend) Get(ctx context.Context, name string, off, length int64) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: b.key(name)}
	switch {
	case length == 0:
		return []byte{}, nil
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1))
	case off > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	out, err := b.client.GetObject(ctx, in)
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
	var buf bytes.Buffer
	if out.ContentLength != nil && *out.ContentLength > 0 {
		buf.Grow(int(*out.ContentLength))
	}
	if _, err := buf.ReadFrom(out.Body); err != nil {
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	if length > 0 && int64(buf.Len()) != length {
		return nil, fmt.Errorf("get %s: got %d bytes at %d, want %d", name, buf.Len(), off, length)
	}
	return buf.Bytes(), nil
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
