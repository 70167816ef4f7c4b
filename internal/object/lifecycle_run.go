package object

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/lifecycle"
	"github.com/firnhq/firn/internal/meta"
)

// The lifecycle engine. Every object write computes when its bucket's
// rules next act on the object (meta.Object.LifecycleDue, indexed by the
// metadata store); RunLifecycle takes the due objects from that index,
// earliest first, evaluates the rules again at the current time and
// applies the action, then schedules the object's next one. A day's work
// is proportional to the actions due, whatever the number of objects.
//
// Every action is conditional on the object version it was computed for
// (ETag and LastModified), so a crash, a second worker or an overwrite in
// between never applies an action twice or to the wrong version: the
// version that is current is simply evaluated afresh.

// lifecycleFor returns bucket's lifecycle configuration (nil when it
// has none) and the options to evaluate it with.
func (s *Service) lifecycleFor(ctx context.Context, bucket string) (*lifecycle.Configuration, lifecycle.Options, error) {
	lc, err := s.lifecycles.get(ctx, bucket, s.loadLifecycle)
	if err != nil || lc == nil {
		return nil, lifecycle.Options{DayLength: s.clock.DayLength()}, err
	}
	return lc.Config, lc.Options(s.clock.DayLength()), nil
}

// scheduleLifecycle sets o.LifecycleDue from its bucket's rules: when the
// earliest action on o falls due, or zero.
func (s *Service) scheduleLifecycle(ctx context.Context, o *meta.Object) error {
	due, err := s.dueOf(ctx, o)
	o.LifecycleDue = due
	return err
}

func nextDue(cfg *lifecycle.Configuration, o *meta.Object, opt lifecycle.Options) time.Time {
	if cfg == nil {
		return time.Time{}
	}
	if a, ok := cfg.Next(lifecycleObject(o), opt); ok {
		return a.Due
	}
	return time.Time{}
}

// LifecycleResult counts what RunLifecycle did.
type LifecycleResult struct {
	Transitioned, Expired, Rescheduled int
}

// Applied is the number of actions applied.
func (r LifecycleResult) Applied() int { return r.Transitioned + r.Expired }

