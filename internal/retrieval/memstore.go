package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemStore is a Store in memory, for tests and single-process demos. Its
// zero value is an empty store with policy None.
type MemStore struct {
	mu     sync.Mutex // guards policy and counts
	policy Policy
	counts map[dayTierKey]int64
}

type dayTierKey struct {
	day  int64
	tier string
}

// AddRetrieved implements Store.
func (s *MemStore) AddRetrieved(ctx context.Context, day int64, tier string, bytes int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if bytes < 0 {
		return fmt.Errorf("retrieval: negative byte count %d", bytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = make(map[dayTierKey]int64)
	}
	k := dayTierKey{day, tier}
	s.counts[k] = addSat(s.counts[k], bytes)
	return nil
}

// Retrieved implements Store.
func (s *MemStore) Retrieved(ctx context.Context, fromDay, toDay int64) ([]DayTier, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var out []DayTier
	for k, n := range s.counts {
		if k.day >= fromDay && k.day <= toDay {
			out = append(out, DayTier{Day: k.day, Tier: k.tier, Bytes: n})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b DayTier) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Tier, b.Tier))
	})
	return out, nil
}

// GetPolicy implements Store.
func (s *MemStore) GetPolicy(ctx context.Context) (Policy, error) {
	if err := ctx.Err(); err != nil {
		return Policy{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy, nil
}

// PutPolicy implements Store. It refuses an invalid policy.
func (s *MemStore) PutPolicy(ctx context.Context, p Policy) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy = p
	return nil
}
