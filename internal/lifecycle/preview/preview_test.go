package preview

import (
	"testing"
	"time"

	"github.com/firnhq/firn/internal/lifecycle"
)

func TestMake(t *testing.T) {
	c, err := lifecycle.Parse([]byte(`<LifecycleConfiguration>
<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>
  <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
  <Expiration><Days>365</Days></Expiration></Rule>
<Rule><ID>cold</ID><Filter><Tag><Key>tier</Key><Value>cold</Value></Tag></Filter><Status>Enabled</Status>
  <Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>
<Rule><ID>off</ID><Filter/><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
</LifecycleConfiguration>`))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	now := created.Add(time.Hour)
	objs := []lifecycle.Object{
		{Key: "logs/b", Size: 1 << 20, Created: created},
		{Key: "logs/a", Size: 2 << 20, Created: created},
		{Key: "img/x", Size: 1 << 20, Created: created, Tags: map[string]string{"tier": "cold"}},
		{Key: "img/y", Size: 1 << 20, Created: created},
	}
	p := Make(c, objs, lifecycle.Options{}, now, time.Time{})
	if p.Objects != 4 || len(p.Entries) != 3 || p.Entries[0].Key != "img/x" || p.Entries[1].Key != "logs/a" {
		t.Fatalf("entries: %+v", p.Entries)
	}
	la := p.Entries[1].Actions
	if len(la) != 2 || la[0].StorageClass != lifecycle.StandardIA || !la[0].Due.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) ||
		la[1].Kind != lifecycle.KindExpire || !la[1].Due.Equal(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("logs/a: %+v", la)
	}
	want := []RuleSummary{
		{RuleID: "logs", Objects: 2, Bytes: 3 << 20, Actions: map[string]int{"Transition:STANDARD_IA": 2, "Expire": 2}},
		{RuleID: "cold", Objects: 1, Bytes: 1 << 20, Actions: map[string]int{"Transition:GLACIER": 1}},
		{RuleID: "off", Actions: map[string]int{}},
	}
	for i, w := range want {
		g := p.Rules[i]
		if g.RuleID != w.RuleID || g.Objects != w.Objects || g.Bytes != w.Bytes || len(g.Actions) != len(w.Actions) {
			t.Errorf("rule %d: got %+v, want %+v", i, g, w)
		}
		for k, n := range w.Actions {
			if g.Actions[k] != n {
				t.Errorf("rule %s: %s×%d, want %d", w.RuleID, k, g.Actions[k], n)
			}
		}
	}

	// A window of 60 days keeps the transitions only.
	p = Make(c, objs, lifecycle.Options{}, now, now.AddDate(0, 0, 60))
	if len(p.Entries) != 3 || len(p.Entries[1].Actions) != 1 || p.Rules[0].Actions["Expire"] != 0 {
		t.Errorf("60-day window: %+v %+v", p.Entries, p.Rules)
	}
}

func TestNeedsTags(t *testing.T) {
	c, err := lifecycle.Parse([]byte(`<LifecycleConfiguration>
<Rule><ID>t</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>j</Key><Value>w</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
<Rule><ID>u</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
</LifecycleConfiguration>`))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"a/x": true, "b/x": false} {
		if got := NeedsTags(c, key); got != want {
			t.Errorf("NeedsTags(%q): got %v, want %v", key, got, want)
		}
	}
	if NeedsTags(nil, "a/x") {
		t.Error("nil configuration needs tags")
	}
}
