package retrieval_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/retrieval/retrievaltest"
)

func TestMemStoreConformance(t *testing.T) {
	retrievaltest.Run(t, func(t *testing.T) retrieval.Store { return &retrieval.MemStore{} })
}

func TestMemStoreRefusesInvalidPolicy(t *testing.T) {
	var s retrieval.MemStore
	err := s.PutPolicy(context.Background(), retrieval.Policy{Strategy: retrieval.BytesPerHour})
	if !errors.Is(err, retrieval.ErrInvalidPolicy) {
		t.Errorf("PutPolicy(invalid) = %v", err)
	}
}

func TestMeter(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	clk.SetDayLength(time.Minute)
	store := &retrieval.MemStore{}
	m := retrieval.NewMeter(store, clk)
	if m.DayLength() != time.Minute {
		t.Fatalf("DayLength = %s", m.DayLength())
	}
	d0 := retrieval.Day(start, time.Minute)

	rec := func(at time.Duration, tier string, n int64) {
		t.Helper()
		if err := m.Record(ctx, start.Add(at), tier, n); err != nil {
			t.Fatalf("Record(%s, %s, %d): %v", at, tier, n, err)
		}
	}
	rec(0, retrieval.TierStandard, 100)
	rec(59*time.Second, retrieval.TierStandard, 50)
	rec(30*time.Second, retrieval.TierBulk, 7)
	rec(time.Minute, retrieval.TierStandard, 1)
	rec(3*time.Minute+time.Second, retrieval.TierExpedited, 9)
	rec(3*time.Minute, retrieval.TierExpedited, 0) // records nothing

	got, err := m.Usage(ctx, start, start.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []retrieval.DayTier{
		{Day: d0, Tier: retrieval.TierBulk, Bytes: 7},
		{Day: d0, Tier: retrieval.TierStandard, Bytes: 150},
		{Day: d0 + 1, Tier: retrieval.TierStandard, Bytes: 1},
		{Day: d0 + 3, Tier: retrieval.TierExpedited, Bytes: 9},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Usage = %v, want %v", got, want)
	}
	got, err = m.Usage(ctx, start.Add(time.Minute), start.Add(2*time.Minute-1))
	if err != nil || !reflect.DeepEqual(got, want[2:3]) {
		t.Errorf("Usage of day 1 = %v, %v; want %v", got, err, want[2:3])
	}

	for _, bad := range []struct {
		tier string
		n    int64
	}{{"GLACIER", 1}, {"", 1}, {retrieval.TierStandard, -1}} {
		if err := m.Record(ctx, start, bad.tier, bad.n); !errors.Is(err, retrieval.ErrInvalidJob) {
			t.Errorf("Record(%q, %d) = %v, want ErrInvalidJob", bad.tier, bad.n, err)
		}
	}
}

type failingStore struct{ retrieval.MemStore }

var errDisk = errors.New("disk on fire")

func (*failingStore) AddRetrieved(context.Context, int64, string, int64) error { return errDisk }
func (*failingStore) Retrieved(context.Context, int64, int64) ([]retrieval.DayTier, error) {
	return nil, errDisk
}

func TestMeterStoreErrors(t *testing.T) {
	m := retrieval.NewMeter(&failingStore{}, nil)
	if m.DayLength() != 24*time.Hour {
		t.Errorf("nil clock: DayLength = %s", m.DayLength())
	}
	now := time.Now()
	if err := m.Record(context.Background(), now, retrieval.TierBulk, 1); !errors.Is(err, errDisk) {
		t.Errorf("Record = %v", err)
	}
	if _, err := m.Usage(context.Background(), now, now); !errors.Is(err, errDisk) {
		t.Errorf("Usage = %v", err)
	}
}
