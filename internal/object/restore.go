package object

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/sse"
)

// Restore tiers, as S3 spells them.
const (
	TierExpedited = "Expedited"
	TierStandard  = "Standard"
	TierBulk      = "Bulk"
)

// tierRank orders tiers from fastest to slowest; it is also the job
// priority.
var tierRank = map[string]int{TierExpedited: 0, TierStandard: 1, TierBulk: 2}

// RestoreConfig sets how long restores take. Latencies are in model
// days, so they scale with --day-length; 0 means "as fast as the media
// allows".
type RestoreConfig struct {
	// Latency per source class and tier, in model days. Missing entries
	// take DefaultRestoreLatency's.
	Latency map[string]map[string]float64
	// Gather batches restores: due jobs are claimed only once one of
	// them has been due for Gather times its own restore time, and then
	// all together, so jobs falling due close together (a bulk restore)
	// read their packs in one pass. A job thus completes between its due
	// time and Gather of its latency later, never early. 0: every due
	// job is claimed at once.
	Gather float64
}

// DefaultRestoreGather is the server's default RestoreConfig.Gather: it
// keeps every default latency inside AWS's published window.
const DefaultRestoreGather = 0.05

// DefaultRestoreLatency is close to AWS's published restore times:
// GLACIER Expedited 1–5 minutes, Standard 3–5 hours, Bulk 5–12 hours;
// DEEP_ARCHIVE Standard within 12 hours, Bulk within 48 hours (11 and
// 45 hours here, so that with DefaultRestoreGather they finish inside).
func DefaultRestoreLatency() map[string]map[string]float64 {
	const minute, hour = 1.0 / (24 * 60), 1.0 / 24
	return map[string]map[string]float64{
		Glacier:     {TierExpedited: 3 * minute, TierStandard: 4 * hour, TierBulk: 8 * hour},
		DeepArchive: {TierStandard: 11 * hour, TierBulk: 45 * hour},
	}
}

func (c RestoreConfig) withDefaults() RestoreConfig {
	out := RestoreConfig{Latency: DefaultRestoreLatency(), Gather: c.Gather}
	for class, tiers := range c.Latency {
		for tier, d := range tiers {
			if out.Latency[class] == nil {
				out.Latency[class] = map[string]float64{}
			}
			out.Latency[class][tier] = d
		}
	}
	return out
}

// latency returns the wall-clock duration of a restore.
func (s *Service) latency(class, tier string) time.Duration {
	days := s.restoreCfg.Latency[class][tier]
	return time.Duration(days * float64(s.clock.DayLength()))
}

// Errors of RestoreObject beside ArchivedError and meta's.
var (
	// ErrRestoreNotAllowed: the object's class needs no restore.
	ErrRestoreNotAllowed = errors.New("restore is not allowed for the object's current storage class")
	// ErrActiveTier: an Intelligent-Tiering object outside the archive
	// access tiers.
	ErrActiveTier = errors.New("object is already in an active tier")
	// ErrRestoreInProgress: a restore of the object is running and the
	// request does not speed it up.
	ErrRestoreInProgress = errors.New("object restore is already in progress")
)

// RestoreRequest is a RestoreObject request.
type RestoreRequest struct {
	Bucket, Key, VersionID string
	// Days is the lifetime of the restored copy, ≥ 1. NoDays: the
	// request named none, as a restore from an Intelligent-Tiering
	// archive tier must (and any other must not).
	Days   int
	NoDays bool
	Tier   string // "" is Standard
}

// ErrRestoreDaysRequired: a restore of an archive class named no Days.
var ErrRestoreDaysRequired = errors.New("restore request names no Days")

// RestoreOutcome says what a RestoreObject request did.
type RestoreOutcome int

const (
	RestoreStarted  RestoreOutcome = iota // a new job (S3: 202)
	RestoreUpgraded                       // a running job sped up (202)
	RestoreExtended                       // the existing copy lives longer (200)
)

// NextMidnight rounds t up to the next model-day boundary: with 24-hour
// days that is the next 00:00 UTC, as S3 rounds restore expiry and
// lifecycle dates; an exact boundary also moves to the next one.
func NextMidnight(t time.Time, day time.Duration) time.Time {
	n := t.UnixNano()
	d := int64(day)
	return time.Unix(0, (n/d+1)*d).UTC()
}

