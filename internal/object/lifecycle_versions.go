package object

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/lifecycle"
	"github.com/firnhq/firn/internal/meta"
)

// Noncurrent versions and delete markers are scheduled like current
// objects (meta.Object.LifecycleDue, found through DueVersions), but
// their due times depend on the key's other versions (how many newer
// noncurrent versions there are, whether a marker is alone), so they are
// computed for the whole key whenever its versions change: after every
// write or delete in a versioned bucket and after every lifecycle action
// on a version.

// keyVersions returns every version of key, newest first.
func (s *Service) keyVersions(ctx context.Context, bucket, key string) ([]meta.Object, error) {
	var out []meta.Object
	afterKey, afterVer := "", ""
	for {
		// key's versions sort before those of every longer key under it.
		vs, err := s.meta.ScanVersions(ctx, bucket, key, afterKey, afterVer, 256)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.Key != key {
				return out, nil
			}
			out = append(out, v)
		}
		if len(vs) < 256 {
			return out, nil
		}
		afterKey, afterVer = key, vs[len(vs)-1].VersionID
	}
}

// versionObject describes vs[i], one of a key's versions (newest first),
// as the lifecycle rules see it.
func versionObject(vs []meta.Object, i int) lifecycle.Object {
	v := &vs[i]
	lo := lifecycleObject(v)
	lo.Versioned = true
	lo.OnlyVersion = len(vs) == 1
	lo.IsDeleteMarker = v.DeleteMarker
	lo.Noncurrent = !v.IsLatest
	lo.NoncurrentSince = v.NoncurrentSince
	for j := 0; j < i; j++ {
		if !vs[j].IsLatest && !vs[j].DeleteMarker {
			lo.NewerNoncurrent++
		}
	}
	return lo
}

// scheduleVersions sets the due times of key's noncurrent versions and
// of its delete marker if that is the latest version (none without a
// lifecycle configuration).
func (s *Service) scheduleVersions(ctx context.Context, bucket, key string) error {
	cfg, opt, err := s.lifecycleFor(ctx, bucket)
	if err != nil {
		return err
	}
	vs, err := s.keyVersions(ctx, bucket, key)
	if err != nil {
		return err
	}
	var ups []meta.LifecycleUpdate
	for i := range vs {
		v := &vs[i]
		if v.IsLatest && !v.DeleteMarker {
			continue // the current object schedules itself
		}
		var due time.Time
		if cfg == nil {
		} else if a, ok := cfg.Next(versionObject(vs, i), opt); ok {
			due = a.Due
		}
		if !due.Equal(v.LifecycleDue) {
			ups = append(ups, meta.LifecycleUpdate{Bucket: bucket, Key: key, VersionID: v.VersionID, ETag: v.ETag, Modified: v.LastModified, Due: due})
		}
	}
	if len(ups) == 0 {
		return nil
	}
	_, err = s.meta.UpdateLifecycle(ctx, ups)
	return err
}

// versionsChanged reschedules key's versions after a write or delete in
// a versioned bucket. A failure is logged: the versions keep their
// previous schedule, and the reconciliation walk corrects it.
func (s *Service) versionsChanged(ctx context.Context, bucket, key string) {
	if st, err := s.BucketVersioning(ctx, bucket); err != nil || st == "" {
		return
	}
	if cfg, _, err := s.lifecycleFor(ctx, bucket); err != nil || cfg == nil {
		return
	}
	if err := s.scheduleVersions(ctx, bucket, key); err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
		s.log.Warn("schedule lifecycle of versions", "bucket", bucket, "key", key, "err", err)
	}
}

// runVersions applies the lifecycle actions due on up to limit
// noncurrent versions and delete markers.
func (s *Service) runVersions(ctx context.Context, now time.Time, limit int, res *LifecycleResult) []error {
	due, err := s.meta.DueVersions(ctx, now, limit)
	if err != nil {
		return []error{err}
	}
	var errs []error
	type bk struct{ bucket, key string }
	touched := map[bk]bool{}
	for _, d := range due {
		k := bk{d.Bucket, d.Key}
		if touched[k] {
			continue // judged with its key below
		}
		touched[k] = true
		if err := s.runKeyVersions(ctx, d.Bucket, d.Key, now, res); err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			errs = append(errs, fmt.Errorf("lifecycle %s/%s versions: %w", d.Bucket, d.Key, err))
		}
	}
	return errs
}

// runKeyVersions applies what is due on key's noncurrent versions and
// delete marker, then schedules them afresh.
func (s *Service) runKeyVersions(ctx context.Context, bucket, key string, now time.Time, res *LifecycleResult) error {
	cfg, opt, err := s.lifecycleFor(ctx, bucket)
	if err != nil {
		return err
	}
	vs, err := s.keyVersions(ctx, bucket, key)
	if err != nil {
		return err
	}
	var errs []error
	for i := range vs {
		v := &vs[i]
		if cfg == nil || v.IsLatest && !v.DeleteMarker || v.LifecycleDue.IsZero() || v.LifecycleDue.After(now) {
			continue
		}
		a, ok := cfg.Evaluate(versionObject(vs, i), now, opt)
		if !ok {
			continue
		}
		switch a.Kind {
		case lifecycle.KindNoncurrentTransition:
			if s.tierOf(a.StorageClass) == s.tierOf(v.StorageClass) && !IsArchiveAccess(v.AccessTier) {
				n, err := s.meta.UpdateLifecycle(s.events(ctx, bucket, causeSystem), []meta.LifecycleUpdate{{Bucket: bucket, Key: key, VersionID: v.VersionID,
					ETag: v.ETag, Modified: v.LastModified, StorageClass: a.StorageClass}})
				errs = append(errs, err)
				res.Transitioned += n
				if n == 1 {
					s.record(audit.PrincipalLifecycle, "s3:LifecycleTransition", v, map[string]string{"rule": a.RuleID, "storage_class": a.StorageClass})
				}
			} else if err := s.moveTier(ctx, v, a.StorageClass, ""); err == nil {
				res.Transitioned++
				s.record(audit.PrincipalLifecycle, "s3:LifecycleTransition", v, map[string]string{"rule": a.RuleID, "storage_class": a.StorageClass})
			} else if !errors.Is(err, errLifecycleRaced) {
				errs = append(errs, err)
			}
		case lifecycle.KindNoncurrentExpire, lifecycle.KindExpireDeleteMarker:
			deleted, freed, err := s.meta.DeleteVersion(s.events(ctx, bucket, causeSystem), bucket, key, v.VersionID)
			errs = append(errs, err)
			if err == nil && deleted != nil {
				s.free(ctx, freed)
				res.Expired++
				s.record(audit.PrincipalLifecycle, "s3:LifecycleExpiration", v, map[string]string{"rule": a.RuleID})
			}
		}
	}
	// Whatever was applied changed the key's versions: judge them again
	// (a marker left alone may now expire, counts of newer versions
	// changed).
	errs = append(errs, s.scheduleVersions(ctx, bucket, key))
	return errors.Join(errs...)
}
