// Package object is firn's object service: the rules of S3 on top of the
// metadata store and the blob stores. It owns bucket naming, object
// writes and their integrity checks, conditional reads, ranges, copies,
// multipart assembly, tagging and storage classes; it knows nothing of
// HTTP or XML (package s3api turns requests into calls here and errors
// into S3 error codes).
//
// Small objects (up to Config.InlineMax bytes) are kept inside the
// metadata record, so that a small PUT costs one grouped metadata commit
// instead of a file, two fsyncs and a commit (docs/adr/0002). Larger
// objects and every multipart part are blobs in the hot blob store; an
// object's bytes are always durable before the metadata that points to
// them commits.
package object

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/sse"
)

// Errors of the object service, beside meta's (ErrNoSuchBucket,
// ErrNoSuchKey, ErrNoSuchUpload, ErrBucketNotEmpty), which it returns
// as they are. Details are wrapped around them; test with errors.Is.
var (
	ErrInvalidBucketName        = errors.New("invalid bucket name")
	ErrBucketAlreadyOwnedByYou  = errors.New("bucket already owned by you")
	ErrBucketAlreadyExists      = errors.New("bucket name taken by another owner")
	ErrInvalidLocation          = errors.New("invalid location constraint")
	ErrKeyTooLong               = errors.New("key longer than 1024 bytes")
	ErrInvalidKey               = errors.New("key is not valid UTF-8 or is empty")
	ErrInvalidStorageClass      = errors.New("invalid storage class")
	ErrPreconditionFailed       = errors.New("precondition failed")
	ErrNotModified              = errors.New("not modified")
	ErrInvalidRange             = errors.New("requested range not satisfiable")
	ErrInvalidPartNumber        = errors.New("requested part number not satisfiable")
	ErrBadDigest                = errors.New("Content-MD5 does not match the content")
	ErrChecksumMismatch         = errors.New("checksum does not match the content")
	ErrIncompleteBody           = errors.New("body shorter than declared")
	ErrEntityTooLarge           = errors.New("object larger than allowed")
	ErrEntityTooSmall           = errors.New("part smaller than the minimum")
	ErrInvalidPart              = errors.New("part not found or ETag mismatch")
	ErrInvalidPartOrder         = errors.New("parts not in ascending order")
	ErrInvalidTag               = errors.New("invalid tag")
	ErrMalformedCompleteRequest = errors.New("complete request lists no parts")
)

// InvalidArgumentError is a bad request parameter, reported to clients as
// S3's InvalidArgument with Msg.
type InvalidArgumentError struct {
	Name  string // the parameter, e.g. "partNumber"
	Value string
	Msg   string
}

func (e *InvalidArgumentError) Error() string { return e.Msg }

// InvalidRequestError is a request S3 rejects as InvalidRequest with Msg.
type InvalidRequestError struct{ Msg string }

func (e *InvalidRequestError) Error() string { return e.Msg }

// Limits S3 enforces.
const (
	MaxKeyLength    = 1024
	MaxPutSize      = 5 << 30 // single PUT and single part
	MaxObjectSize   = 5 << 40 // multipart
	MinPartSize     = 5 << 20 // every part but the last
	MaxPartNumber   = 10000
	MaxTags         = 10
	MaxTagKeyLen    = 128
	MaxTagValueLen  = 256
	DefaultInline   = 128 << 10
	defaultMaxParts = 1000
)

// Config assembles a Service.
type Config struct {
	Meta  meta.Store
	Blobs blob.Store // the hot store
	// Archive is the archive tier's store; nil keeps the classes mapped
	// to it on the hot store.
	Archive blob.Store
	// Remote is the remote tier's store (RemoteTier); nil keeps the
	// classes mapped to it on the hot store.
	Remote blob.Store
	// ClassTiers overrides which tier each storage class is stored on
	// ("" for hot, ArchiveTier, RemoteTier); see DefaultClassTiers.
	ClassTiers map[string]string
	// Restore configures restore jobs; zero values take the defaults.
	Restore RestoreConfig
	// FreeTierBytes is the monthly allowance of the FreeTier retrieval
	// policy; 0 means retrieval.DefaultFreeTierMonthlyBytes.
	FreeTierBytes int64
	Clock         clock.Clock
	Log           *slog.Logger // nil: discard
	// Region is the server's region: the only LocationConstraint a bucket
	// may name.
	Region string
	// InlineMax is the largest object kept inside its metadata record;
	// 0 means DefaultInline, negative means never inline.
	InlineMax int64
	// MinPartSize overrides the 5 MiB minimum part size (tests only).
	MinPartSize int64
	// Keys wraps the object keys of SSE-S3 objects; nil: the server
	// has no master keys and refuses SSE-S3.
	Keys sse.KeyProvider
	// Audit records the actions the service takes by itself
	// (lifecycle, restores); nil: none.
	Audit *audit.Logger
	// Targets are the event notification targets; nil: bucket
	// notification configurations cannot name any, and no events are
	// written.
	Targets NotificationTargets
}

