package sim

import (
	"reflect"
	"time"

	"strings"
	"testing"

	"github.com/firnhq/firn/internal/lifecycle"
	"github.com/firnhq/firn/internal/lifecycle/document"
)

// scenarioC is the backup bucket's policy of scenario C, as the AWS CLI
// takes it.
const scenarioC = `{"Rules": [{
  "ID": "backup-lifecycle-rule", "Filter": {"Prefix": ""}, "Status": "Enabled",
  "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"},
                  {"Days": 365, "StorageClass": "DEEP_ARCHIVE"}],
  "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"},
                                   {"NoncurrentDays": 90, "StorageClass": "GLACIER"}],
  "NoncurrentVersionExpiration": {"NoncurrentDays": 2555}}]}`

func scenarioCConfig(t *testing.T) *lifecycle.Configuration {
	t.Helper()
	d, err := document.ParseJSON([]byte(scenarioC))
	if err != nil {
		t.Fatal(err)
	}
	return d.Config
}

func classOf(m Month, c string) ClassMonth {
	for _, x := range m.Classes {
		if x.Class == c {
			return x
		}
	}
	return ClassMonth{Class: c}
}

// TestScenarioC plays 100 objects of 1 GiB, written on 2026-01-01, through
// scenario C's policy for 14 months. Written at 12:00 on day 0, they are
// due in STANDARD_IA at 00:00 on day 31 (February 1), in GLACIER on day 91
// (April 2) and in DEEP_ARCHIVE on day 366 (2027-01-02).
func TestScenarioC(t *testing.T) {
	pop := &Population{Groups: []Group{{Prefix: "backups/", Initial: Initial{Count: 100, Size: Size{Fixed: GB}}}}}
	rep, err := Simulate(Input{Config: scenarioCConfig(t), Start: jan1, Months: 14, Population: pop})
	if err != nil {
		t.Fatal(err)
	}
	const (
		n       = 100.0
		std     = n * 0.023                                  // a month of 100 GiB in STANDARD
		ia      = n * 0.0125                                 // ... in STANDARD_IA
		glacier = n*(GB+32*kib)/GB*0.0036 + n*8*kib/GB*0.023 // ... in GLACIER, overhead included
		deep    = n*(GB+32*kib)/GB*0.00099 + n*8*kib/GB*0.023
	)
	want := []struct {
		class string // where the bytes are at the end of the month
		cost  float64
	}{
		{lifecycle.Standard, std},                                  // January
		{lifecycle.StandardIA, ia + n*0.01/1000},                   // February, with 100 transitions
		{lifecycle.StandardIA, ia},                                 // March
		{lifecycle.Glacier, ia/30 + glacier*29/30 + n*0.03/1000},   // April: 1 day IA, 29 GLACIER
		{lifecycle.Glacier, glacier}, {lifecycle.Glacier, glacier}, // May, June
		{lifecycle.Glacier, glacier}, {lifecycle.Glacier, glacier}, {lifecycle.Glacier, glacier},
		{lifecycle.Glacier, glacier}, {lifecycle.Glacier, glacier}, {lifecycle.Glacier, glacier}, // ... December
		{lifecycle.DeepArchive, glacier/31 + deep*30/31 + n*0.05/1000}, // January 2027
		{lifecycle.DeepArchive, deep},                                  // February 2027
	}
	var total float64
	for i, w := range want {
		m := rep.Policy.Months[i]
		if got := classOf(m, w.class); got.Bytes != n*GB || got.Objects != n {
			t.Errorf("month %d: %s holds %v bytes in %v objects, want all 100 GiB", i+1, w.class, got.Bytes, got.Objects)
		}
		if !near(m.Cost, w.cost) {
			t.Errorf("month %d: got $%.9f, want $%.9f", i+1, m.Cost, w.cost)
		}
		total += w.cost
		if b := rep.Baseline.Months[i]; !near(b.Cost, std) {
			t.Errorf("month %d without policy: got $%.9f, want $%.9f", i+1, b.Cost, std)
		}
	}
	if !near(rep.Policy.Cost, total) || !near(rep.Baseline.Cost, 14*std) || !near(rep.Savings, 14*std-total) {
		t.Errorf("totals: policy $%v baseline $%v savings $%v; want $%v, $%v", rep.Policy.Cost, rep.Baseline.Cost, rep.Savings, total, 14*std)
	}
	for _, m := range rep.Policy.Months {
		for _, c := range m.Classes {
			if c.EarlyDelete != 0 {
				t.Errorf("month %d: early deletion charged in %s: %v", m.Month, c.Class, c.EarlyDelete)
			}
		}
	}
}

