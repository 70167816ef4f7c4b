// Package s3archive reads objects from S3 whatever their storage class:
// its GetObject answers at once for readable objects, and for archived
// ones (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering's archive tiers)
// requests the restore, then waits for it or reports when the object
// should be ready. It works with any aws-sdk-go-v2 S3 client, against
// AWS or any S3-compatible service (firn, moto, ...); it uses no firn
// extension.
//
// A GetObject interrupted while waiting can simply be called again: a
// restore already requested or running is taken as it is
// (RestoreAlreadyInProgress is not an error), so the second call resumes
// the wait.
package s3archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Restore tiers.
const (
	TierExpedited = "Expedited"
	TierStandard  = "Standard"
	TierBulk      = "Bulk"
)

// Options tune GetObject. The zero value restores for 1 day at the
// Standard tier and waits.
type Options struct {
	// Days the restored copy lives (default 1; ignored for
	// Intelligent-Tiering archive tiers, which take none).
	Days int
	// Tier of the restore: Expedited, Standard (default) or Bulk.
	Tier string
	// VersionID reads that version.
	VersionID string
	// NoWait: return a *PendingError once the restore is requested or
	// running instead of waiting for it.
	NoWait bool
	// Poll is the first wait between checks (default 2s); it doubles up
	// to MaxPoll (default 1m).
	Poll, MaxPoll time.Duration
	// ExpectedBucketOwner is passed on every request, so a bucket of
	// another account fails instead of being read.
	ExpectedBucketOwner string
	// OnEvent, if set, hears of the restore's progress.
	OnEvent func(Event)
	// Range, if set, is the HTTP Range of the final GET.
	Range string
}

// Event is what GetObject reports to Options.OnEvent.
type Event struct {
	Kind          EventKind
	Bucket, Key   string
	VersionID     string
	StorageClass  string // with ArchiveStatus for Intelligent-Tiering
	ArchiveStatus string
	Tier          string
	ExpectedReady time.Time // for Requested and Waiting
}

// EventKind names an Event.
type EventKind string

// Event kinds.
const (
	// Requested: this call asked for the restore.
	Requested EventKind = "restore-requested"
	// Waiting: a restore runs; GetObject checks again later.
	Waiting EventKind = "restore-waiting"
	// Ready: the object is readable.
	Ready EventKind = "ready"
)

// PendingError is GetObject's answer with NoWait (or when the context
// ends while waiting): the restore is requested or running.
type PendingError struct {
	Bucket, Key, VersionID string
	StorageClass           string
	ArchiveStatus          string
	Tier                   string
	// ExpectedReady is an estimate from the published restore times of
	// the tier (AWS's upper bounds); the service may be faster.
	ExpectedReady time.Time
	// Err is the context's error when the wait was cut short.
	Err error
}

func (e *PendingError) Error() string {
	class := e.StorageClass
	if e.ArchiveStatus != "" {
		class += "/" + e.ArchiveStatus
	}
	msg := fmt.Sprintf("s3://%s/%s (%s) is being restored (%s tier), expected ready by %s", e.Bucket, e.Key, class, e.Tier,
		e.ExpectedReady.UTC().Format(time.RFC3339))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *PendingError) Unwrap() error { return e.Err }

// Status is what Head learns of an object's readability.
type Status struct {
	StorageClass  string
	ArchiveStatus string // ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS (Intelligent-Tiering)
	Size          int64
	// Archived: the bytes need a restore; Restoring: one runs;
	// RestoredUntil: a restored copy is readable until then.
	Archived      bool
	Restoring     bool
	RestoredUntil time.Time
}

// Readable reports whether a GET would return the bytes now.
func (s Status) Readable() bool { return !s.Archived || !s.Restoring && !s.RestoredUntil.IsZero() }

// Head returns the storage status of an object.
func Head(ctx context.Context, c *s3.Client, bucket, key string, o Options) (Status, error) {
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, VersionId: optional(o.VersionID),
		ExpectedBucketOwner: optional(o.ExpectedBucketOwner)})
	if err != nil {
		return Status{}, err
	}
	st := Status{StorageClass: string(out.StorageClass), ArchiveStatus: string(out.ArchiveStatus), Size: aws.ToInt64(out.ContentLength)}
	if st.StorageClass == "" {
		st.StorageClass = "STANDARD"
	}
	switch {
	case st.StorageClass == "GLACIER" || st.StorageClass == "DEEP_ARCHIVE":
		st.Archived = true
	case st.StorageClass == "INTELLIGENT_TIERING" && st.ArchiveStatus != "":
		st.Archived = true
	}
	st.Restoring, st.RestoredUntil = ParseRestore(aws.ToString(out.Restore))
	if st.StorageClass == "INTELLIGENT_TIERING" && st.ArchiveStatus == "" {
		// Restored from an archive tier: back in Frequent Access.
		st.Archived, st.Restoring = false, false
	}
	return st, nil
}

