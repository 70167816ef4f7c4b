package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/clock"
)

// Limits of S3 multipart uploads.
const (
	MinPartSize     = 5 << 20 // every part but the last
	MaxPartSize     = 5 << 30
	MaxParts        = 10000
	DefaultPartSize = 16 << 20
)

// abortTimeout bounds the requests of Writer.Abort, which has no context.
const abortTimeout = time.Minute

// Config says where the remote bucket is and how to talk to it. The zero
// value of every field but Bucket is usable.
type Config struct {
	// Endpoint is the URL of the S3 service, e.g. "https://rgw.example:7480".
	// Empty: AWS, with the endpoint for Region.
	Endpoint string
	// Region is used for SigV4 and, on AWS, for the endpoint. Default
	// us-east-1.
	Region string
	// Bucket must exist; Open checks that it can be reached.
	Bucket string
	// Prefix is put before every id to make its key, as is: "firn/"
	// stores blob id under "firn/<id>".
	Prefix string
	// AccessKey and SecretKey sign requests. When both are empty,
	// Credentials is used, and when that is nil the AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN environment variables.
	AccessKey, SecretKey string
	// Credentials provides credentials when AccessKey and SecretKey are
	// empty, e.g. the SDK's default chain as the composition root loads
	// it.
	Credentials aws.CredentialsProvider
	// PathStyle addresses the bucket as <endpoint>/<bucket> rather than
	// <bucket>.<endpoint>; most self-hosted servers want it.
	PathStyle bool
	// StorageClass is the remote class blobs are stored in, e.g.
	// DEEP_ARCHIVE on AWS. Default STANDARD (no header is sent, which
	// every S3-compatible server accepts).
	StorageClass string
	// PartSize is both how much a Writer buffers before it starts a
	// multipart upload and the size of each part but the last. Default
	// 16 MiB; at least MinPartSize, at most MaxPartSize.
	PartSize int64
	// HTTPClient makes the requests. Nil: the SDK's default client.
	HTTPClient *http.Client
	// Log receives warnings about failed clean-ups. Nil: discard.
	Log *slog.Logger
	// Clock gives Sweep the time. Nil: the system clock.
	Clock clock.Clock
}

// Store is a blob.Store over a remote S3-compatible bucket. It is safe for
// concurrent use.
type Store struct {
	client   *s3.Client
	bucket   string
	prefix   string
	class    types.StorageClass
	partSize int64
	log      *slog.Logger
	clock    clock.Clock

	mu   sync.Mutex
	live map[string]*atomic.Int64 // guarded by mu: upload id -> unix nanos of its writer's last Write
}

var _ blob.Store = (*Store)(nil)

// Open checks cfg, makes a client and checks that the bucket can be
// reached with it (HeadBucket), so that a wrong endpoint, bucket or key
// shows at start-up rather than at the first write.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return nil, fmt.Errorf("remote blob store: bucket %s: %w", s.bucket, err)
	}
	return s, nil
}

