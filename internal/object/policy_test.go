package object

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/retrieval"
)

func TestRetrievalPolicy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "d"} {
		f.put("data", k, Glacier, bytes.Repeat([]byte(k), 4000)) // 4000 B: a Standard job is 1000 B/h over 4 h
	}
	store := f.svc.RetrievalStore()
	if p, err := store.GetPolicy(ctx); err != nil || p.Strategy != retrieval.None {
		t.Fatalf("default policy: got %v, %v; want None", p, err)
	}
	if err := store.PutPolicy(ctx, retrieval.Policy{Strategy: retrieval.BytesPerHour, BytesPerHour: 1500}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restore("a", 1, TierStandard); err != nil {
		t.Fatalf("first Standard restore within the rate: %v", err)
	}
	_, err := f.restore("b", 1, TierStandard)
	if !errors.Is(err, retrieval.ErrPolicyEnforced) {
		t.Fatalf("second Standard restore over the rate: got %v, want ErrPolicyEnforced", err)
	}
	// Refused requests change nothing.
	if o, _ := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "b"}); o.Restore != nil {
		t.Errorf("refused restore left state %+v", o.Restore)
	}
	// Bulk and Expedited are outside the policy.
	if _, err := f.restore("b", 1, TierBulk); err != nil {
		t.Errorf("Bulk under BytesPerHour: %v", err)
	}
	if _, err := f.restore("c", 1, TierExpedited); err != nil {
		t.Errorf("Expedited under BytesPerHour: %v", err)
	}
	// Upgrading b's Bulk job to Standard is a Standard retrieval too.
	if _, err := f.restore("b", 1, TierStandard); !errors.Is(err, retrieval.ErrPolicyEnforced) {
		t.Errorf("upgrade to Standard over the rate: got %v, want ErrPolicyEnforced", err)
	}
	// A policy change never touches accepted jobs; new ones follow it.
	if err := store.PutPolicy(ctx, retrieval.Policy{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restore("d", 1, TierStandard); err != nil {
		t.Errorf("Standard under None: %v", err)
	}
	// Once a's window has passed, the rate is free again.
	f.clock.Advance(5 * time.Hour)
	f.run()
	if n, _ := store.Retrieved(ctx, 0, 1<<40); len(n) == 0 {
		t.Errorf("no retrieval metered after restores completed")
	}
}

func TestFreeTierPolicy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// March has 31 days: a 31*5000-byte month allows 5000 bytes a day.
	f.svc.freeTierBytes = 31 * 5000
	for _, k := range []string{"a", "b"} {
		f.put("data", k, Glacier, bytes.Repeat([]byte(k), 4000))
	}
	if err := f.svc.RetrievalStore().PutPolicy(ctx, retrieval.Policy{Strategy: retrieval.FreeTier}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.restore("a", 1, TierStandard); err != nil {
		t.Fatalf("within the daily allowance: %v", err)
	}
	if _, err := f.restore("b", 1, TierStandard); !errors.Is(err, retrieval.ErrPolicyEnforced) {
		t.Fatalf("over the daily allowance: got %v, want ErrPolicyEnforced", err)
	}
	f.clock.Advance(14 * time.Hour) // the next day (10:30 + 14 h)
	if _, err := f.restore("b", 1, TierStandard); err != nil {
		t.Errorf("next day: %v", err)
	}
}