// restoreExpiry is when a copy restored (or extended) at base for days
// expires.
func (s *Service) restoreExpiry(base time.Time, days int) time.Time {
	day := s.clock.DayLength()
	return NextMidnight(base.Add(time.Duration(days)*day), day)
}

func newJobID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RestoreObject asks for an archived object's bytes: it starts an
// asynchronous restore job, speeds up a running one when a faster tier is
// asked for, or extends the life of an existing restored copy.
func (s *Service) RestoreObject(ctx context.Context, req RestoreRequest) (RestoreOutcome, error) {
	if req.VersionID != "" {
		if err := CheckVersionID(req.VersionID); err != nil {
			return 0, err
		}
	}
	tier := req.Tier
	if tier == "" {
		tier = TierStandard
	}
	if _, ok := tierRank[tier]; !ok {
		return 0, &InvalidArgumentError{Name: "Tier", Value: tier, Msg: "Invalid Tier: " + tier}
	}
	policy, err := s.RetrievalStore().GetPolicy(ctx)
	if err != nil {
		return 0, err
	}
	outcome, err := s.restoreObject(ctx, req, tier, policy)
	for range expireTries {
		if !errors.Is(err, errCopyExpired) {
			return outcome, err
		}
		// The restored copy's time is up but the sweep has not dropped it
		// yet. It is gone (GET and HEAD say so): sweep a batch of overdue
		// copies, oldest first, as the worker would, then start afresh.
		if _, err := s.ExpireRestores(ctx, expireBatch); err != nil {
			return 0, err
		}
		outcome, err = s.restoreObject(ctx, req, tier, policy)
	}
	if errors.Is(err, errCopyExpired) {
		return 0, ErrSlowDown // the sweep is far behind: the client retries
	}
	return outcome, err
}

// errCopyExpired: a restore request found the object's restored copy
// past its expiry, not yet dropped.
var errCopyExpired = errors.New("restored copy expired")

// ErrSlowDown: the server is behind on work a request depends on; the
// client should retry later (S3's 503 SlowDown).
var ErrSlowDown = errors.New("please reduce your request rate")

// A restore request that finds its object's copy overdue sweeps at most
// expireTries batches of expireBatch overdue copies itself.
const (
	expireBatch = 1000
	expireTries = 3
)

