package object

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RestoreOnGet is a bucket's "restore on GET" option: a GET of an
// archived object starts its restore (still answering InvalidObjectState,
// with a Retry-After hint), so clients that only retry get their data in
// the end.
type RestoreOnGet struct {
	Tier string `json:"tier"`
	Days int    `json:"days"`
}

const restoreOnGetConfigName = "restore-on-get"

// SetRestoreOnGet sets (or with nil clears) bucket's option.
func (s *Service) SetRestoreOnGet(ctx context.Context, bucket string, o *RestoreOnGet) error {
	var err error
	if o == nil {
		err = s.meta.DeleteBucketConfig(ctx, bucket, restoreOnGetConfigName)
	} else {
		if _, ok := tierRank[o.Tier]; !ok {
			return &InvalidArgumentError{Name: "Tier", Value: o.Tier, Msg: "Invalid Tier: " + o.Tier}
		}
		if o.Days < 1 {
			return &InvalidArgumentError{Name: "Days", Value: fmt.Sprint(o.Days), Msg: "Days must be a positive integer"}
		}
		var v []byte
		if v, err = json.Marshal(o); err == nil {
			err = s.meta.PutBucketConfig(ctx, bucket, restoreOnGetConfigName, v)
		}
	}
	return err
}

// GetRestoreOnGet returns bucket's option (nil: off). It is read from
// the store each time (only GETs of archived objects ask), so an option
// set by an admin command beside the server applies at once.
func (s *Service) GetRestoreOnGet(ctx context.Context, bucket string) (*RestoreOnGet, error) {
	v, err := s.meta.GetBucketConfig(ctx, bucket, restoreOnGetConfigName)
	if err != nil || v == nil {
		return nil, err
	}
	var o RestoreOnGet
	if err := json.Unmarshal(v, &o); err != nil {
		return nil, fmt.Errorf("restore-on-get option of %q: %w", bucket, err)
	}
	return &o, nil
}

// RestoreForGet starts, for a GET refused because the object is
// archived, the restore its bucket's RestoreOnGet option asks for (one
// already running is left alone), and returns how long the client
// should wait before retrying. ok is false when the bucket has no such
// option or the restore could not start.
func (s *Service) RestoreForGet(ctx context.Context, bucket, key, versionID string) (retryAfter time.Duration, ok bool) {
	opt, err := s.GetRestoreOnGet(ctx, bucket)
	if err != nil || opt == nil {
		return 0, false
	}
	o, err := s.lookup(ctx, bucket, key, versionID)
	if err != nil {
		return 0, false
	}
	class := o.StorageClass
	req := RestoreRequest{Bucket: bucket, Key: key, VersionID: versionID, Days: opt.Days, Tier: opt.Tier}
	if o.StorageClass == IntelligentTiering && IsArchiveAccess(o.AccessTier) {
		req.Days, req.NoDays = 0, true
		class = Glacier
		if o.AccessTier == AccessDeepArchive {
			class = DeepArchive
		}
	}
	if tier := opt.Tier; tier == TierExpedited && class == DeepArchive {
		req.Tier = TierStandard
	}
	_, err = s.RestoreObject(ctx, req)
	if err != nil && !errors.Is(err, ErrRestoreInProgress) {
		s.log.Warn("restore on GET", "bucket", bucket, "key", key, "err", err)
		return 0, false
	}
	wait := s.latency(class, req.Tier)
	if o2, err := s.meta.GetVersion(ctx, bucket, key, o.VersionID); err == nil && o2.Restore != nil && o2.Restore.Ongoing {
		// A running job may be due sooner (or later) than a new one.
		wait = max(s.latency(class, o2.Restore.Tier), 0)
		if !o2.Restore.Requested.IsZero() {
			wait -= s.clock.Now().Sub(o2.Restore.Requested)
		}
	}
	return max(wait, time.Second), true
}