// RunLifecycle applies the lifecycle actions due on up to limit objects.
// Class changes that move no bytes, and the rescheduling of objects with
// nothing to do, are committed together in one metadata transaction;
// byte moves and expirations one object at a time.
func (s *Service) RunLifecycle(ctx context.Context, limit int) (LifecycleResult, error) {
	var res LifecycleResult
	now := s.clock.Now().UTC()
	due, err := s.meta.DueObjects(ctx, now, limit)
	if err != nil {
		return res, err
	}
	var errs []error
	var classes, reschedules []meta.LifecycleUpdate
	var classRules []string // the rule of each of classes
	for i := range due {
		o := &due[i]
		cfg, opt, err := s.lifecycleFor(ctx, o.Bucket)
		if errors.Is(err, meta.ErrNoSuchBucket) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var a lifecycle.Action
		ok := false
		if cfg != nil {
			a, ok = cfg.Evaluate(lifecycleObject(o), now, opt)
		}
		update := meta.LifecycleUpdate{Bucket: o.Bucket, Key: o.Key, ETag: o.ETag, Modified: o.LastModified}
		switch {
		case ok && a.Kind == lifecycle.KindTransition && s.tierOf(a.StorageClass) == s.tierOf(o.StorageClass) && !IsArchiveAccess(o.AccessTier):
			next := *o
			next.StorageClass = a.StorageClass
			next.AccessTier = ""
			update.StorageClass, update.Due = a.StorageClass, nextDue(cfg, &next, opt)
			classes = append(classes, update)
			classRules = append(classRules, a.RuleID)
			continue
		case ok && a.Kind == lifecycle.KindTransition:
			err = s.moveTier(ctx, o, a.StorageClass, "")
			if err == nil {
				res.Transitioned++
				s.record(audit.PrincipalLifecycle, "s3:LifecycleTransition", o, map[string]string{"rule": a.RuleID, "storage_class": a.StorageClass})
			}
		case ok && a.Kind == lifecycle.KindExpire:
			var deleted *meta.Object
			var freed []string
			deleted, freed, err = s.expire(ctx, o)
			if err == nil && deleted != nil {
				s.free(ctx, freed)
				res.Expired++
				s.record(audit.PrincipalLifecycle, "s3:LifecycleExpiration", o, map[string]string{"rule": a.RuleID})
			}
		default:
			// An Intelligent-Tiering move may be due instead.
			if acted, terr := s.runTiering(ctx, o, now); acted || terr != nil {
				if terr == nil {
					res.Transitioned++
				} else if !errors.Is(terr, errLifecycleRaced) {
					errs = append(errs, fmt.Errorf("intelligent-tiering %s/%s: %w", o.Bucket, o.Key, terr))
				}
				continue
			}
			// Nothing to do now (the rules changed, or the action is
			// one only versioned buckets have): schedule the next one,
			// never one that is already due, so nothing loops.
			next, derr := s.dueOf(ctx, o)
			if derr != nil {
				errs = append(errs, derr)
				continue
			}
			if next.After(now) {
				update.Due = next
			}
			reschedules = append(reschedules, update)
			continue
		}
		if err != nil && !errors.Is(err, errLifecycleRaced) {
			errs = append(errs, fmt.Errorf("lifecycle %s/%s: %w", o.Bucket, o.Key, err))
		}
	}
	if len(classes) > 0 {
		n, err := s.meta.UpdateLifecycle(s.events(ctx, "", causeSystem), classes)
		if err != nil {
			errs = append(errs, err)
		} else {
			// Those whose object changed meanwhile were skipped; the
			// records say which were attempted in a committed batch.
			for i, u := range classes {
				s.record(audit.PrincipalLifecycle, "s3:LifecycleTransition", &meta.Object{Bucket: u.Bucket, Key: u.Key},
					map[string]string{"rule": classRules[i], "storage_class": u.StorageClass})
			}
		}
		res.Transitioned += n
	}
	if len(reschedules) > 0 {
		n, err := s.meta.UpdateLifecycle(ctx, reschedules)
		if err != nil {
			errs = append(errs, err)
		}
		res.Rescheduled += n
	}
	errs = append(errs, s.runVersions(ctx, now, limit, &res)...)
	return res, errors.Join(errs...)
}

// errLifecycleRaced: the object changed between reading and acting; the
// write that changed it scheduled it afresh.
var errLifecycleRaced = errors.New("object changed meanwhile")