// restoreObject decides a restore request in one metadata transaction.
func (s *Service) restoreObject(ctx context.Context, req RestoreRequest, tier string, policy retrieval.Policy) (RestoreOutcome, error) {
	var outcome RestoreOutcome
	now := s.clock.Now().UTC()
	err := s.meta.StartRestore(s.events(ctx, req.Bucket, causeRestore), req.Bucket, req.Key, req.VersionID, func(o *meta.Object, active *meta.RestoreJob, jobs meta.JobReader) (*meta.RestoreJob, error) {
		// An Intelligent-Tiering object in an archive tier restores for
		// good (no Days), at GLACIER's or DEEP_ARCHIVE's pace.
		itArchive := o.StorageClass == IntelligentTiering && IsArchiveAccess(o.AccessTier)
		class := o.StorageClass
		switch {
		case itArchive && o.AccessTier == AccessArchive:
			class = Glacier
		case itArchive:
			class = DeepArchive
		case o.StorageClass == IntelligentTiering:
			return nil, ErrActiveTier
		case !RestoreRequired(o.StorageClass):
			return nil, ErrRestoreNotAllowed
		}
		switch {
		case itArchive && !req.NoDays:
			// S3's answer (400 InvalidArgument), with its message.
			return nil, &InvalidArgumentError{Name: "Days", Value: fmt.Sprint(req.Days),
				Msg: "INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify Days when restoring this object"}
		case !itArchive && req.NoDays:
			return nil, ErrRestoreDaysRequired
		case !itArchive && req.Days < 1:
			return nil, &InvalidArgumentError{Name: "Days", Value: fmt.Sprint(req.Days), Msg: "Days must be a positive integer"}
		}
		if tier == TierExpedited && class == DeepArchive {
			msg := "Expedited retrievals are not available for the DEEP_ARCHIVE storage class"
			if itArchive {
				msg = "Expedited retrievals are not available for the DEEP_ARCHIVE_ACCESS tier"
			}
			return nil, &InvalidArgumentError{Name: "Tier", Value: tier, Msg: msg}
		}
		if active != nil && active.State == meta.RestorePending {
			// Only a faster tier with the same Days changes a running job.
			if tierRank[tier] >= tierRank[active.Tier] || req.Days != active.Days {
				return nil, ErrRestoreInProgress
			}
			j := *active
			j.Tier, j.Priority = tier, tierRank[tier]
			if due := now.Add(s.latency(class, tier)); due.Before(j.Due) {
				// The job now runs at the faster tier from now: its
				// restore time (what Gather and the policy count) is
				// that tier's, not the time already spent waiting.
				j.Due, j.Requested = due, now
			}
			if tier == TierStandard && !itArchive {
				probe := j
				probe.Requested = now
				if err := s.admit(policy, now, &probe, jobs); err != nil {
					return nil, err
				}
			}
			if o.Restore != nil {
				o.Restore.Tier = tier
			}
			outcome = RestoreUpgraded
			return &j, nil
		}
		if active != nil && active.State == meta.RestoreDone && copyExpired(o.Restore, now) {
			return nil, errCopyExpired
		}
		if active != nil && active.State == meta.RestoreDone && o.Restore != nil && !o.Restore.Ongoing {
			// A copy exists: move its expiry relative to now.
			j := *active
			j.Expiry = s.restoreExpiry(now, req.Days)
			j.Days = req.Days
			o.Restore.Expiry, o.Restore.Days = j.Expiry, req.Days
			outcome = RestoreExtended
			return &j, nil
		}
		j := &meta.RestoreJob{
			ID: newJobID(), Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID,
			ObjectETag: o.ETag, ObjectModified: o.LastModified, StorageClass: o.StorageClass,
			Tier: tier, Priority: tierRank[tier], Days: req.Days, Bytes: o.Size,
			Requested: now, Due: now.Add(s.latency(class, tier)), State: meta.RestorePending,
		}
		if !itArchive {
			// The Glacier data retrieval policy caps archive classes, not
			// Intelligent-Tiering's free archive retrievals.
			if err := s.admit(policy, now, j, jobs); err != nil {
				return nil, err
			}
		}
		restore := &meta.Restore{Ongoing: true, Tier: tier, Days: req.Days, Requested: now}
		if o.Restore != nil {
			restore.Copy = o.Restore.Copy // a stale copy is replaced on completion
		}
		o.Restore = restore
		outcome = RestoreStarted
		return j, nil
	})
	return outcome, err
}

