// Package meta defines firn's metadata store: the single source of truth
// for buckets, objects, multipart uploads and the references to the blobs
// that hold object bytes.
//
// A Store is the abstraction; implementations live in subpackages (sqlite,
// the embedded default; PostgreSQL later) and every one of them must pass
// the shared conformance suite in package metatest, so they behave the
// same. A Store knows nothing of S3 wire formats and nothing of where
// bytes live: a blob id is an opaque string to it.
//
// Write methods are atomic: either the whole change commits durably (the
// method returned nil) or nothing changed. Methods that remove references
// to blobs return the ids that are no longer referenced ("freed"), so the
// caller can delete the bytes after the commit; a crash in between only
// leaves orphans, which the blob collector removes using BlobReferenced.
//
// Keys compare as raw bytes (UTF-8 binary order), as S3 lists them.
package meta

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every Store. Implementations wrap them with context;
// test with errors.Is.
var (
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("meta: no such bucket")
	// ErrBucketExists: CreateBucket on a name already taken.
	ErrBucketExists = errors.New("meta: bucket exists")
	// ErrBucketNotEmpty: DeleteBucket on a bucket that still holds objects.
	ErrBucketNotEmpty = errors.New("meta: bucket not empty")
	// ErrNoSuchKey: no current object under that key.
	ErrNoSuchKey = errors.New("meta: no such key")
	// ErrNoSuchUpload: the multipart upload does not exist (or was
	// completed or aborted).
	ErrNoSuchUpload = errors.New("meta: no such upload")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("meta: store closed")
)

// Bucket is a bucket's record.
type Bucket struct {
	Name    string
	Region  string // LocationConstraint given at creation ("" = us-east-1)
	Owner   string // access key id of the creator
	Created time.Time
}

// Tag is one object tag. Tags keep the order in which they were given.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Checksum is an object's additional checksum (x-amz-checksum-*).
type Checksum struct {
	Algorithm string `json:"a,omitempty"` // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
	Type      string `json:"t,omitempty"` // COMPOSITE or FULL_OBJECT
	Value     string `json:"v,omitempty"` // base64, with "-N" for composite multipart
}

// PartInfo describes one part of an object assembled by multipart upload.
type PartInfo struct {
	Number   int    `json:"n"`
	Size     int64  `json:"s"`
	ETag     string `json:"e"`
	Checksum string `json:"c,omitempty"`
}

// Segment is a run of object bytes held by one blob.
type Segment struct {
	BlobID string `json:"b"`
	Size   int64  `json:"s"`
	// Tier names the blob store holding the blob: "" for the hot store,
	// otherwise a tier name of the object service's configuration.
	Tier string `json:"t,omitempty"`
	// Part is the multipart part number whose stream the blob holds,
	// for an encrypted object (its stream key derives from it); 0 for
	// the single stream of an object written in one piece.
	Part int `json:"p,omitempty"`
}

// Encryption is how an object's bytes are encrypted at rest: they are
// streams under an object key, stored only wrapped (see package sse).
type Encryption struct {
	// Algorithm is "AES256" (SSE-S3: wrapped by the server's master key
	// KeyID) or "SSE-C" (wrapped by the client's key).
	Algorithm string `json:"a"`
	KeyID     string `json:"k,omitempty"`
	// WrappedKey is the sealed object key.
	WrappedKey []byte `json:"w"`
	// CustomerKeyMD5 is the base64 MD5 of the SSE-C key.
	CustomerKeyMD5 string `json:"m,omitempty"`
}

// Restore is the state of an archived object's temporary restored copy.
type Restore struct {
	Ongoing   bool      `json:"o,omitempty"` // a restore job is running
	Tier      string    `json:"t,omitempty"` // Expedited, Standard or Bulk
	Days      int       `json:"d,omitempty"` // requested lifetime of the copy
	Requested time.Time `json:"r,omitzero"`
	// Expiry is when the copy goes away; zero while Ongoing.
	Expiry time.Time `json:"e,omitzero"`
	// Copy holds the restored bytes (in the hot store) once done.
	Copy []Segment `json:"c,omitempty"`
	// Inline holds a small restored copy's bytes instead of Copy. Stores
	// keep it where a hot object keeps its inline bytes, which an
	// archived object's own bytes never use.
	Inline []byte `json:"-"`
}