// moveTier transitions o to class, which lives on another tier, as a
// lifecycle rule does: LastModified and ETag stay, the bytes are read as
// stored (even from an archive class: a transition needs no restore) and
// written to the new tier, and the next action is scheduled in the same
// commit.
func (s *Service) moveTier(ctx context.Context, o *meta.Object, class, accessTier string) error {
	same := func(cur *meta.Object) bool {
		return cur != nil && cur.ETag == o.ETag && cur.LastModified.Equal(o.LastModified)
	}
	full, err := s.meta.GetVersion(ctx, o.Bucket, o.Key, o.VersionID)
	if errors.Is(err, meta.ErrNoSuchKey) || errors.Is(err, meta.ErrNoSuchVersion) || err == nil && (full.DeleteMarker || !same(full)) {
		return errLifecycleRaced
	}
	if err != nil {
		return err
	}
	current := full.IsLatest
	tier := s.tierOf(class)
	if IsArchiveAccess(accessTier) {
		tier = ArchiveTier
	}
	label := blob.Label{Bucket: full.Bucket, Key: full.Key, VersionID: full.VersionID}
	next := *full
	next.StorageClass, next.AccessTier = class, accessTier
	next.Restore = nil
	if full.Encryption != nil {
		// Ciphertext moves as it is: the server may not hold the key.
		segs, err := s.copyRaw(ctx, tier, label, full.Segments, full.Inline, full.Size)
		if errors.Is(err, blob.ErrNotFound) {
			return errLifecycleRaced
		}
		if err != nil {
			return err
		}
		next.Inline, next.Segments = nil, segs
		return s.commitMove(ctx, &next, current, same)
	}
	rc, err := s.openSegments(ctx, full.Segments, full.Inline, 0, full.Size, nil)
	if errors.Is(err, errChanged) {
		return errLifecycleRaced
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	d, err := s.receive(ctx, tier, label, rc, full.Size, MaxObjectSize, s.inlineMax, Integrity{}, nil)
	if err != nil {
		return err
	}
	next.Inline, next.Segments = d.inline, nil
	if d.blobID != "" {
		next.Segments = []meta.Segment{{BlobID: d.blobID, Size: d.size, Tier: d.tier}}
	}
	if len(full.Parts) == 0 && hex.EncodeToString(d.md5) != full.ETag {
		s.untrack(d.blobID)
		s.free(ctx, next.BlobIDs())
		return fmt.Errorf("bytes read for the transition do not match the ETag: %w", blob.ErrCorrupt)
	}
	return s.commitMove(ctx, &next, current, same)
}

// commitMove stores next, the version of a transition whose bytes now
// live on another tier, if the stored version is still the one judged
// (same) and still current or noncurrent as it was.
func (s *Service) commitMove(ctx context.Context, next *meta.Object, current bool, same func(*meta.Object) bool) error {
	// A current object's next action is scheduled in the same commit; a
	// noncurrent version's by its caller, with the key's other versions.
	next.LifecycleDue = time.Time{}
	var err error
	if current {
		err = s.scheduleLifecycle(ctx, next)
	}
	var freed []string
	if err == nil {
		freed, err = s.meta.RewriteVersion(s.events(ctx, next.Bucket, causeSystem), next, func(cur *meta.Object) error {
			if !same(cur) || cur.IsLatest != current {
				return errLifecycleRaced
			}
			return nil
		})
	}
	for _, id := range next.BlobIDs() {
		s.untrack(id)
	}
	if err != nil {
		s.free(ctx, next.BlobIDs())
		return err
	}
	s.free(ctx, freed)
	return nil
}

// LifecycleStatus is the state of the lifecycle engine, for operators.
type LifecycleStatus struct {
	// Buckets have a lifecycle configuration.
	Buckets []string
	// Due objects have an action due now that is not applied yet; the
	// oldest of them fell due at Oldest, Lateness ago.
	Due      int64
	Oldest   time.Time
	Lateness time.Duration
	// Reconciling maps the buckets whose objects are being judged again
	// to the key the walk has reached ("" at its start).
	Reconciling map[string]string
}

// LifecycleStatus reports the engine's backlog and lateness and the
// reconciliation walks under way.
func (s *Service) LifecycleStatus(ctx context.Context) (LifecycleStatus, error) {
	st := LifecycleStatus{Reconciling: map[string]string{}}
	now := s.clock.Now().UTC()
	n, oldest, err := s.meta.LifecycleBacklog(ctx, now)
	if err != nil {
		return st, err
	}
	st.Due, st.Oldest = n, oldest
	if !oldest.IsZero() {
		st.Lateness = now.Sub(oldest)
	}
	bs, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return st, err
	}
	for _, b := range bs {
		cfg, _, err := s.lifecycleFor(ctx, b.Name)
		if errors.Is(err, meta.ErrNoSuchBucket) {
			continue
		}
		if err != nil {
			return st, err
		}
		if cfg != nil {
			st.Buckets = append(st.Buckets, b.Name)
		}
		cursor, err := s.meta.GetBucketConfig(ctx, b.Name, reindexConfig)
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return st, err
		}
		if cursor != nil {
			st.Reconciling[b.Name] = string(cursor)
		}
	}
	return st, nil
}

// reindexConfig names the bucket setting that holds the position of a
// running re-evaluation of the bucket's objects (the key after which it
// continues); its presence means one is pending. It is set whenever the
// lifecycle configuration changes and by the periodic reconciliation.
const reindexConfig = "lifecycle-reindex"