// TestScenarioCVersioned overwrites the objects: noncurrent versions
// follow the noncurrent transitions, and the overwriting versions the
// current ones.
func TestScenarioCVersioned(t *testing.T) {
	pop := &Population{Versioned: true, Groups: []Group{{
		Initial: Initial{Count: 100, Size: Size{Fixed: GB}}, OverwriteRate: 0.5}}}
	rep, err := Simulate(Input{Config: scenarioCConfig(t), Start: jan1, Months: 6, Population: pop, LifetimeStrata: 4})
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Policy.Months[5]
	var objs float64
	for _, c := range last.Classes {
		objs += c.Objects
	}
	// Every overwrite adds a version and none expires within 2555 days.
	if objs <= 100 {
		t.Errorf("versions after 6 months: got %v, want more than 100", objs)
	}
	if g := classOf(last, lifecycle.Glacier); g.Objects == 0 {
		t.Errorf("no version reached GLACIER: %+v", last.Classes)
	}
	// Without versioning, the overwritten objects are gone.
	pop.Versioned = false
	rep2, err := Simulate(Input{Config: scenarioCConfig(t), Start: jan1, Months: 6, Population: pop, LifetimeStrata: 4})
	if err != nil {
		t.Fatal(err)
	}
	objs = 0
	for _, c := range rep2.Policy.Months[5].Classes {
		objs += c.Objects
	}
	if !near(objs, 100) {
		t.Errorf("unversioned objects after 6 months: got %v, want 100", objs)
	}
	if rep2.Policy.Cost >= rep.Policy.Cost {
		t.Errorf("unversioned run costs $%v, versioned $%v: want less", rep2.Policy.Cost, rep.Policy.Cost)
	}
}