// Object is the record of one object version.
type Object struct {
	Bucket       string
	Key          string
	VersionID    string // "null" for objects written without versioning
	Size         int64
	ETag         string // without quotes: hex MD5, or hex-N for multipart
	LastModified time.Time
	StorageClass string // always set; STANDARD by default
	Owner        string
	// Headers holds the stored standard headers by canonical name:
	// Content-Type, Content-Encoding, Content-Disposition,
	// Content-Language, Cache-Control, Expires.
	Headers map[string]string
	// UserMeta holds x-amz-meta-* values by lower-case name without the
	// prefix.
	UserMeta map[string]string
	Tags     []Tag
	Checksum Checksum
	Parts    []PartInfo // set for multipart objects
	// The bytes: either Inline (small objects kept in the metadata
	// store) or Segments, in order. An empty object has neither.
	Segments []Segment
	Inline   []byte
	// Restore is set while an archived object is being restored or has
	// a restored copy.
	Restore *Restore
	// Encryption is set for objects encrypted at rest: their Inline
	// bytes, blobs and restored copies hold ciphertext.
	Encryption *Encryption
	// AccessTier is an INTELLIGENT_TIERING object's access tier, named
	// by the object service ("" for Frequent Access); LastAccess is when
	// it was last read (zero: never since it was written).
	AccessTier string
	LastAccess time.Time
	// DeleteMarker: this version is a delete marker, with no bytes,
	// headers or tags (see VersionStore).
	DeleteMarker bool
	// IsLatest: this is the key's latest version (set by the version
	// reads of VersionStore; GetObject's current object is always latest).
	IsLatest bool
	// NoncurrentSince is when a newer version replaced this one as the
	// latest; zero for the latest version.
	NoncurrentSince time.Time
	// LifecycleDue is when a lifecycle rule of its bucket next acts on
	// the object; zero when none will. Stores index it (DueObjects), so
	// the lifecycle engine finds due work without scanning buckets.
	LifecycleDue time.Time
}

// BlobIDs returns the ids of the blobs holding o's bytes, its restored
// copy included.
func (o *Object) BlobIDs() []string {
	ids := make([]string, 0, len(o.Segments))
	for _, s := range o.Segments {
		ids = append(ids, s.BlobID)
	}
	if o.Restore != nil {
		for _, s := range o.Restore.Copy {
			ids = append(ids, s.BlobID)
		}
	}
	return ids
}

// SegmentIDs returns the blob ids of segs.
func SegmentIDs(segs []Segment) []string {
	ids := make([]string, 0, len(segs))
	for _, s := range segs {
		ids = append(ids, s.BlobID)
	}
	return ids
}

// Upload is an in-progress multipart upload.
type Upload struct {
	ID        string
	Bucket    string
	Key       string
	Initiated time.Time
	Owner     string
	// Template carries what the completed object will have besides its
	// bytes: storage class, headers, user metadata, tags and the checksum
	// algorithm and type requested at creation.
	Template Object
}

// Part is an uploaded part of a multipart upload.
type Part struct {
	UploadID     string
	Number       int
	Size         int64
	ETag         string // hex MD5, without quotes
	Checksum     string // base64 of the upload's checksum algorithm, if any
	LastModified time.Time
	BlobID       string // "" for an empty part
}

// PutCheck inspects the current object (nil when there is none) inside the
// write transaction; a non-nil error aborts the write and is returned.
type PutCheck func(cur *Object) error