// RunRestores completes up to limit due restore jobs as worker owner:
// each archived object's bytes are read from its tier and copied to the
// hot store, then the job is completed (and its bytes metered) in one
// metadata commit. Jobs whose objects share an archive pack are read
// together, in the pack's order, so each pack is read once. A crash at
// any point leaves the job pending (its lease runs out and it is claimed
// again) and at worst an orphaned copy for the collector, so every job
// completes exactly once. A job whose bytes are damaged beyond repair
// fails (and is reported); one whose remote tier must first restore the
// bytes asks the remote and is tried again when its lease runs out. It
// returns how many jobs it finished.
func (s *Service) RunRestores(ctx context.Context, owner string, lease time.Duration, limit int) (int, error) {
	now := s.clock.Now().UTC()
	if g := s.restoreCfg.Gather; g > 0 {
		ready, err := s.meta.RestoreGathered(ctx, now, g)
		if err != nil || !ready {
			return 0, err
		}
	}
	jobs, err := s.meta.ClaimRestores(ctx, now, owner, lease, limit)
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	var mu sync.Mutex // guards done and errs: completions commit concurrently
	count := func(j meta.RestoreJob, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			done++
		case errors.Is(err, meta.ErrLeaseLost), errors.Is(err, errLater), errors.Is(err, errJobFailed):
		default:
			errs = append(errs, fmt.Errorf("restore %s/%s: %w", j.Bucket, j.Key, err))
		}
	}
	// Jobs whose object is one blob of a store that reads in batches go
	// through ReadBatch; the others one by one.
	batches := map[string][]restoreRun{}
	for _, j := range jobs {
		o, err := s.meta.GetVersion(ctx, j.Bucket, j.Key, j.VersionID)
		if err != nil && !errors.Is(err, meta.ErrNoSuchKey) && !errors.Is(err, meta.ErrNoSuchVersion) {
			count(j, err)
			continue
		}
		if o == nil || o.DeleteMarker || o.ETag != j.ObjectETag || !o.LastModified.Equal(j.ObjectModified) || len(o.Segments) == 0 {
			// The object went away or changed (the job is cancelled), or
			// its bytes are in its record (an archive class kept on the
			// hot tier: the copy is those bytes), or it is empty.
			inline := []byte{}
			if o != nil && len(o.Segments) == 0 && o.Inline != nil {
				inline = bytes.Clone(o.Inline)
			}
			count(j, s.finishRestore(ctx, owner, j, nil, inline))
			continue
		}
		if len(o.Segments) == 1 {
			if _, ok := s.storeOf(o.Segments[0].Tier).(blob.BatchReader); ok {
				batches[o.Segments[0].Tier] = append(batches[o.Segments[0].Tier], restoreRun{j, o})
				continue
			}
		}
		count(j, s.restoreOne(ctx, owner, j, o))
	}
	for tier, runs := range batches {
		byID := make(map[string]restoreRun, len(runs))
		ids := make([]string, 0, len(runs))
		for _, r := range runs {
			id := r.o.Segments[0].BlobID
			if _, dup := byID[id]; dup {
				continue // one job per object version is active at a time
			}
			byID[id] = r
			ids = append(ids, id)
		}
		// The pack is read in order, one object after the other; the
		// completions commit concurrently, so the metadata store groups
		// them into few commits.
		var wg sync.WaitGroup
		sem := make(chan struct{}, restoreCommitters)
		s.pin(ids)
		err := s.storeOf(tier).(blob.BatchReader).ReadBatch(ctx, ids, func(id string, rd io.Reader) error {
			r := byID[id]
			delete(byID, id)
			if r.o.Size > restoreAheadMin {
				ra := newReadAhead(rd, restoreAheadChunk, 4)
				defer ra.Close()
				rd = ra
			}
			copy, inline, err := s.copyOut(ctx, owner, r.j, r.o, rd)
			if err != nil {
				count(r.j, err)
				return ctx.Err()
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				count(r.j, s.finishRestore(ctx, owner, r.j, copy, inline))
			})
			return ctx.Err()
		})
		wg.Wait()
		s.unpin(ids)
		if err != nil {
			for _, r := range byID {
				count(r.j, err)
			}
		}
	}
	return done, errors.Join(errs...)
}

// Restores of objects over restoreAheadMin read the archive a few
// chunks ahead of the copy they write (see readAhead).
const (
	restoreAheadMin   = 4 << 20
	restoreAheadChunk = 1 << 20
)

// restoreRun is a claimed job with the object it restores.
type restoreRun struct {
	j meta.RestoreJob
	o *meta.Object
}

// errJobFailed: the job failed for good (and was recorded so).
var errJobFailed = errors.New("restore job failed")

// errLater: the job is left for a later claim, when its lease has run
// out (a remote tier is restoring its bytes, or its object changed and
// the next claim cancels it).
var errLater = errors.New("restore job left for a later claim")

// restoreOne restores the object of job j by reading its segments.
func (s *Service) restoreOne(ctx context.Context, owner string, j meta.RestoreJob, o *meta.Object) error {
	if o.Encryption != nil {
		// The ciphertext is copied as it is, stream by stream.
		copy, err := s.copyRaw(ctx, "", blob.Label{}, o.Segments, nil, o.Size)
		if errors.Is(err, blob.ErrNotFound) {
			return errLater
		}
		if err != nil {
			return s.restoreFailed(ctx, owner, j, o, err)
		}
		return s.finishRestore(ctx, owner, j, copy, nil)
	}
	rc, err := s.openSegments(ctx, o.Segments, nil, 0, o.Size, nil)
	if errors.Is(err, errChanged) {
		return errLater // the object changed under us; the next claim cancels the job
	}
	if err != nil {
		return s.restoreFailed(ctx, owner, j, o, err)
	}
	defer rc.Close()
	copy, inline, err := s.copyOut(ctx, owner, j, o, rc)
	if err != nil {
		return err
	}
	return s.finishRestore(ctx, owner, j, copy, inline)
}

