package object

import (
	"context"
	"time"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/retrieval"
)

// policySetting names the data retrieval policy in the metadata store.
const policySetting = "retrieval-policy"

// retrievedCounter names the per-day, per-tier counter of restored bytes.
const retrievedCounter = "retrieved-bytes"

// RetrievalStore returns the retrieval.Store over this service's metadata:
// the data retrieval policy and the meter of restored bytes.
func (s *Service) RetrievalStore() retrieval.Store { return retrievalStore{s.meta} }

type retrievalStore struct{ m meta.Store }

func (r retrievalStore) AddRetrieved(ctx context.Context, day int64, tier string, bytes int64) error {
	return r.m.AddCounter(ctx, retrievedCounter, day, tier, bytes)
}

func (r retrievalStore) Retrieved(ctx context.Context, fromDay, toDay int64) ([]retrieval.DayTier, error) {
	if fromDay > toDay {
		return nil, nil
	}
	cs, err := r.m.Counters(ctx, retrievedCounter, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	var out []retrieval.DayTier
	for _, c := range cs {
		out = append(out, retrieval.DayTier{Day: c.Day, Tier: c.Key, Bytes: c.N})
	}
	return out, nil
}

func (r retrievalStore) GetPolicy(ctx context.Context) (retrieval.Policy, error) {
	b, err := r.m.GetSetting(ctx, policySetting)
	if err != nil || b == nil {
		return retrieval.Policy{}, err
	}
	return retrieval.Parse(b)
}

func (r retrievalStore) PutPolicy(ctx context.Context, p retrieval.Policy) error {
	b, err := p.MarshalJSON()
	if err != nil {
		return err
	}
	return r.m.PutSetting(ctx, policySetting, b)
}

// admit judges a new restore job against the data retrieval policy,
// inside the restore's transaction so that concurrent requests are
// judged one after another. Only Standard restores are subject to it.
func (s *Service) admit(p retrieval.Policy, now time.Time, j *meta.RestoreJob, jobs meta.JobReader) error {
	if p.Strategy == retrieval.None || j.Tier != TierStandard {
		return nil
	}
	cfg := retrieval.Config{DayLength: s.clock.DayLength(), FreeTierMonthlyBytes: s.freeTierBytes}
	// Jobs that can still matter: started within the longest Standard
	// window, or today.
	from := now.Add(-s.maxStandardWindow())
	if dayStart := retrieval.DayStart(retrieval.Day(now, cfg.DayLength), cfg.DayLength); dayStart.Before(from) {
		from = dayStart
	}
	prior, err := jobs.JobsSince(TierStandard, from)
	if err != nil {
		return err
	}
	accepted := make([]retrieval.Job, 0, len(prior))
	for _, pj := range prior {
		accepted = append(accepted, retrievalJob(pj))
	}
	return p.Admit(now, retrievalJob(*j), accepted, cfg)
}

// retrievalJob describes a restore job to the policy: it retrieves its
// bytes over [Requested, Due), or the policy's default Standard window
// when the restore is instant.
func retrievalJob(j meta.RestoreJob) retrieval.Job {
	return retrieval.Job{Tier: j.Tier, Bytes: j.Bytes, Start: j.Requested, Duration: j.Due.Sub(j.Requested)}
}

// maxStandardWindow is the longest window a Standard job occupies.
func (s *Service) maxStandardWindow() time.Duration {
	w := retrieval.Config{DayLength: s.clock.DayLength()}.StandardDuration()
	for _, class := range []string{Glacier, DeepArchive} {
		w = max(w, s.latency(class, TierStandard))
	}
	return w
}