// Store is firn's metadata store. All methods are safe for concurrent use.
type Store interface {
	// CreateBucket records a new bucket. ErrBucketExists if the name is
	// taken (whoever owns it).
	CreateBucket(ctx context.Context, b Bucket) error
	// GetBucket returns the bucket. ErrNoSuchBucket.
	GetBucket(ctx context.Context, name string) (Bucket, error)
	// ListBuckets returns every bucket in name order.
	ListBuckets(ctx context.Context) ([]Bucket, error)
	// DeleteBucket removes a bucket without versions, aborting its multipart
	// uploads and dropping its configurations, and returns the blobs the
	// uploads referenced. ErrNoSuchBucket, ErrBucketNotEmpty.
	DeleteBucket(ctx context.Context, name string) (freed []string, err error)

	// PutObject makes o the latest version of its key, after check (if
	// not nil) accepted the current object; what becomes of the previous
	// versions is VersionStore's rule. The blobs of o become referenced;
	// those of a replaced version are freed. ErrNoSuchBucket.
	PutObject(ctx context.Context, o *Object, check PutCheck) (freed []string, err error)
	// GetObject returns the current object with its inline bytes.
	// ErrNoSuchBucket, ErrNoSuchKey.
	GetObject(ctx context.Context, bucket, key string) (*Object, error)
	// UpdateObject changes the current object in place (metadata, tags,
	// storage class, but not its bytes) with fn, atomically.
	// ErrNoSuchBucket, ErrNoSuchKey, or fn's error.
	UpdateObject(ctx context.Context, bucket, key string, fn func(o *Object) error) error
	// DeleteObject removes the current object under key, as
	// DeleteVersion does its version. Deleting a missing key is not an
	// error: deleted reports whether one existed. ErrNoSuchBucket.
	DeleteObject(ctx context.Context, bucket, key string) (deleted *Object, freed []string, err error)
	// ScanObjects returns up to limit current objects whose keys start
	// with prefix and sort strictly after after, in key order, without
	// their inline bytes. ErrNoSuchBucket.
	ScanObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]Object, error)

	// CreateUpload records a new multipart upload. ErrNoSuchBucket.
	CreateUpload(ctx context.Context, u Upload) error
	// GetUpload returns the upload if it belongs to bucket and key.
	// ErrNoSuchUpload.
	GetUpload(ctx context.Context, bucket, key, uploadID string) (Upload, error)
	// PutPart records a part, replacing a previous part with the same
	// number (whose blob is freed). ErrNoSuchUpload.
	PutPart(ctx context.Context, bucket, key string, p Part) (freed []string, err error)
	// ListParts returns up to limit parts numbered above after, in order.
	// ErrNoSuchUpload.
	ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]Part, error)
	// CompleteUpload atomically turns the upload into the current object:
	// build receives every recorded part in number order and returns the
	// object to store (or an error, which aborts and is returned). Parts
	// whose blobs the object does not use are freed, as are the replaced
	// object's. ErrNoSuchUpload.
	CompleteUpload(ctx context.Context, bucket, key, uploadID string, build func(parts []Part) (*Object, error)) (freed []string, err error)
	// AbortUpload removes the upload and its parts. ErrNoSuchUpload.
	AbortUpload(ctx context.Context, bucket, key, uploadID string) (freed []string, err error)
	// ScanUploads returns up to limit uploads in bucket whose keys start
	// with prefix, ordered by (key, id), positioned strictly after
	// (afterKey, afterID); an empty afterID with a non-empty afterKey skips
	// every upload of afterKey. Upload ids are made to sort by creation
	// time, so this is S3's (key, initiation) order. ErrNoSuchBucket.
	ScanUploads(ctx context.Context, bucket, prefix, afterKey, afterID string, limit int) ([]Upload, error)

	VersionStore
	IdentityStore
	RestoreStore
	SettingStore
	LifecycleStore
	BucketConfigStore
	OutboxStore

	// BlobReferenced reports whether any object or part references id.
	BlobReferenced(ctx context.Context, id string) (bool, error)
	// Close releases the store. Pending writes complete first.
	Close() error
}