// ScheduleReconcile marks bucket for a re-evaluation of every object's
// lifecycle due time, which ReconcileLifecycle then carries out in
// steps. It survives restarts.
func (s *Service) ScheduleReconcile(ctx context.Context, bucket string) error {
	return s.meta.PutBucketConfig(ctx, bucket, reindexConfig, []byte{})
}

// ScheduleReconcileAll marks every bucket that has a lifecycle
// configuration for re-evaluation: the slow walk that catches anything
// the write path missed.
func (s *Service) ScheduleReconcileAll(ctx context.Context) error {
	bs, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		cfg, _, err := s.lifecycleFor(ctx, b.Name)
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return err
		}
		if cfg == nil {
			continue
		}
		if err := s.ScheduleReconcile(ctx, b.Name); err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return err
		}
	}
	return nil
}

// ReconcileLifecycle continues the pending re-evaluations for up to limit
// objects: each gets the due time its bucket's current rules give it. It
// returns how many objects it looked at and how many it changed.
func (s *Service) ReconcileLifecycle(ctx context.Context, limit int) (seen, changed int, err error) {
	bs, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, b := range bs {
		if seen >= limit {
			break
		}
		cursor, err := s.meta.GetBucketConfig(ctx, b.Name, reindexConfig)
		if errors.Is(err, meta.ErrNoSuchBucket) {
			continue
		}
		if err != nil {
			return seen, changed, err
		}
		if cursor == nil {
			continue
		}
		cfg, opt, err := s.lifecycleFor(ctx, b.Name)
		if err != nil {
			return seen, changed, err
		}
		want := limit - seen
		objs, done, err := s.reconcileScan(ctx, b.Name, string(cursor), want)
		if err != nil {
			return seen, changed, err
		}
		var updates []meta.LifecycleUpdate
		for i := range objs {
			o := &objs[i]
			seen++
			due := nextDue(cfg, o, opt)
			if o.StorageClass == IntelligentTiering {
				if due, err = s.dueOf(ctx, o); err != nil {
					return seen, changed, err
				}
			}
			if !due.Equal(o.LifecycleDue) {
				updates = append(updates, meta.LifecycleUpdate{Bucket: o.Bucket, Key: o.Key, ETag: o.ETag, Modified: o.LastModified, Due: due})
			}
		}
		if len(updates) > 0 {
			n, err := s.meta.UpdateLifecycle(ctx, updates)
			if err != nil {
				return seen, changed, err
			}
			changed += n
		}
		if done {
			// The walk of this bucket is complete.
			if err := s.meta.DeleteBucketConfig(ctx, b.Name, reindexConfig); err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
				return seen, changed, err
			}
			continue
		}
		if err := s.meta.PutBucketConfig(ctx, b.Name, reindexConfig, []byte(objs[len(objs)-1].Key)); err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return seen, changed, err
		}
	}
	return seen, changed, nil
}

// reconcileScan returns the next up to limit current objects of a
// reconciliation walk after key cursor. In a versioned bucket it walks
// versions instead and schedules the noncurrent versions and delete
// markers of every key it passes (whole keys, even past limit); the
// objects it returns are the current ones among them. done reports that
// the walk reached the bucket's end.
func (s *Service) reconcileScan(ctx context.Context, bucket, cursor string, limit int) (objs []meta.Object, done bool, err error) {
	st, err := s.BucketVersioning(ctx, bucket)
	if err != nil {
		return nil, false, err
	}
	if st == "" {
		objs, err := s.meta.ScanObjects(ctx, bucket, "", cursor, limit)
		return objs, len(objs) < limit, err
	}
	vs, err := s.meta.ScanVersions(ctx, bucket, "", cursor, "", limit)
	if err != nil {
		return nil, false, err
	}
	var cur []meta.Object
	last := ""
	for _, v := range vs {
		if v.IsLatest && !v.DeleteMarker {
			cur = append(cur, v)
		}
		if v.Key != last {
			last = v.Key
			if err := s.scheduleVersions(ctx, bucket, v.Key); err != nil {
				return nil, false, err
			}
		}
	}
	if len(vs) == limit && (len(cur) == 0 || cur[len(cur)-1].Key != last) {
		// Keep the walk's cursor moving past keys without a current
		// object: stand the last key in as a placeholder entry.
		cur = append(cur, meta.Object{Bucket: bucket, Key: last})
	}
	return cur, len(vs) < limit, nil
}

