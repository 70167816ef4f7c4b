package object

import (
	"context"
	"errors"
	"time"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/lifecycle/tiering"
	"github.com/firnhq/firn/internal/meta"
)

// Intelligent-Tiering access tiers (meta.Object.AccessTier). Frequent
// Access is "". Objects in the two archive tiers live in the archive
// store and need a restore, like GLACIER objects; the storage class stays
// INTELLIGENT_TIERING throughout.
const (
	AccessInfrequent     = "INFREQUENT_ACCESS"
	AccessArchiveInstant = "ARCHIVE_INSTANT_ACCESS"
	AccessArchive        = tiering.ArchiveAccess     // "ARCHIVE_ACCESS"
	AccessDeepArchive    = tiering.DeepArchiveAccess // "DEEP_ARCHIVE_ACCESS"
)

// accessRank orders the access tiers, coldest last.
var accessRank = map[string]int{"": 0, AccessInfrequent: 1, AccessArchiveInstant: 2, AccessArchive: 3, AccessDeepArchive: 4}

// itMinSize: smaller objects are never monitored nor moved.
const itMinSize = 128 << 10

// IsArchiveAccess reports whether an access tier needs a restore.
func IsArchiveAccess(tier string) bool { return tier == AccessArchive || tier == AccessDeepArchive }

// itNext returns when an INTELLIGENT_TIERING object moves to a colder
// access tier for want of access, and to which (zero: never): Infrequent
// after 30 days, Archive Instant after 90, and the archive tiers after
// the days of the bucket's first enabled configuration that matches it.
func (s *Service) itNext(ctx context.Context, o *meta.Object) (time.Time, string, error) {
	if o.StorageClass != IntelligentTiering || o.DeleteMarker || o.Size < itMinSize || !o.NoncurrentSince.IsZero() ||
		o.Restore != nil && o.Restore.Ongoing {
		return time.Time{}, "", nil
	}
	base := o.LastAccess
	if base.IsZero() {
		base = o.LastModified
	}
	type cand struct {
		days int
		tier string
	}
	cands := []cand{{30, AccessInfrequent}, {90, AccessArchiveInstant}}
	cfgs, err := s.IntelligentTieringFor(ctx, o.Bucket)
	if err != nil {
		return time.Time{}, "", err
	}
	tags := map[string]string{}
	for _, t := range o.Tags {
		tags[t.Key] = t.Value
	}
	for i := range cfgs {
		c := &cfgs[i]
		if !c.Enabled() || !c.Matches(o.Key, tags) {
			continue
		}
		for _, t := range []string{AccessArchive, AccessDeepArchive} {
			if d, ok := c.TierDays(t); ok {
				cands = append(cands, cand{d, t})
			}
		}
		break
	}
	cur := accessRank[o.AccessTier]
	best := cand{-1, ""}
	for _, c := range cands {
		if accessRank[c.tier] <= cur {
			continue
		}
		if best.days < 0 || c.days < best.days || c.days == best.days && accessRank[c.tier] > accessRank[best.tier] {
			best = c
		}
	}
	if best.days < 0 {
		return time.Time{}, "", nil
	}
	return base.Add(time.Duration(best.days) * s.clock.DayLength()), best.tier, nil
}

// dueOf is when the lifecycle engine next acts on o: its lifecycle rules
// or its Intelligent-Tiering access tier, whichever comes first.
func (s *Service) dueOf(ctx context.Context, o *meta.Object) (time.Time, error) {
	cfg, opt, err := s.lifecycleFor(ctx, o.Bucket)
	if err != nil {
		return time.Time{}, err
	}
	due := nextDue(cfg, o, opt)
	it, _, err := s.itNext(ctx, o)
	if err != nil {
		return time.Time{}, err
	}
	if !it.IsZero() && (due.IsZero() || it.Before(due)) {
		due = it
	}
	return due, nil
}

// runTiering moves o to the access tier its idleness has earned, if that
// is due by now; it reports whether it acted.
func (s *Service) runTiering(ctx context.Context, o *meta.Object, now time.Time) (bool, error) {
	due, tier, err := s.itNext(ctx, o)
	if err != nil || due.IsZero() || due.After(now) {
		return false, err
	}
	if IsArchiveAccess(tier) {
		if IsArchiveAccess(o.AccessTier) {
			// Archive to Deep Archive: the bytes stay in the archive.
			return true, s.setAccessTier(ctx, o, tier)
		}
		if err := s.moveTier(ctx, o, o.StorageClass, tier); err != nil {
			return false, err
		}
	} else if err := s.setAccessTier(ctx, o, tier); err != nil {
		return false, err
	}
	s.record(audit.PrincipalLifecycle, "s3:IntelligentTiering", o, map[string]string{"access_tier": tier})
	return true, nil
}

// setAccessTier changes the access tier of o, still the version judged,
// without moving bytes, and schedules its next move.
func (s *Service) setAccessTier(ctx context.Context, o *meta.Object, tier string) error {
	return s.meta.UpdateVersion(s.events(ctx, o.Bucket, causeSystem), o.Bucket, o.Key, o.VersionID, func(cur *meta.Object) error {
		if cur.ETag != o.ETag || !cur.LastModified.Equal(o.LastModified) || !cur.LastAccess.Equal(o.LastAccess) {
			return errLifecycleRaced
		}
		cur.AccessTier = tier
		due, err := s.dueOf(ctx, cur)
		cur.LifecycleDue = due
		return err
	})
}

// accessed records a read of an INTELLIGENT_TIERING object: it returns
// to Frequent Access and its idle clock restarts. To spare the metadata
// store a write per read, a Frequent object read again within a model
// day is not updated. Failures are logged: a missed access only delays
// nothing but the next move's reckoning.
func (s *Service) accessed(ctx context.Context, o *meta.Object) {
	if o.StorageClass != IntelligentTiering || o.Size < itMinSize || IsArchiveAccess(o.AccessTier) {
		return
	}
	now := s.clock.Now().UTC()
	last := o.LastAccess
	if last.IsZero() {
		last = o.LastModified
	}
	if o.AccessTier == "" && now.Sub(last) < s.clock.DayLength() {
		return
	}
	err := s.meta.UpdateVersion(ctx, o.Bucket, o.Key, o.VersionID, func(cur *meta.Object) error {
		if cur.ETag != o.ETag || !cur.LastModified.Equal(o.LastModified) || IsArchiveAccess(cur.AccessTier) {
			return errLifecycleRaced
		}
		cur.AccessTier, cur.LastAccess = "", now
		due, err := s.dueOf(ctx, cur)
		cur.LifecycleDue = due
		return err
	})
	if err != nil && !errors.Is(err, errLifecycleRaced) && !errors.Is(err, meta.ErrNoSuchVersion) && !errors.Is(err, meta.ErrNoSuchKey) {
		s.log.Warn("record Intelligent-Tiering access", "bucket", o.Bucket, "key", o.Key, "err", err)
	}
}
