package retrieval

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/clock"
)

// server plays the caller of Admit: it judges each request at the fake
// clock's time and keeps the jobs it accepts, as the restore service does.
type server struct {
	clk      *clock.Fake
	policy   Policy
	cfg      Config
	accepted []Job
}

func (s *server) restore(tier string, n int64) error {
	now := s.clk.Now()
	cfg := s.cfg
	cfg.DayLength = s.clk.DayLength()
	j := Job{Tier: tier, Bytes: n, Start: now}
	if err := s.policy.Admit(now, j, s.accepted, cfg); err != nil {
		return err
	}
	s.accepted = append(s.accepted, j)
	return nil
}

func TestFreeTierAcrossDaysWithShortDays(t *testing.T) {
	// 2026-03-01T00:00Z with 10-second model days: the model day changes
	// every 10 s of wall time.
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	clk.SetDayLength(10 * time.Second)
	s := &server{clk: clk, policy: Policy{Strategy: FreeTier}, cfg: Config{FreeTierMonthlyBytes: 3_000_000}}
	allowance := s.cfg.DailyFreeAllowance(Day(clk.Now(), clk.DayLength()))
	if allowance < 3_000_000/31 || allowance > 3_000_000/28 {
		t.Fatalf("daily allowance %d is not a month's share", allowance)
	}

	steps := []struct {
		advance time.Duration
		tier    string
		bytes   int64
		refused bool
	}{
		{0, TierStandard, allowance - 1, false},
		{time.Second, TierStandard, 1, false},          // exactly the allowance
		{time.Second, TierStandard, 1, true},           // one byte over
		{0, TierBulk, 10 * allowance, false},           // outside the policy
		{0, TierExpedited, 10 * allowance, false},      // outside the policy
		{8*time.Second - 1, TierStandard, 1, true},     // last nanosecond of the day
		{1, TierStandard, allowance, false},            // the next model day
		{5 * time.Second, TierStandard, 1, true},       // same day, allowance used
		{5 * time.Second, TierStandard, 1, false},      // the day after
		{time.Hour, TierStandard, allowance + 1, true}, // larger than a day's allowance
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		err := s.restore(st.tier, st.bytes)
		if refused := errors.Is(err, ErrPolicyEnforced); refused != st.refused || (err != nil && !refused) {
			t.Fatalf("step %d (%s, %s %d bytes): err = %v, want refused=%v", i, clk.Now().Format(time.RFC3339Nano), st.tier, st.bytes, err, st.refused)
		}
	}
}

func TestPolicyChangeKeepsAcceptedJobs(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	s := &server{clk: clk}
	// Under None, a large Standard job: 40 GiB over 4 h = 10 GiB/h.
	if err := s.restore(TierStandard, 40<<30); err != nil {
		t.Fatal(err)
	}
	// The operator caps the rate at 1 GiB/h. The running job stays
	// accepted: Admit never sees it again, and the caller keeps it.
	s.policy = Policy{Strategy: BytesPerHour, BytesPerHour: 1 << 30}
	clk.Advance(time.Hour)
	err := s.restore(TierStandard, 1<<20)
	var ee *EnforcedError
	if !errors.As(err, &ee) {
		t.Fatalf("new job while the old one runs: %v, want refused", err)
	}
	if ee.Policy != s.policy || ee.Limit != 1<<30 || ee.Would != 10<<30+(1<<20)/4 {
		t.Errorf("refusal = %+v", ee)
	}
	if len(s.accepted) != 1 {
		t.Errorf("accepted jobs changed: %v", s.accepted)
	}
	// Bulk and Expedited stay outside the policy.
	if err := s.restore(TierBulk, 1<<40); err != nil {
		t.Errorf("Bulk: %v", err)
	}
	if err := s.restore(TierExpedited, 1<<30); err != nil {
		t.Errorf("Expedited: %v", err)
	}
	// Once the old job's window is over, a job within the quota is
	// accepted.
	clk.Advance(3 * time.Hour)
	if err := s.restore(TierStandard, 4<<30); err != nil {
		t.Errorf("after the old job ended: %v", err)
	}
}

func TestAdmitInvalid(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := Job{Tier: TierStandard, Bytes: 1}
	for _, tc := range []struct {
		name     string
		p        Policy
		req      Job
		accepted []Job
		want     error
	}{
		{"unknown tier", Policy{}, Job{Tier: "standard"}, nil, ErrInvalidJob},
		{"empty tier", Policy{}, Job{}, nil, ErrInvalidJob},
		{"negative bytes", Policy{}, Job{Tier: TierBulk, Bytes: -1}, nil, ErrInvalidJob},
		{"negative duration", Policy{}, Job{Tier: TierExpedited, Duration: -1}, nil, ErrInvalidJob},
		{"bad accepted job", Policy{Strategy: FreeTier}, ok, []Job{{Tier: "GLACIER"}}, ErrInvalidJob},
		{"invalid policy", Policy{Strategy: BytesPerHour}, ok, nil, ErrInvalidPolicy},
		{"unknown strategy", Policy{Strategy: 9}, ok, nil, ErrInvalidPolicy},
	} {
		err := tc.p.Admit(now, tc.req, tc.accepted, Config{})
		if !errors.Is(err, tc.want) || errors.Is(err, ErrPolicyEnforced) {
			t.Errorf("%s: Admit = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestAdmitDoesNotModifyAccepted(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	accepted := []Job{
		{Tier: TierStandard, Bytes: 8000, Start: now.Add(2 * time.Hour)},
		{Tier: TierStandard, Bytes: 4000, Start: now},
	}
	before := append([]Job(nil), accepted...)
	p := Policy{Strategy: BytesPerHour, BytesPerHour: 1}
	if err := p.Admit(now, Job{Tier: TierStandard, Bytes: 4}, accepted, Config{}); !errors.Is(err, ErrPolicyEnforced) {
		t.Fatalf("Admit = %v", err)
	}
	for i := range accepted {
		if accepted[i] != before[i] {
			t.Errorf("accepted[%d] changed: %v, was %v", i, accepted[i], before[i])
		}
	}
}

func TestEnforcedErrorSaturates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	big := Job{Tier: TierStandard, Bytes: math.MaxInt64, Start: now, Duration: time.Nanosecond}
	p := Policy{Strategy: BytesPerHour, BytesPerHour: math.MaxInt64}
	err := p.Admit(now, big, []Job{big}, Config{})
	var ee *EnforcedError
	if !errors.As(err, &ee) || ee.Would != math.MaxInt64 {
		t.Fatalf("Admit = %v (%+v)", err, ee)
	}
	p = Policy{Strategy: FreeTier}
	err = p.Admit(now, Job{Tier: TierStandard, Bytes: math.MaxInt64}, []Job{big}, Config{})
	if !errors.As(err, &ee) || ee.Would != math.MaxInt64 {
		t.Fatalf("FreeTier Admit = %v (%+v)", err, ee)
	}
}

func TestStandardDuration(t *testing.T) {
	for _, tc := range []struct {
		day, want time.Duration
	}{
		{0, 4 * time.Hour},
		{24 * time.Hour, 4 * time.Hour},
		{24 * time.Minute, 4 * time.Minute},
		{time.Second, 166666664 * time.Nanosecond},
	} {
		if got := (Config{DayLength: tc.day}).StandardDuration(); got != tc.want {
			t.Errorf("StandardDuration(day=%s) = %s, want %s", tc.day, got, tc.want)
		}
	}
}
