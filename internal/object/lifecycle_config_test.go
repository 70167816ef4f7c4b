package object

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/lifecycle"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
)

// TestLifecycleAgreesWithObject: the object service and package lifecycle
// spell storage classes and round days the same way.
func TestLifecycleAgreesWithObject(t *testing.T) {
	for _, c := range [][2]string{
		{Standard, lifecycle.Standard}, {ReducedRedundancy, lifecycle.ReducedRedundancy}, {StandardIA, lifecycle.StandardIA},
		{OnezoneIA, lifecycle.OnezoneIA}, {IntelligentTiering, lifecycle.IntelligentTiering}, {GlacierIR, lifecycle.GlacierIR},
		{Glacier, lifecycle.Glacier}, {DeepArchive, lifecycle.DeepArchive},
	} {
		if c[0] != c[1] {
			t.Errorf("storage class: object says %q, lifecycle %q", c[0], c[1])
		}
		if !ValidStorageClass(c[1]) {
			t.Errorf("lifecycle class %q is not a class the object service stores", c[1])
		}
	}
	base := time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC)
	for _, day := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, 7 * time.Second} {
		for _, at := range []time.Time{base, base.Truncate(day), base.Truncate(day).Add(-time.Nanosecond), base.Add(day / 3)} {
			for _, n := range []int{0, 1, 3, 30} {
				want := NextMidnight(at.Add(time.Duration(n)*day), day)
				if got := lifecycle.DueAfter(at, n, day); !got.Equal(want) {
					t.Errorf("day %v, %v + %d days: lifecycle.DueAfter %v, NextMidnight %v", day, at, n, got, want)
				}
			}
		}
	}
}

func newLifecycleService(t *testing.T) (*Service, *clock.Fake) {
	t.Helper()
	ms, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	clk := clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))
	s := New(Config{Meta: ms, Clock: clk})
	if err := s.CreateBucket(context.Background(), "bkt", "", "owner"); err != nil {
		t.Fatal(err)
	}
	return s, clk
}

const expireDoc = `<LifecycleConfiguration><Rule><ID>gone</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status>` +
	`<Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>`

// TestLifecycleConfigService: put, get, delete; a refused configuration
// changes nothing; ExpirationFor follows the configuration and the
// clock's day length.
func TestLifecycleConfigService(t *testing.T) {
	ctx := context.Background()
	s, clk := newLifecycleService(t)
	if _, err := s.GetBucketLifecycle(ctx, "bkt"); !errors.Is(err, ErrNoSuchLifecycleConfiguration) {
		t.Fatalf("GetBucketLifecycle of none: got %v, want ErrNoSuchLifecycleConfiguration", err)
	}
	obj := &meta.Object{Bucket: "bkt", Key: "tmp/a", Size: 1, StorageClass: Standard, LastModified: clk.Now()}
	if h := s.ExpirationFor(ctx, obj); h != "" {
		t.Errorf("ExpirationFor without a configuration: %q", h)
	}
	ms, err := s.PutBucketLifecycle(ctx, "bkt", []byte(expireDoc), "varies_by_storage_class")
	if err != nil || ms != lifecycle.VariesByStorageClass {
		t.Fatalf("PutBucketLifecycle: %q, %v", ms, err)
	}
	lc, err := s.GetBucketLifecycle(ctx, "bkt")
	if err != nil {
		t.Fatal(err)
	}
	if lc.MinimumSize != lifecycle.VariesByStorageClass || len(lc.Config.Rules) != 1 || string(lc.Document) != string(lc.Config.Marshal()) {
		t.Errorf("GetBucketLifecycle: got %+v, document %s", lc, lc.Document)
	}
	if got, want := s.ExpirationFor(ctx, obj), `expiry-date="Fri, 13 Mar 2026 00:00:00 GMT", rule-id="gone"`; got != want {
		t.Errorf("ExpirationFor: got %q, want %q", got, want)
	}
	clk.SetDayLength(time.Hour) // 10:30 + 2 h, rounded up to the hour
	if got, want := s.ExpirationFor(ctx, obj), `expiry-date="Tue, 10 Mar 2026 13:00:00 GMT", rule-id="gone"`; got != want {
		t.Errorf("ExpirationFor with 1h days: got %q, want %q", got, want)
	}

	_, err = s.PutBucketLifecycle(ctx, "bkt", []byte("<LifecycleConfiguration/>"), "")
	var le *lifecycle.Error
	if !errors.As(err, &le) {
		t.Fatalf("PutBucketLifecycle of a bad document: got %v, want a *lifecycle.Error", err)
	}
	if _, err := s.PutBucketLifecycle(ctx, "bkt", []byte(expireDoc), "bogus"); !errors.As(err, &le) || le.Code != lifecycle.CodeInvalidRequest {
		t.Fatalf("PutBucketLifecycle with a bad minimum size: got %v, want InvalidRequest", err)
	}
	if again, _ := s.GetBucketLifecycle(ctx, "bkt"); again == nil || string(again.Document) != string(lc.Document) || again.MinimumSize != lc.MinimumSize {
		t.Errorf("configuration changed by refused PUTs")
	}

	if err := s.DeleteBucketLifecycle(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucketLifecycle(ctx, "bkt"); !errors.Is(err, ErrNoSuchLifecycleConfiguration) {
		t.Errorf("GetBucketLifecycle after delete: got %v", err)
	}
	if h := s.ExpirationFor(ctx, obj); h != "" {
		t.Errorf("ExpirationFor after delete: %q", h)
	}
	if _, err := s.PutBucketLifecycle(ctx, "none", []byte(expireDoc), ""); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Errorf("PutBucketLifecycle on a missing bucket: got %v", err)
	}
	if _, err := s.GetBucketLifecycle(ctx, "none"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Errorf("GetBucketLifecycle on a missing bucket: got %v", err)
	}
}

// TestLifecycleCacheRacingLoad: a load overtaken by an invalidation is
// returned but not cached, so the next read sees the new configuration.
func TestLifecycleCacheRacingLoad(t *testing.T) {
	var c configCache[*BucketLifecycle]
	old, fresh := &BucketLifecycle{}, &BucketLifecycle{}
	loads := 0
	load := func(context.Context, string) (*BucketLifecycle, error) {
		loads++
		if loads == 1 {
			c.forget("b") // a put commits while the old value is read
			return old, nil
		}
		return fresh, nil
	}
	if got, _ := c.get(context.Background(), "b", load); got != old {
		t.Fatalf("first get: got %p, want the loaded value %p", got, old)
	}
	if got, _ := c.get(context.Background(), "b", load); got != fresh {
		t.Errorf("second get: got the stale value, want the reloaded one")
	}
	if got, _ := c.get(context.Background(), "b", load); got != fresh || loads != 2 {
		t.Errorf("third get: %d loads, want 2 (cached)", loads)
	}
}