// GetObject returns the object's bytes, restoring it first when it is
// archived (see the package doc). The caller closes the body.
func GetObject(ctx context.Context, c *s3.Client, bucket, key string, o Options) (*s3.GetObjectOutput, error) {
	if o.Days <= 0 {
		o.Days = 1
	}
	if o.Tier == "" {
		o.Tier = TierStandard
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = time.Minute
	}
	st, err := Head(ctx, c, bucket, key, o)
	if err != nil {
		return nil, err
	}
	ev := Event{Bucket: bucket, Key: key, VersionID: o.VersionID, StorageClass: st.StorageClass, ArchiveStatus: st.ArchiveStatus, Tier: o.Tier}
	if !st.Readable() {
		ready := time.Now().Add(ExpectedLatency(st.StorageClass, st.ArchiveStatus, o.Tier))
		if !st.Restoring {
			if err := requestRestore(ctx, c, bucket, key, st, o); err != nil {
				return nil, err
			}
			ev.Kind, ev.ExpectedReady = Requested, ready
			emit(o, ev)
		}
		pending := &PendingError{Bucket: bucket, Key: key, VersionID: o.VersionID, StorageClass: st.StorageClass,
			ArchiveStatus: st.ArchiveStatus, Tier: o.Tier, ExpectedReady: ready}
		if o.NoWait {
			return nil, pending
		}
		wait := o.Poll
		for {
			ev.Kind, ev.ExpectedReady = Waiting, ready
			emit(o, ev)
			select {
			case <-ctx.Done():
				pending.Err = ctx.Err()
				return nil, pending
			case <-time.After(wait):
			}
			wait = min(2*wait, o.MaxPoll)
			if st, err = Head(ctx, c, bucket, key, o); err != nil {
				return nil, err
			}
			if st.Readable() {
				break
			}
			if !st.Restoring {
				// The restore went away (expired already, or failed):
				// ask again.
				if err := requestRestore(ctx, c, bucket, key, st, o); err != nil {
					return nil, err
				}
			}
		}
	}
	ev.Kind = Ready
	emit(o, ev)
	return c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, VersionId: optional(o.VersionID),
		ExpectedBucketOwner: optional(o.ExpectedBucketOwner), Range: optional(o.Range)})
}

// requestRestore asks for the restore; one already running is fine.
func requestRestore(ctx context.Context, c *s3.Client, bucket, key string, st Status, o Options) error {
	req := &types.RestoreRequest{GlacierJobParameters: &types.GlacierJobParameters{Tier: types.Tier(o.Tier)}}
	if st.ArchiveStatus == "" {
		req.Days = aws.Int32(int32(o.Days))
	}
	_, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: &bucket, Key: &key, VersionId: optional(o.VersionID),
		ExpectedBucketOwner: optional(o.ExpectedBucketOwner), RestoreRequest: req})
	if err != nil && !IsCode(err, "RestoreAlreadyInProgress") {
		return fmt.Errorf("restore s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func emit(o Options, e Event) {
	if o.OnEvent != nil {
		o.OnEvent(e)
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ExpectedLatency is how long AWS says a restore of class (or
// Intelligent-Tiering archive status) at tier takes at most.
func ExpectedLatency(class, archiveStatus, tier string) time.Duration {
	deep := class == "DEEP_ARCHIVE" || archiveStatus == "DEEP_ARCHIVE_ACCESS"
	switch {
	case tier == TierExpedited:
		return 5 * time.Minute
	case tier == TierBulk && deep:
		return 48 * time.Hour
	case tier == TierBulk:
		return 12 * time.Hour
	case deep:
		return 12 * time.Hour
	}
	return 5 * time.Hour
}

// ParseRestore reads an x-amz-restore header value:
// `ongoing-request="true"` or
// `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`.
// An empty or unreadable value means no restore.
func ParseRestore(h string) (ongoing bool, expiry time.Time) {
	m := restoreRE.FindStringSubmatch(h)
	if m == nil {
		return false, time.Time{}
	}
	if m[2] != "" {
		if t, err := time.Parse(http.TimeFormat, m[2]); err == nil {
			expiry = t
		} else if t, err := time.Parse(time.RFC1123Z, m[2]); err == nil {
			expiry = t
		}
	}
	return m[1] == "true", expiry
}

var restoreRE = regexp.MustCompile(`ongoing-request="(true|false)"(?:\s*,\s*expiry-date="([^"]+)")?`)

// IsCode reports whether err is an S3 error with one of codes.
func IsCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