// New is Open without the check of the bucket: it makes no request.
func New(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("remote blob store: no bucket")
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < MinPartSize || partSize > MaxPartSize || partSize > math.MaxInt {
		return nil, fmt.Errorf("remote blob store: part size %d: want %d to %d bytes", partSize, MinPartSize, MaxPartSize)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	creds, err := credentialsFor(cfg)
	if err != nil {
		return nil, err
	}
	o := s3.Options{
		Region:       region,
		Credentials:  creds,
		UsePathStyle: cfg.PathStyle,
		// What config.LoadDefaultConfig gives: a CRC32 on every upload,
		// responses validated when they carry a checksum.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if cfg.Endpoint != "" {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.HTTPClient != nil {
		o.HTTPClient = cfg.HTTPClient
	}
	class := types.StorageClass(cfg.StorageClass)
	if class == types.StorageClassStandard {
		class = ""
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	return &Store{
		client:   s3.New(o),
		bucket:   cfg.Bucket,
		prefix:   cfg.Prefix,
		class:    class,
		partSize: partSize,
		log:      log.With("bucket", cfg.Bucket, "prefix", cfg.Prefix),
		clock:    clk,
		live:     map[string]*atomic.Int64{},
	}, nil
}

func credentialsFor(cfg Config) (aws.CredentialsProvider, error) {
	switch {
	case cfg.AccessKey != "" || cfg.SecretKey != "":
		if cfg.AccessKey == "" || cfg.SecretKey == "" {
			return nil, errors.New("remote blob store: access key and secret key must be given together")
		}
		return credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""), nil
	case cfg.Credentials != nil:
		return cfg.Credentials, nil
	}
	ak, sk := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if ak == "" || sk == "" {
		return nil, errors.New("remote blob store: no credentials (set the access and secret keys, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	return credentials.NewStaticCredentialsProvider(ak, sk, os.Getenv("AWS_SESSION_TOKEN")), nil
}

// key is the object key of a valid id.
func (s *Store) key(id string) string { return s.prefix + id }

// idOf returns the id that key stores, if it is one of the store's keys.
func (s *Store) idOf(key string) (string, bool) {
	id, ok := strings.CutPrefix(key, s.prefix)
	return id, ok && blob.ValidID(id)
}

// Create implements blob.Store. It makes no request: the first one is
// made when PartSize bytes have been written, or by Commit. Parts are
// uploaded with ctx, which must last until Commit or Abort.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := blob.NewID()
	return &writer{s: s, ctx: ctx, id: id, key: s.key(id)}, nil
}

// Open implements blob.Store. Besides blob.ErrNotFound, it returns a
// *NeedsRestoreError for a blob the remote keeps in an archive class.
// A length of 0 still makes a request, so that a missing or archived
// blob is reported as for any other length.
func (s *Store) Open(ctx context.Context, id string, offset, length int64) (io.ReadCloser, error) {
	if !blob.ValidID(id) {
		return nil, fmt.Errorf("blob %q: %w", id, blob.ErrNotFound)
	}
	if offset < 0 {
		return nil, fmt.Errorf("open blob %s: negative offset %d", id, offset)
	}
	key := s.key(id)
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	rng := rangeHeader(offset, length)
	if rng == "" {
		// A whole object: have its checksum checked as well.
		in.ChecksumMode = types.ChecksumModeEnabled
	} else {
		in.Range = &rng
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if isCode(err, "InvalidRange") {
			// The object exists and offset is at or past its end.
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, s.openError(id, err)
	}
	body := out.Body
	if length == 0 {
		body.Close()
		return io.NopCloser(strings.NewReader("")), nil
	}
	if rng != "" && out.ContentRange == nil {
		// The server ignored the range and sent the whole object.
		if _, err := io.CopyN(io.Discard, body, offset); err != nil && err != io.EOF {
			body.Close()
			return nil, fmt.Errorf("open blob %s: %w", id, err)
		}
		if length > 0 {
			body = limitedBody{io.LimitReader(body, length), body}
		}
	}
	return body, nil
}

// rangeHeader is the HTTP Range for length bytes from offset (length < 0:
// to the end; 0: one byte, to learn that the blob exists), or "" for the
// whole object.
func rangeHeader(offset, length int64) string {
	switch {
	case length < 0 || length > math.MaxInt64-offset:
		if offset == 0 {
			return ""
		}
		return fmt.Sprintf("bytes=%d-", offset)
	case length == 0:
		return fmt.Sprintf("bytes=%d-%d", offset, offset)
	default:
		return fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)
	}
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !blob.ValidID(id) {
		return nil
	}
	key := s.key(id)
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete blob %s: %w", id, err)
	}
	return nil
}

// Restore implements blob.Restorer with a RestoreObject request on the
// remote. A restore already running or already done is not an error.
// Expedited is asked as Standard where the remote class has no
// Expedited tier (DEEP_ARCHIVE).
func (s *Store) Restore(ctx context.Context, id string, days int, tier string) error {
	if !blob.ValidID(id) {
		return fmt.Errorf("blob %q: %w", id, blob.ErrNotFound)
	}
	if days < 1 {
		days = 1
	}
	t := types.Tier(tier)
	if t == "" || t == types.TierExpedited && s.class == types.StorageClassDeepArchive {
		t = types.TierStandard
	}
	key := s.key(id)
	_, err := s.client.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: &s.bucket, Key: &key,
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(int32(days)), GlacierJobParameters: &types.GlacierJobParameters{Tier: t}}})
	switch {
	case err == nil, isCode(err, "RestoreAlreadyInProgress"):
		return nil
	case isNotFound(err):
		return fmt.Errorf("blob %s: %w", id, blob.ErrNotFound)
	}
	return fmt.Errorf("restore blob %s on the remote: %w", id, err)
}