// restoreCommitters bounds the completions of one batch that commit at
// once.
const restoreCommitters = 16

// copyOut copies the archived bytes of o from r to the hot store: a blob,
// or inline bytes for a small object. A failure is handled (see
// restoreFailed) and returned.
func (s *Service) copyOut(ctx context.Context, owner string, j meta.RestoreJob, o *meta.Object, r io.Reader) ([]meta.Segment, []byte, error) {
	if o.Encryption != nil {
		// One encrypted stream (a batch reads single-blob objects):
		// copied as ciphertext, checked when it is decrypted.
		n := sse.EncryptedSize(o.Size)
		d, err := s.receive(ctx, "", blob.Label{}, r, n, MaxObjectSize+1<<30, -1, Integrity{}, nil)
		if err != nil {
			return nil, nil, s.restoreFailed(ctx, owner, j, o, err)
		}
		return []meta.Segment{{BlobID: d.blobID, Size: o.Size, Part: o.Segments[0].Part}}, nil, nil
	}
	// A small copy lives in the metadata record, as a small hot object
	// does: no file, no fsyncs of its own.
	d, err := s.receive(ctx, "", blob.Label{}, r, o.Size, MaxObjectSize, s.inlineMax, Integrity{}, nil)
	if err != nil {
		return nil, nil, s.restoreFailed(ctx, owner, j, o, err)
	}
	if len(o.Parts) == 0 && hex.EncodeToString(d.md5) != o.ETag {
		if d.blobID != "" {
			s.untrack(d.blobID)
			s.free(ctx, []string{d.blobID})
		}
		return nil, nil, s.restoreFailed(ctx, owner, j, o, fmt.Errorf("archived bytes do not match the object's ETag: %w", blob.ErrCorrupt))
	}
	if d.blobID == "" {
		if d.inline == nil {
			d.inline = []byte{}
		}
		return nil, d.inline, nil
	}
	return []meta.Segment{{BlobID: d.blobID, Size: d.size}}, nil, nil
}

// finishRestore completes job j with its copy (blob segments, or inline
// bytes); if the object went away meanwhile the job is cancelled. The
// bytes read are metered in the same commit.
func (s *Service) finishRestore(ctx context.Context, owner string, j meta.RestoreJob, copy []meta.Segment, inline []byte) error {
	completed := s.clock.Now().UTC()
	c := meta.RestoreCompletion{
		Copy: copy, Inline: inline, Completed: completed, Expiry: s.restoreExpiry(completed, j.Days),
		Meter: meta.CounterAdd{Name: retrievedCounter, Day: retrieval.Day(completed, s.clock.DayLength()), Key: j.Tier, N: j.Bytes},
	}
	if j.StorageClass == IntelligentTiering {
		// Back to Frequent Access for good, its idle clock restarted.
		c.Replace, c.Expiry = true, time.Time{}
		if o, err := s.meta.GetVersion(ctx, j.Bucket, j.Key, j.VersionID); err == nil {
			next := *o
			next.AccessTier, next.LastAccess, next.Restore = "", completed, nil
			if c.Due, err = s.dueOf(ctx, &next); err != nil {
				return err
			}
		}
	}
	freed, err := s.meta.CompleteRestore(s.events(ctx, j.Bucket, evRestoreDone), j.ID, owner, c)
	for _, sg := range copy {
		s.untrack(sg.BlobID)
	}
	if err != nil {
		s.free(ctx, meta.SegmentIDs(copy))
		return err
	}
	s.free(ctx, freed)
	s.log.Debug("restore job done", "job", j.ID, "bucket", j.Bucket, "key", j.Key, "tier", j.Tier)
	s.record(audit.PrincipalRestore, "s3:ObjectRestore:Completed", &meta.Object{Bucket: j.Bucket, Key: j.Key, VersionID: j.VersionID},
		map[string]string{"tier": j.Tier, "job": j.ID, "days": strconv.Itoa(j.Days)})
	return nil
}

