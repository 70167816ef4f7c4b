package object

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/firnhq/firn/internal/lifecycle/tiering"
)

// Errors of the Intelligent-Tiering configuration calls.
var (
	// ErrNoSuchTieringConfiguration: the bucket has no
	// Intelligent-Tiering configuration with that id.
	ErrNoSuchTieringConfiguration = errors.New("no such intelligent-tiering configuration")
	// ErrTooManyTieringConfigurations: a new configuration for a bucket
	// that already holds tiering.MaxConfigurations.
	ErrTooManyTieringConfigurations = errors.New("too many intelligent-tiering configurations")
)

// tieringConfigName is the bucket configuration (meta.BucketConfigStore)
// holding all of a bucket's Intelligent-Tiering configurations: a JSON
// array of tiering.Configuration sorted by ID.
const tieringConfigName = "intelligent-tiering"

// PutIntelligentTiering adds or replaces bucket's Intelligent-Tiering
// configuration id with body, an IntelligentTieringConfiguration document
// checked as S3 checks it. A refused document is a *tiering.Error; a new
// id beyond tiering.MaxConfigurations is ErrTooManyTieringConfigurations;
// either changes nothing. meta.ErrNoSuchBucket.
func (s *Service) PutIntelligentTiering(ctx context.Context, bucket, id string, body []byte) error {
	c, err := tiering.Parse(id, body)
	if err != nil {
		return err
	}
	return s.changeTiering(ctx, bucket, func(all []tiering.Configuration) ([]tiering.Configuration, error) {
		i, found := findTiering(all, id)
		if found {
			all[i] = *c
			return all, nil
		}
		if len(all) >= tiering.MaxConfigurations {
			return nil, wrap(ErrTooManyTieringConfigurations, "bucket %q", bucket)
		}
		return slices.Insert(all, i, *c), nil
	})
}

// GetIntelligentTiering returns bucket's Intelligent-Tiering
// configuration id. It is shared: callers must not change it.
// ErrNoSuchTieringConfiguration, meta.ErrNoSuchBucket.
func (s *Service) GetIntelligentTiering(ctx context.Context, bucket, id string) (*tiering.Configuration, error) {
	all, err := s.IntelligentTieringFor(ctx, bucket)
	if err != nil {
		return nil, err
	}
	i, found := findTiering(all, id)
	if !found {
		return nil, wrap(ErrNoSuchTieringConfiguration, "bucket %q, id %q", bucket, id)
	}
	return &all[i], nil
}

// DeleteIntelligentTiering removes bucket's Intelligent-Tiering
// configuration id. ErrNoSuchTieringConfiguration, meta.ErrNoSuchBucket.
func (s *Service) DeleteIntelligentTiering(ctx context.Context, bucket, id string) error {
	return s.changeTiering(ctx, bucket, func(all []tiering.Configuration) ([]tiering.Configuration, error) {
		i, found := findTiering(all, id)
		if !found {
			return nil, wrap(ErrNoSuchTieringConfiguration, "bucket %q, id %q", bucket, id)
		}
		return slices.Delete(all, i, i+1), nil
	})
}

// IntelligentTieringFor returns all of bucket's Intelligent-Tiering
// configurations sorted by ID (none: an empty slice), from a cache that
// the calls above and DeleteBucket keep current, so that it costs a map
// lookup once cached. The slice is shared: callers must not change it.
// meta.ErrNoSuchBucket.
func (s *Service) IntelligentTieringFor(ctx context.Context, bucket string) ([]tiering.Configuration, error) {
	return s.tierings.get(ctx, bucket, s.loadTiering)
}

// findTiering returns where id is, or would go, in all (sorted by ID).
func findTiering(all []tiering.Configuration, id string) (int, bool) {
	return slices.BinarySearchFunc(all, id, func(c tiering.Configuration, id string) int { return strings.Compare(c.ID, id) })
}

// changeTiering applies change to a copy of bucket's configurations and
// stores the result, one change at a time. An error from change stores
// nothing.
func (s *Service) changeTiering(ctx context.Context, bucket string, change func([]tiering.Configuration) ([]tiering.Configuration, error)) error {
	st := &s.tierings
	st.write.Lock()
	defer st.write.Unlock()
	cur, err := s.loadTiering(ctx, bucket)
	if err != nil {
		return err
	}
	next, err := change(slices.Clone(cur))
	if err != nil {
		return err
	}
	if len(next) == 0 {
		err = s.meta.DeleteBucketConfig(ctx, bucket, tieringConfigName)
	} else {
		var v []byte
		if v, err = json.Marshal(next); err != nil {
			return err
		}
		err = s.meta.PutBucketConfig(ctx, bucket, tieringConfigName, v)
	}
	st.forget(bucket)
	return err
}

// loadTiering reads bucket's configurations from the store.
func (s *Service) loadTiering(ctx context.Context, bucket string) ([]tiering.Configuration, error) {
	v, err := s.meta.GetBucketConfig(ctx, bucket, tieringConfigName)
	if err != nil {
		return nil, err
	}
	all := []tiering.Configuration{}
	if v == nil {
		return all, nil
	}
	if err := json.Unmarshal(v, &all); err != nil {
		return nil, fmt.Errorf("intelligent-tiering configurations of %q: %w", bucket, err)
	}
	return all, nil
}

// tieringState is a Service's Intelligent-Tiering cache and write lock.
// Its zero value is empty and ready.
type tieringState struct {
	// write serializes the read-modify-write of changeTiering.
	write sync.Mutex
	configCache[[]tiering.Configuration]
}