// Walk implements blob.Store, with one ListObjectsV2 request per 1,000
// blobs. The committed time is the remote's Last-Modified (see the
// package Caveats for multipart blobs).
func (s *Store) Walk(ctx context.Context, fn func(id string, committed time.Time) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: &s.prefix, Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, o := range page.Contents {
			id, ok := s.idOf(aws.ToString(o.Key))
			if !ok {
				continue
			}
			if err := fn(id, aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sweep implements blob.Store: it aborts the multipart uploads of blobs
// under the prefix whose latest activity is older than olderThan (0: all
// of them). Activity is the start of the upload, its newest part and, for
// a writer of this process, its last Write. Writers that never filled a
// buffer have nothing on the remote to sweep.
func (s *Store) Sweep(ctx context.Context, olderThan time.Duration) error {
	cutoff := s.clock.Now().Add(-olderThan)
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: &s.bucket, Prefix: &s.prefix, Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("sweep blobs: %w", err)
		}
		for _, u := range page.Uploads {
			id, ok := s.idOf(aws.ToString(u.Key))
			if !ok || u.UploadId == nil {
				continue
			}
			if olderThan > 0 {
				active, err := s.activeSince(ctx, u, cutoff)
				if err != nil {
					return fmt.Errorf("sweep blobs: %w", err)
				}
				if active {
					continue
				}
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId,
			})
			if err != nil && !isCode(err, "NoSuchUpload") {
				return fmt.Errorf("sweep blob %s: %w", id, err)
			}
			s.untrack(*u.UploadId)
			s.log.Info("aborted abandoned upload", "blob", id, "initiated", aws.ToTime(u.Initiated))
		}
	}
	return nil
}

// activeSince reports whether upload u saw activity after cutoff.
func (s *Store) activeSince(ctx context.Context, u types.MultipartUpload, cutoff time.Time) (bool, error) {
	if aws.ToTime(u.Initiated).After(cutoff) {
		return true, nil
	}
	s.mu.Lock()
	last := s.live[*u.UploadId]
	s.mu.Unlock()
	if last != nil && time.Unix(0, last.Load()).After(cutoff) {
		return true, nil
	}
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isCode(err, "NoSuchUpload") {
			return false, nil // completed or aborted meanwhile; aborting again is harmless
		}
		if err != nil {
			return false, err
		}
		for _, part := range page.Parts {
			if aws.ToTime(part.LastModified).After(cutoff) {
				return true, nil
			}
		}
	}
	return false, nil
}

// track records that upload is being written by a writer of this process
// and returns the cell that holds the time of its last Write.
func (s *Store) track(upload string) *atomic.Int64 {
	c := new(atomic.Int64)
	c.Store(s.clock.Now().UnixNano())
	s.mu.Lock()
	s.live[upload] = c
	s.mu.Unlock()
	return c
}

func (s *Store) untrack(upload string) {
	s.mu.Lock()
	delete(s.live, upload)
	s.mu.Unlock()
}
