package object

import (
	"context"
	"time"

	"github.com/firnhq/firn/internal/blob"
)

// CollectGarbage removes blob bytes that no metadata references: leftovers
// of writes that never committed (a crash, a dropped connection) and
// blobs whose deletion was interrupted. Only blobs committed more than
// grace ago are considered, and never one whose write is still in flight
// in this process; at start-up, before serving, grace may be 0. It
// returns how many blobs it removed.
func (s *Service) CollectGarbage(ctx context.Context, grace time.Duration) (int, error) {
	n := 0
	for _, st := range s.stores() {
		k, err := s.collect(ctx, st, grace)
		n += k
		if err != nil {
			return n, err
		}
	}
	if n > 0 {
		s.log.Info("removed orphan blobs", "count", n)
	}
	return n, nil
}

func (s *Service) collect(ctx context.Context, st blob.Store, grace time.Duration) (int, error) {
	if err := st.Sweep(ctx, grace); err != nil {
		return 0, err
	}
	cutoff := s.clock.Now().Add(-grace)
	var orphans []string
	err := st.Walk(ctx, func(id string, committed time.Time) error {
		if grace > 0 && committed.After(cutoff) {
			return nil
		}
		if s.isInflight(id) {
			return nil
		}
		ref, err := s.meta.BlobReferenced(ctx, id)
		if err != nil {
			return err
		}
		if !ref {
			orphans = append(orphans, id)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range orphans {
		// Re-check: a write may have committed since the walk saw it.
		if s.isInflight(id) {
			continue
		}
		if ref, err := s.meta.BlobReferenced(ctx, id); err != nil || ref {
			continue
		}
		if err := st.Delete(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