// restoreFailed handles a failed read of job j's bytes: damage beyond
// repair fails the job for good, a remote tier that must restore first
// is asked to, and anything else is returned so the job is tried again.
func (s *Service) restoreFailed(ctx context.Context, owner string, j meta.RestoreJob, o *meta.Object, err error) error {
	if errors.Is(err, blob.ErrNotFound) {
		// Freed meanwhile because the object changed (the next claim
		// cancels the job), or lost if it did not.
		cur, gerr := s.meta.GetVersion(ctx, j.Bucket, j.Key, j.VersionID)
		if gerr != nil && !errors.Is(gerr, meta.ErrNoSuchKey) && !errors.Is(gerr, meta.ErrNoSuchVersion) {
			return gerr
		}
		if cur == nil || cur.ETag != o.ETag || !cur.LastModified.Equal(o.LastModified) {
			return errLater
		}
		err = fmt.Errorf("archived bytes missing: %w (%w)", blob.ErrCorrupt, err)
	}
	switch {
	case errors.Is(err, blob.ErrCorrupt):
		s.log.Error("restore failed: archived bytes damaged beyond repair", "job", j.ID, "bucket", j.Bucket, "key", j.Key, "err", err)
		freed, ferr := s.meta.FailRestore(ctx, j.ID, owner, err.Error(), s.clock.Now().UTC())
		if ferr != nil {
			return ferr
		}
		s.free(ctx, freed)
		return errJobFailed
	case errors.Is(err, blob.ErrNeedsRestore):
		for _, sg := range o.Segments {
			rs, ok := s.storeOf(sg.Tier).(blob.Restorer)
			if !ok {
				return err
			}
			if rerr := rs.Restore(ctx, sg.BlobID, 1, j.Tier); rerr != nil {
				return rerr
			}
		}
		s.log.Info("restore waits for the remote tier", "job", j.ID, "bucket", j.Bucket, "key", j.Key)
		return errLater
	}
	return err
}

// ExpireRestores drops restored copies whose time is up and returns how
// many it dropped.
func (s *Service) ExpireRestores(ctx context.Context, limit int) (int, error) {
	freed, expired, err := s.meta.ExpireRestores(s.events(ctx, "", evRestoreGone), s.clock.Now().UTC(), limit)
	if err != nil {
		return 0, err
	}
	s.free(ctx, freed)
	for _, j := range expired {
		s.record(audit.PrincipalRestore, "s3:ObjectRestore:Delete", &meta.Object{Bucket: j.Bucket, Key: j.Key, VersionID: j.VersionID},
			map[string]string{"job": j.ID})
	}
	return len(expired), nil
}

// ListRestores returns restore jobs for the admin view.
func (s *Service) ListRestores(ctx context.Context, state string, limit int) ([]meta.RestoreJob, error) {
	return s.meta.ListRestores(ctx, state, limit)
}

// RestoreTotals counts the restore jobs by state and tier, for the
// admin view of their progress.
func (s *Service) RestoreTotals(ctx context.Context) ([]meta.RestoreTotal, error) {
	return s.meta.RestoreTotals(ctx)
}

// ParseRestoreLatency reads restore latencies written as
// "[CLASS.]Tier=duration,..." where each duration is model time (a
// 24h-day's worth of hours, scaled by --day-length): "Standard=4h" sets
// GLACIER and DEEP_ARCHIVE Standard restores to four model hours,
// "DEEP_ARCHIVE.Bulk=48h" one class only, "0s" as fast as the media
// allows.
func ParseRestoreLatency(s string) (RestoreConfig, error) {
	c := RestoreConfig{Latency: map[string]map[string]float64{}}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return c, fmt.Errorf("restore latency %q: want [CLASS.]Tier=duration", item)
		}
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if err != nil || d < 0 {
			return c, fmt.Errorf("restore latency %q: bad duration", item)
		}
		classes := []string{Glacier, DeepArchive}
		tier := strings.TrimSpace(name)
		if cl, t, ok := strings.Cut(tier, "."); ok {
			if !RestoreRequired(cl) {
				return c, fmt.Errorf("restore latency %q: class must be GLACIER or DEEP_ARCHIVE", item)
			}
			classes, tier = []string{cl}, t
		}
		if _, ok := tierRank[tier]; !ok {
			return c, fmt.Errorf("restore latency %q: tier must be Expedited, Standard or Bulk", item)
		}
		for _, cl := range classes {
			if c.Latency[cl] == nil {
				c.Latency[cl] = map[string]float64{}
			}
			c.Latency[cl][tier] = float64(d) / float64(24*time.Hour)
		}
	}
	return c, nil
}
