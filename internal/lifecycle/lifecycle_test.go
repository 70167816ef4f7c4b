package lifecycle

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// scenarioC is the backup bucket's configuration of scenario C.
const scenarioC = `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule>
    <ID>backup-lifecycle-rule</ID>
    <Filter><Prefix></Prefix></Filter>
    <Status>Enabled</Status>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>
    <Transition><Days>365</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>
    <NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionTransition><NoncurrentDays>90</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration><NoncurrentDays>2555</NoncurrentDays></NoncurrentVersionExpiration>
  </Rule>
</LifecycleConfiguration>`

func mustParse(t *testing.T, body string) *Configuration {
	t.Helper()
	c, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// midnight returns 00:00 UTC on the given day.
func midnight(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestScenarioC(t *testing.T) {
	c := mustParse(t, scenarioC)
	created := time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC) // the 02:00 daily backup
	day0 := midnight(2026, 1, 16)                           // the first boundary after creation
	at := func(days int) time.Time { return day0.AddDate(0, 0, days) }

	t.Run("current version", func(t *testing.T) {
		obj := Object{Key: "backups/full/2026-01-15/db.tar", Size: 10 << 30, Created: created, Versioned: true}
		got := c.Schedule(obj, Options{})
		want := []Action{
			{KindTransition, StandardIA, at(30), "backup-lifecycle-rule"},
			{KindTransition, Glacier, at(90), "backup-lifecycle-rule"},
			{KindTransition, DeepArchive, at(365), "backup-lifecycle-rule"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Schedule:\ngot  %v\nwant %v", got, want)
		}
		if h := c.ExpirationHeader(obj, Options{}); h != "" {
			t.Errorf("ExpirationHeader = %q, want none: the rule has no Expiration", h)
		}
	})

	t.Run("noncurrent version", func(t *testing.T) {
		// Created on the 15th, overwritten on the 20th at 13:00, by
		// when it had not moved yet.
		since := time.Date(2026, 1, 20, 13, 0, 0, 0, time.UTC)
		base := midnight(2026, 1, 21)
		obj := Object{Key: "backups/incremental/x", Size: 1 << 20, Created: created, Versioned: true, Noncurrent: true, NoncurrentSince: since}
		got := c.Schedule(obj, Options{})
		want := []Action{
			{KindNoncurrentTransition, StandardIA, base.AddDate(0, 0, 30), "backup-lifecycle-rule"},
			{KindNoncurrentTransition, Glacier, base.AddDate(0, 0, 90), "backup-lifecycle-rule"},
			{KindNoncurrentExpire, "", base.AddDate(0, 0, 2555), "backup-lifecycle-rule"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Schedule:\ngot  %v\nwant %v", got, want)
		}
	})

	t.Run("noncurrent version already in GLACIER", func(t *testing.T) {
		since := time.Date(2026, 1, 20, 13, 0, 0, 0, time.UTC)
		obj := Object{Size: 1 << 20, StorageClass: Glacier, Created: created, Noncurrent: true, NoncurrentSince: since}
		got, ok := c.Next(obj, Options{})
		want := Action{KindNoncurrentExpire, "", midnight(2026, 1, 21).AddDate(0, 0, 2555), "backup-lifecycle-rule"}
		if !ok || got != want {
			t.Errorf("Next = %v, %v; want %v", got, ok, want)
		}
	})

	t.Run("day length of one second", func(t *testing.T) {
		opt := Options{DayLength: time.Second}
		start := time.Unix(1_800_000_000, 250_000_000)
		obj := Object{Size: 1 << 20, Created: start}
		got := c.Schedule(obj, opt)
		boundary := time.Unix(1_800_000_001, 0).UTC()
		want := []time.Time{boundary.Add(30 * time.Second), boundary.Add(90 * time.Second), boundary.Add(365 * time.Second)}
		if len(got) != len(want) {
			t.Fatalf("Schedule = %v, want %d actions", got, len(want))
		}
		for i := range want {
			if !got[i].Due.Equal(want[i]) {
				t.Errorf("action %d due %v, want %v", i, got[i].Due, want[i])
			}
		}
	})
}

func TestMarshalGolden(t *testing.T) {
	tests := []struct{ name, body string }{
		{"everything", everything},
		{"scenario-c", scenarioC},
		{"v1", doc(rule(`<ID>v1</ID><Prefix>logs/</Prefix><Expiration><Days>10</Days></Expiration>`))},
		{"empty-filter", doc(rule(`<ID>e</ID><Filter/><Expiration><Date>2030-01-01</Date></Expiration>`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.body).Marshal()
			path := filepath.Join("testdata", tt.name+".golden.xml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Marshal:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, body := range []string{everything, scenarioC} {
		c := mustParse(t, body)
		out := c.Marshal()
		if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)) {
			t.Errorf("Marshal does not start with the declaration and S3's namespace:\n%s", out)
		}
		c2 := mustParse(t, string(out))
		if !reflect.DeepEqual(c, c2) {
			t.Errorf("round trip:\ngot  %#v\nwant %#v", c2, c)
		}
	}
}

func TestRuleHelpers(t *testing.T) {
	c := mustParse(t, everything)
	tests := []struct {
		rule   int
		prefix string
	}{{0, "logs/"}, {1, "tax/"}, {2, ""}, {3, ""}}
	for _, tt := range tests {
		if got := c.Rules[tt.rule].KeyPrefix(); got != tt.prefix {
			t.Errorf("rule %d KeyPrefix = %q, want %q", tt.rule, got, tt.prefix)
		}
	}
	v1 := Rule{Prefix: ptr("old/")}
	if got := v1.KeyPrefix(); got != "old/" {
		t.Errorf("V1 KeyPrefix = %q", got)
	}
	if !c.Rules[0].Enabled() || c.Rules[1].Enabled() {
		t.Error("Enabled does not follow Status")
	}
}

func TestCanTransition(t *testing.T) {
	classes := []string{StandardIA, IntelligentTiering, OnezoneIA, GlacierIR, Glacier, DeepArchive}
	// The waterfall of the spec's §3.4, row by row, in classes' order.
	table := map[string]string{
		Standard:           "111111",
		"":                 "111111",
		ReducedRedundancy:  "111111",
		StandardIA:         "011111",
		IntelligentTiering: "001111",
		OnezoneIA:          "000011",
		GlacierIR:          "000011",
		Glacier:            "000001",
		DeepArchive:        "000000",
		"OUTPOSTS":         "000000",
	}
	for from, row := range table {
		for i, to := range classes {
			if got, want := CanTransition(from, to), row[i] == '1'; got != want {
				t.Errorf("CanTransition(%q, %q) = %v, want %v", from, to, got, want)
			}
		}
		if CanTransition(from, Standard) {
			t.Errorf("CanTransition(%q, STANDARD) = true", from)
		}
	}
}
