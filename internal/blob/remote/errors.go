package remote

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/blob"
)

// NeedsRestoreError is returned by Open for a blob that the remote keeps
// in an archive class whose objects must be restored on the remote before
// they can be read: on AWS, GLACIER and DEEP_ARCHIVE, and the archive
// access tiers of INTELLIGENT_TIERING (the remote answers
// InvalidObjectState). The blob exists: it shows in Walk and can be
// deleted.
//
// It wraps blob.ErrNeedsRestore; Store.Restore asks the remote for the
// restore, after which Open succeeds once the remote has done it.
type NeedsRestoreError struct {
	ID           string // the blob
	Key          string // its key in the remote bucket
	StorageClass string // the remote's storage class, when it says
	AccessTier   string // the INTELLIGENT_TIERING access tier, when it says
}

func (e *NeedsRestoreError) Error() string {
	class := e.StorageClass
	if class == "" {
		class = "an archive class"
	}
	if e.AccessTier != "" {
		class += " (" + e.AccessTier + ")"
	}
	return fmt.Sprintf("blob %s: remote object %s is in %s and needs a restore on the remote", e.ID, e.Key, class)
}

// Unwrap makes the error match blob.ErrNeedsRestore.
func (e *NeedsRestoreError) Unwrap() error { return blob.ErrNeedsRestore }

// openError maps the error of a GET of blob id.
func (s *Store) openError(id string, err error) error {
	var ios *types.InvalidObjectState
	switch {
	case errors.As(err, &ios):
		return &NeedsRestoreError{ID: id, Key: s.key(id), StorageClass: string(ios.StorageClass), AccessTier: string(ios.AccessTier)}
	case isCode(err, "InvalidObjectState"):
		return &NeedsRestoreError{ID: id, Key: s.key(id)}
	case isNotFound(err):
		return fmt.Errorf("blob %s: %w", id, blob.ErrNotFound)
	}
	return fmt.Errorf("open blob %s: %w", id, err)
}

// isCode reports whether err is an S3 error with one of codes.
func isCode(err error, codes ...string) bool {
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

// isNotFound reports whether err says that an object does not exist.
// Only the codes count, not a bare 404: a missing bucket or a wrong
// endpoint is not a missing blob.
func isNotFound(err error) bool { return isCode(err, "NoSuchKey", "NotFound") }