// TestSimulateObjects runs a live bucket's listing: an object already past
// 90 days goes straight to GLACIER on the first day (the coldest due
// action wins), without a stop in STANDARD_IA.
func TestSimulateObjects(t *testing.T) {
	objs := []lifecycle.Object{
		{Key: "old", Size: GB, Created: jan1.AddDate(0, 0, -100)},
		{Key: "new", Size: GB, Created: jan1.Add(-12 * time.Hour)},
	}
	rep, err := Simulate(Input{Config: scenarioCConfig(t), Start: jan1, Months: 1, Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Policy.Months[0]
	if g := classOf(m, lifecycle.Glacier); g.Objects != 1 || g.EarlyDelete != 0 || !near(g.Transitions, 0.03/1000) {
		t.Errorf("GLACIER: %+v", g)
	}
	if ia := classOf(m, lifecycle.StandardIA); ia.Objects != 1 || ia.Cost() == 0 {
		t.Errorf("STANDARD_IA: %+v", ia)
	}
}

func TestSimulateInput(t *testing.T) {
	if _, err := Simulate(Input{Start: jan1}); err == nil {
		t.Error("no population and no objects: no error")
	}
	if _, err := Simulate(Input{Start: jan1, Objects: []lifecycle.Object{}, Population: &Population{}}); err == nil {
		t.Error("both: no error")
	}
}

func TestPrices(t *testing.T) {
	yamlFile := `
name: negotiated
classes:
  GLACIER: {storage_gb_month: 0.002, min_days: 60}
  DEEP_ARCHIVE:
    transition_per_1000: 0
`
	jsonFile := `{"name": "negotiated", "classes": {"GLACIER": {"storage_gb_month": 0.002, "min_days": 60},
	  "DEEP_ARCHIVE": {"transition_per_1000": 0}}}`
	for name, f := range map[string]string{"yaml": yamlFile, "json": jsonFile} {
		p, err := LoadPrices([]byte(f))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		def := DefaultPrices()
		g := p.Classes[lifecycle.Glacier]
		if p.Name != "negotiated" || g.StorageGBMonth != 0.002 || g.MinDays != 60 || g.TransitionPer1000 != 0.03 || g.OverheadBytes != 32*kib {
			t.Errorf("%s: GLACIER %+v", name, g)
		}
		if d := p.Classes[lifecycle.DeepArchive]; d.TransitionPer1000 != 0 || d.StorageGBMonth != 0.00099 {
			t.Errorf("%s: DEEP_ARCHIVE %+v", name, d)
		}
		if !reflect.DeepEqual(p.Classes[lifecycle.StandardIA], def.Classes[lifecycle.StandardIA]) {
			t.Errorf("%s: STANDARD_IA changed", name)
		}
	}
	for _, bad := range []string{
		"classes: {GLACIER: {storage: 1}}",
		"classes: {COLD: {storage_gb_month: 1}}",
		"classes: {GLACIER: {storage_gb_month: -1}}",
		"classes: {GLACIER: {min_days: -1}}",
		"currency: EUR",
		"classes: [1, 2]",
	} {
		if _, err := LoadPrices([]byte(bad)); err == nil {
			t.Errorf("LoadPrices(%q): no error", bad)
		}
	}

	// The override reaches the bill: 1 GiB in GLACIER for a month.
	p, _ := LoadPrices([]byte(yamlFile))
	obj := []lifecycle.Object{{Key: "k", Size: GB - 32*kib, StorageClass: lifecycle.Glacier, Created: jan1.AddDate(-1, 0, 0)}}
	rep, err := Simulate(Input{Start: jan1, Months: 1, Objects: obj, Prices: p})
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.002 + 8.0*kib/GB*0.023; !near(rep.Policy.Cost, want) {
		t.Errorf("GLACIER month at the file's price: got $%v, want $%v", rep.Policy.Cost, want)
	}
}

func TestParsePopulation(t *testing.T) {
	p, err := ParsePopulation([]byte(`
versioned: true
groups:
  - name: dumps
    prefix: db/
    tags: {tier: cold}
    initial: {count: 10, size: {median: 4MiB, p95: 64MiB}, age_days: 10, max_age_days: 100}
    arrivals: {per_month: 30, size: 1GB}
    deletion_rate: 0.1
  - prefix: logs/
    arrivals: {per_month: 1000, size: {fixed: 512KiB}}
    overwrite_rate: 0.2
`))
	if err != nil {
		t.Fatal(err)
	}
	g := p.Groups[0]
	if !p.Versioned || len(p.Groups) != 2 || g.Tags["tier"] != "cold" || g.Initial.Size != (Size{Median: 4 << 20, P95: 64 << 20}) ||
		g.Arrivals.Size.Fixed != 1e9 || p.Groups[1].Arrivals.Size.Fixed != 512*kib || g.Initial.MaxAgeDays != 100 {
		t.Errorf("parsed: %+v", p)
	}
	// A single group may sit at the top level.
	p, err = ParsePopulation([]byte("initial: {count: 5, size: 1MiB}\nprefix: a/\n"))
	if err != nil || len(p.Groups) != 1 || p.Groups[0].Prefix != "a/" {
		t.Errorf("top-level group: %+v, %v", p, err)
	}

	bad := []struct{ name, file, want string }{
		{"empty", "", "population"},
		{"no objects", "groups: [{prefix: a/}]", "no objects"},
		{"unknown field", "initial: {count: 5, size: 1MiB, colour: red}", "colour"},
		{"top level and groups", "prefix: a/\ninitial: {count: 1, size: 1B}\ngroups: [{initial: {count: 1, size: 1B}}]", "not both"},
		{"no size", "initial: {count: 5}", "no size"},
		{"bad size", "initial: {count: 5, size: 1 parsec}", "bad size"},
		{"negative size", "initial: {count: 5, size: -1KiB}", "bad size"},
		{"p95 below median", "initial: {count: 5, size: {median: 4MiB, p95: 1MiB}}", "below the median"},
		{"median without p95", "initial: {count: 5, size: {median: 4MiB}}", "median and p95"},
		{"fixed and median", "initial: {count: 5, size: {fixed: 1MiB, median: 4MiB, p95: 8MiB}}", "not both"},
		{"unknown size field", "initial: {count: 5, size: {mean: 4MiB}}", "mean"},
		{"negative count", "initial: {count: -5, size: 1MiB}", "count"},
		{"rate of 1", "initial: {count: 5, size: 1MiB}\ndeletion_rate: 1", "deletion_rate"},
		{"rates add up to 1", "initial: {count: 5, size: 1MiB}\ndeletion_rate: 0.5\noverwrite_rate: 0.5", "below 1"},
		{"negative age", "initial: {count: 5, size: 1MiB, age_days: -1}", "ages"},
		{"max age below age", "initial: {count: 5, size: 1MiB, age_days: 10, max_age_days: 5}", "ages"},
		{"second group bad", "groups: [{initial: {count: 1, size: 1B}}, {arrivals: {per_month: 1}}]", "groups[1]"},
	}
	for _, tt := range bad {
		_, err := ParsePopulation([]byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

func TestSizeQuantiles(t *testing.T) {
	q := Size{Median: 1 << 20, P95: 16 << 20}.quantiles(20)
	if len(q) != 20 || q[9] >= 1<<20 || q[10] <= 1<<20 || q[18] >= 16<<20 || q[19] <= 16<<20 {
		t.Errorf("lognormal quantiles around the median and p95: %v", q)
	}
	if q := (Size{Fixed: 7}).quantiles(20); len(q) != 1 || q[0] != 7 {
		t.Errorf("fixed: %v", q)
	}
}