// Service implements the S3 object model. It is safe for concurrent use.
type Service struct {
	meta          meta.Store
	blobs         blob.Store
	tiers         map[string]blob.Store // by tier name; the hot store is blobs
	classTiers    map[string]string
	restoreCfg    RestoreConfig
	freeTierBytes int64
	clock         clock.Clock
	log           *slog.Logger
	region        string
	inlineMax     int64
	minPartSize   int64
	keys          sse.KeyProvider // nil: no SSE-S3
	audit         *audit.Logger   // nil: no audit records
	targets       NotificationTargets

	lifecycles    configCache[*BucketLifecycle]   // bucket lifecycle configurations read so far
	versioning    configCache[string]             // bucket versioning states read so far
	encryptions   configCache[BucketEncryption]   // bucket default encryptions read so far
	publicAccess  configCache[*PublicAccessBlock] // bucket public access blocks read so far (nil: none)
	policies      configCache[*bucketPolicy]      // bucket policies read so far (nil: none)
	tierings      tieringState                    // bucket Intelligent-Tiering configurations read so far
	notifications configCache[*notify.Config]     // bucket notification configurations read so far (nil: none)
	notifyAny     notifyState                     // whether any bucket has one

	mu       sync.Mutex          // guards inflight, pins and deferred
	inflight map[string]struct{} // blobs committed but not yet referenced
	pins     map[string]int      // blobs open for reading, by reader count
	deferred map[string]bool     // freed while pinned: delete on last unpin
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{meta: c.Meta, blobs: c.Blobs, tiers: map[string]blob.Store{}, clock: c.Clock, log: c.Log, region: c.Region,
		inlineMax: c.InlineMax, minPartSize: c.MinPartSize, inflight: map[string]struct{}{},
		pins: map[string]int{}, deferred: map[string]bool{},
		classTiers: DefaultClassTiers(), restoreCfg: c.Restore.withDefaults(), freeTierBytes: c.FreeTierBytes, keys: c.Keys, audit: c.Audit, targets: c.Targets}
	for class, tier := range c.ClassTiers {
		s.classTiers[class] = tier
	}
	if c.Archive != nil {
		s.tiers[ArchiveTier] = c.Archive
	}
	if c.Remote != nil {
		s.tiers[RemoteTier] = c.Remote
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.inlineMax == 0 {
		s.inlineMax = DefaultInline
	}
	if s.minPartSize <= 0 {
		s.minPartSize = MinPartSize
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	return s
}

// Region returns the server's region.
func (s *Service) Region() string { return s.region }

// free deletes blobs that a committed metadata change stopped
// referencing, from whichever store holds them (deleting an id a store
// does not hold is a no-op). Failures only leave orphans for the
// collector.
func (s *Service) free(ctx context.Context, ids []string) {
	for _, id := range ids {
		s.mu.Lock()
		pinned := s.pins[id] > 0
		if pinned {
			s.deferred[id] = true
		}
		s.mu.Unlock()
		if pinned {
			continue // the last reader deletes it
		}
		s.deleteBlob(ctx, id)
	}
}

// deleteBlob removes id from whichever store holds it.
func (s *Service) deleteBlob(ctx context.Context, id string) {
	for _, st := range s.stores() {
		if err := st.Delete(context.WithoutCancel(ctx), id); err != nil {
			s.log.Warn("free blob", "blob", id, "err", err)
		}
	}
}

// pin marks blobs as being read.
func (s *Service) pin(ids []string) {
	s.mu.Lock()
	for _, id := range ids {
		s.pins[id]++
	}
	s.mu.Unlock()
}

// unpin releases blobs pinned by pin, deleting those freed meanwhile.
func (s *Service) unpin(ids []string) {
	var del []string
	s.mu.Lock()
	for _, id := range ids {
		if s.pins[id]--; s.pins[id] <= 0 {
			delete(s.pins, id)
			if s.deferred[id] {
				delete(s.deferred, id)
				del = append(del, id)
			}
		}
	}
	s.mu.Unlock()
	for _, id := range del {
		s.deleteBlob(context.Background(), id)
	}
}

func (s *Service) track(id string) {
	s.mu.Lock()
	s.inflight[id] = struct{}{}
	s.mu.Unlock()
}

func (s *Service) untrack(id string) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.mu.Unlock()
}

// isInflight reports whether id is being written or read, which the
// collector must leave alone.
func (s *Service) isInflight(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.inflight[id]
	return ok || s.pins[id] > 0
}

func wrap(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// record writes an audit record of an action the service took by itself.
func (s *Service) record(principal, action string, o *meta.Object, detail map[string]string) {
	if s.audit == nil {
		return
	}
	s.audit.Log(audit.Record{Time: s.clock.Now().UTC(), Principal: principal, Action: action,
		Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID, Detail: detail})
}