// AbortExpiredUploads aborts the multipart uploads that an
// AbortIncompleteMultipartUpload rule has made due, and returns how many
// it aborted. Uploads are few and short-lived, so it looks at all of
// them, in the buckets that have such a rule.
func (s *Service) AbortExpiredUploads(ctx context.Context) (int, error) {
	now := s.clock.Now().UTC()
	bs, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return 0, err
	}
	aborted := 0
	for _, b := range bs {
		cfg, opt, err := s.lifecycleFor(ctx, b.Name)
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return aborted, err
		}
		if cfg == nil || !hasAbortRule(cfg) {
			continue
		}
		afterKey, afterID := "", ""
		for {
			ups, err := s.meta.ScanUploads(ctx, b.Name, "", afterKey, afterID, 1000)
			if err != nil {
				return aborted, err
			}
			for _, u := range ups {
				due, rule, ok := cfg.AbortDue(u.Key, u.Initiated, opt)
				if !ok || due.After(now) {
					continue
				}
				freed, err := s.meta.AbortUpload(ctx, u.Bucket, u.Key, u.ID)
				if errors.Is(err, meta.ErrNoSuchUpload) {
					continue // completed or aborted meanwhile
				}
				if err != nil {
					return aborted, err
				}
				s.free(ctx, freed)
				aborted++
				s.record(audit.PrincipalLifecycle, "s3:AbortMultipartUpload", &meta.Object{Bucket: u.Bucket, Key: u.Key},
					map[string]string{"rule": rule, "upload_id": u.ID})
				s.log.Debug("lifecycle aborted an incomplete upload", "bucket", u.Bucket, "key", u.Key, "upload", u.ID, "rule", rule)
			}
			if len(ups) < 1000 {
				break
			}
			afterKey, afterID = ups[len(ups)-1].Key, ups[len(ups)-1].ID
		}
	}
	return aborted, nil
}

// AbortDateFor reports when an AbortIncompleteMultipartUpload rule will
// abort upload u, and which rule: S3's x-amz-abort-date and
// x-amz-abort-rule-id.
func (s *Service) AbortDateFor(ctx context.Context, u meta.Upload) (time.Time, string, bool) {
	cfg, opt, err := s.lifecycleFor(ctx, u.Bucket)
	if err != nil || cfg == nil {
		return time.Time{}, "", false
	}
	return cfg.AbortDue(u.Key, u.Initiated, opt)
}

func hasAbortRule(cfg *lifecycle.Configuration) bool {
	for i := range cfg.Rules {
		if cfg.Rules[i].Enabled() && cfg.Rules[i].AbortIncompleteMultipartUpload != nil {
			return true
		}
	}
	return false
}

// expire applies an Expiration action to the current object o: it is
// deleted, or in a versioned bucket hidden under a delete marker (null
// while versioning is suspended, which replaces a null o), as S3 does.
// deleted is nil when o is no longer current.
func (s *Service) expire(ctx context.Context, o *meta.Object) (deleted *meta.Object, freed []string, err error) {
	st, err := s.BucketVersioning(ctx, o.Bucket)
	if err != nil {
		return nil, nil, err
	}
	if st == "" {
		return s.meta.ExpireObject(s.events(ctx, o.Bucket, causeSystem), o.Bucket, o.Key, o.ETag, o.LastModified)
	}
	stale := false
	freed, err = s.meta.PutObject(s.events(ctx, o.Bucket, causeSystem), s.deleteMarker(o.Bucket, o.Key, st), func(cur *meta.Object) error {
		if cur == nil || cur.ETag != o.ETag || !cur.LastModified.Equal(o.LastModified) {
			stale = true
			return errLifecycleRaced
		}
		return nil
	})
	if stale {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	s.versionsChanged(ctx, o.Bucket, o.Key)
	return o, freed, nil
}
