package object

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/lifecycle"
	"github.com/firnhq/firn/internal/meta"
)

// ErrNoSuchLifecycleConfiguration: the bucket has no lifecycle
// configuration.
var ErrNoSuchLifecycleConfiguration = errors.New("no lifecycle configuration")

// lifecycleConfigName is the bucket configuration (meta.BucketConfigStore)
// holding a bucket's lifecycle configuration.
const lifecycleConfigName = "lifecycle"

// storedLifecycle is the stored form of a lifecycle configuration
// (docs/metadata-schema.md): the setting of the
// x-amz-transition-default-minimum-object-size header and the canonical
// document, as Marshal wrote it when the configuration was put.
type storedLifecycle struct {
	MinimumSize string `json:"min"`
	XML         string `json:"xml"`
}

// BucketLifecycle is a bucket's lifecycle configuration. It is shared:
// callers must not change it.
type BucketLifecycle struct {
	Config *lifecycle.Configuration
	// Document is the LifecycleConfiguration document that
	// GetBucketLifecycleConfiguration answers with (Config.Marshal() at
	// the time it was put).
	Document []byte
	// MinimumSize is the bucket's
	// x-amz-transition-default-minimum-object-size.
	MinimumSize lifecycle.MinimumSize
}

// Options returns the evaluation options of the configuration for a
// model day of length day.
func (b *BucketLifecycle) Options(day time.Duration) lifecycle.Options {
	return lifecycle.Options{DayLength: day, MinimumSize: b.MinimumSize}
}

// PutBucketLifecycle replaces bucket's lifecycle configuration with body,
// a LifecycleConfiguration document (Lifecycle V1 or V2), checked as S3
// checks it; minSize is the x-amz-transition-default-minimum-object-size
// request header ("" for the default). It returns the setting stored. A
// refused configuration is a *lifecycle.Error and changes nothing.
// meta.ErrNoSuchBucket.
func (s *Service) PutBucketLifecycle(ctx context.Context, bucket string, body []byte, minSize string) (lifecycle.MinimumSize, error) {
	ms, err := lifecycle.ParseMinimumSize(minSize)
	if err != nil {
		return "", err
	}
	c, err := lifecycle.Parse(body)
	if err != nil {
		return "", err
	}
	v, err := json.Marshal(storedLifecycle{MinimumSize: string(ms), XML: string(c.Marshal())})
	if err != nil {
		return "", err
	}
	// The bucket's objects are judged again under the new rules; the
	// walk is recorded first, so a crash after the change cannot skip
	// it.
	if err := s.ScheduleReconcile(ctx, bucket); err != nil {
		return "", err
	}
	err = s.meta.PutBucketConfig(ctx, bucket, lifecycleConfigName, v)
	s.lifecycles.forget(bucket)
	if err != nil {
		return "", err
	}
	return ms, nil
}

// GetBucketLifecycle returns bucket's lifecycle configuration, from a
// cache that Put/DeleteBucketLifecycle and DeleteBucket keep current.
// ErrNoSuchLifecycleConfiguration, meta.ErrNoSuchBucket.
func (s *Service) GetBucketLifecycle(ctx context.Context, bucket string) (*BucketLifecycle, error) {
	lc, err := s.lifecycles.get(ctx, bucket, s.loadLifecycle)
	if err != nil {
		return nil, err
	}
	if lc == nil {
		return nil, wrap(ErrNoSuchLifecycleConfiguration, "bucket %q", bucket)
	}
	return lc, nil
}

// DeleteBucketLifecycle removes bucket's lifecycle configuration, if it
// has one. meta.ErrNoSuchBucket.
func (s *Service) DeleteBucketLifecycle(ctx context.Context, bucket string) error {
	if err := s.ScheduleReconcile(ctx, bucket); err != nil {
		return err
	}
	err := s.meta.DeleteBucketConfig(ctx, bucket, lifecycleConfigName)
	s.lifecycles.forget(bucket)
	return err
}

// ExpirationFor returns the x-amz-expiration header of the current
// object o: when its bucket's lifecycle configuration expires it and by
// which rule, in model days of the service's clock; "" when no rule
// does. It costs a map lookup once the configuration is cached; a
// configuration that cannot be read is logged and gives "".
func (s *Service) ExpirationFor(ctx context.Context, o *meta.Object) string {
	lc, err := s.lifecycles.get(ctx, o.Bucket, s.loadLifecycle)
	if err != nil {
		if !errors.Is(err, meta.ErrNoSuchBucket) {
			s.log.Warn("read lifecycle configuration", "bucket", o.Bucket, "err", err)
		}
		return ""
	}
	if lc == nil {
		return ""
	}
	return lc.Config.ExpirationHeader(lifecycleObject(o), lc.Options(s.clock.DayLength()))
}

// lifecycleObject describes the current version o as the lifecycle
// sees it. firn has no versioning yet: every object is the only,
// unversioned version of its key.
func lifecycleObject(o *meta.Object) lifecycle.Object {
	var tags map[string]string
	if len(o.Tags) > 0 {
		tags = make(map[string]string, len(o.Tags))
		for _, t := range o.Tags {
			tags[t.Key] = t.Value
		}
	}
	return lifecycle.Object{Key: o.Key, Size: o.Size, Tags: tags, StorageClass: o.StorageClass,
		Created: o.LastModified, OnlyVersion: true}
}

// loadLifecycle reads bucket's lifecycle configuration from the store:
// nil when it has none.
func (s *Service) loadLifecycle(ctx context.Context, bucket string) (*BucketLifecycle, error) {
	v, err := s.meta.GetBucketConfig(ctx, bucket, lifecycleConfigName)
	if err != nil || v == nil {
		return nil, err
	}
	var st storedLifecycle
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, fmt.Errorf("lifecycle configuration of %q: %w", bucket, err)
	}
	ms, err := lifecycle.ParseMinimumSize(st.MinimumSize)
	if err != nil {
		return nil, fmt.Errorf("lifecycle configuration of %q: %w", bucket, err)
	}
	c, err := lifecycle.Parse([]byte(st.XML))
	if err != nil {
		return nil, fmt.Errorf("lifecycle configuration of %q: stored document refused: %w", bucket, err)
	}
	return &BucketLifecycle{Config: c, Document: []byte(st.XML), MinimumSize: ms}, nil
}

// configCache holds a parsed bucket configuration of the buckets read so
// far (the zero T for a bucket known to have none), so that the request
// path does not read the store for it. Its zero value is empty and ready.
type configCache[T any] struct {
	mu sync.Mutex // guards byBucket and gen
	// byBucket maps a bucket to its configuration.
	byBucket map[string]T
	// gen counts invalidations: a load that raced with one is not
	// cached, since it may have read what the invalidating write
	// replaced.
	gen uint64
}

// get returns bucket's configuration from the cache, or from load
// (caching the result).
func (c *configCache[T]) get(ctx context.Context, bucket string, load func(context.Context, string) (T, error)) (T, error) {
	c.mu.Lock()
	v, ok := c.byBucket[bucket]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load(ctx, bucket)
	if err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.byBucket == nil {
			c.byBucket = map[string]T{}
		}
		c.byBucket[bucket] = v
	}
	c.mu.Unlock()
	return v, nil
}

// forget drops bucket's entry. Call it after every change to the
// bucket's configuration has committed (or failed).
func (c *configCache[T]) forget(bucket string) {
	c.mu.Lock()
	delete(c.byBucket, bucket)
	c.gen++
	c.mu.Unlock()
}
