package sim

import (
	"bytes"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/firnhq/firn/internal/lifecycle"
)

// GB is the unit prices are quoted per: AWS bills a "GB" of 2^30 bytes.
const GB = 1 << 30

// ClassPrice is what one storage class costs and the billing rules that
// go with it.
type ClassPrice struct {
	// StorageGBMonth is the storage price in dollars per GB-month (for
	// INTELLIGENT_TIERING, the Frequent Access tier).
	StorageGBMonth float64 `yaml:"storage_gb_month" json:"storage_gb_month"`
	// TransitionPer1000 is the price of 1,000 lifecycle transitions into
	// the class.
	TransitionPer1000 float64 `yaml:"transition_per_1000" json:"transition_per_1000"`
	// MinDays is the minimum storage duration: an object deleted,
	// overwritten or transitioned out sooner is billed for the rest.
	MinDays int `yaml:"min_days" json:"min_days"`
	// MinBillableBytes is the size smaller objects are billed as.
	MinBillableBytes int64 `yaml:"min_billable_bytes" json:"min_billable_bytes"`
	// OverheadBytes is added to every object and billed at this class's
	// rate; OverheadStandardBytes is added and billed at STANDARD's rate
	// (GLACIER and DEEP_ARCHIVE: 32 KiB and 8 KiB).
	OverheadBytes         int64 `yaml:"overhead_bytes" json:"overhead_bytes"`
	OverheadStandardBytes int64 `yaml:"overhead_standard_bytes" json:"overhead_standard_bytes"`
	// Intelligent-Tiering only: the Infrequent (after 30 days without
	// access) and Archive Instant (after 90) tier prices, and the
	// monitoring fee per 1,000 objects of at least 128 KiB per month.
	InfrequentGBMonth     float64 `yaml:"infrequent_gb_month" json:"infrequent_gb_month"`
	ArchiveInstantGBMonth float64 `yaml:"archive_instant_gb_month" json:"archive_instant_gb_month"`
	MonitoringPer1000     float64 `yaml:"monitoring_per_1000" json:"monitoring_per_1000"`
	// RetrievalGB and RestorePer1000 price restores by tier (Expedited,
	// Standard, Bulk): per GB read and per 1,000 restore requests. For
	// INTELLIGENT_TIERING they price its archive tiers' restores.
	RetrievalGB    map[string]float64 `yaml:"retrieval_gb" json:"retrieval_gb,omitempty"`
	RestorePer1000 map[string]float64 `yaml:"restore_per_1000" json:"restore_per_1000,omitempty"`
}

// RestoreCost is what restoring objects of bytes in class at tier
// costs.
func (c ClassPrice) RestoreCost(tier string, objects, bytes int64) float64 {
	return c.RetrievalGB[tier]*float64(bytes)/GB + c.RestorePer1000[tier]*float64(objects)/1000
}

// Prices is a price table: one ClassPrice per storage class.
type Prices struct {
	// Name says where the prices come from.
	Name    string                `yaml:"name" json:"name"`
	Classes map[string]ClassPrice `yaml:"classes" json:"classes"`
}

// DefaultPrices returns AWS's us-east-1 list prices (spec §1.3, which
// marks them secondary: verify at https://aws.amazon.com/s3/pricing/).
// STANDARD is priced at its first tier (first 50 TB) throughout.
func DefaultPrices() Prices {
	const kib = 1 << 10
	return Prices{
		Name: "AWS us-east-1 list prices (spec §1.3)",
		Classes: map[string]ClassPrice{
			lifecycle.Standard: {StorageGBMonth: 0.023},
			lifecycle.StandardIA: {StorageGBMonth: 0.0125, TransitionPer1000: 0.01, MinDays: 30,
				MinBillableBytes: 128 * kib},
			lifecycle.OnezoneIA: {StorageGBMonth: 0.01, TransitionPer1000: 0.01, MinDays: 30,
				MinBillableBytes: 128 * kib},
			lifecycle.IntelligentTiering: {StorageGBMonth: 0.023, TransitionPer1000: 0.01,
				InfrequentGBMonth: 0.0125, ArchiveInstantGBMonth: 0.004, MonitoringPer1000: 0.0025,
				// Standard and Bulk restores are free; Expedited (Archive
				// Access only) is charged as GLACIER's.
				RetrievalGB: map[string]float64{"Expedited": 0.03}, RestorePer1000: map[string]float64{"Expedited": 10}},
			lifecycle.GlacierIR: {StorageGBMonth: 0.004, TransitionPer1000: 0.02, MinDays: 90,
				MinBillableBytes: 128 * kib},
			lifecycle.Glacier: {StorageGBMonth: 0.0036, TransitionPer1000: 0.03, MinDays: 90,
				OverheadBytes: 32 * kib, OverheadStandardBytes: 8 * kib,
				RetrievalGB:    map[string]float64{"Expedited": 0.03, "Standard": 0.01, "Bulk": 0},
				RestorePer1000: map[string]float64{"Expedited": 10, "Standard": 0.05, "Bulk": 0}},
			lifecycle.DeepArchive: {StorageGBMonth: 0.00099, TransitionPer1000: 0.05, MinDays: 180,
				OverheadBytes: 32 * kib, OverheadStandardBytes: 8 * kib,
				RetrievalGB:    map[string]float64{"Standard": 0.02, "Bulk": 0.0025},
				RestorePer1000: map[string]float64{"Standard": 0.10, "Bulk": 0.025}},
		},
	}
}

// priceFile is the file form: every field optional, so a file changes
// only what it names.
type priceFile struct {
	Name    *string                   `yaml:"name"`
	Classes map[string]classPriceFile `yaml:"classes"`
}

type classPriceFile struct {
	StorageGBMonth        *float64           `yaml:"storage_gb_month"`
	TransitionPer1000     *float64           `yaml:"transition_per_1000"`
	MinDays               *int               `yaml:"min_days"`
	MinBillableBytes      *int64             `yaml:"min_billable_bytes"`
	OverheadBytes         *int64             `yaml:"overhead_bytes"`
	OverheadStandardBytes *int64             `yaml:"overhead_standard_bytes"`
	InfrequentGBMonth     *float64           `yaml:"infrequent_gb_month"`
	ArchiveInstantGBMonth *float64           `yaml:"archive_instant_gb_month"`
	MonitoringPer1000     *float64           `yaml:"monitoring_per_1000"`
	RetrievalGB           map[string]float64 `yaml:"retrieval_gb"`
	RestorePer1000        map[string]float64 `yaml:"restore_per_1000"`
}

// LoadPrices reads a price file (YAML, or JSON, which YAML reads too)
// over DefaultPrices: classes and fields the file names replace the
// defaults, the rest stay. Unknown fields, unknown classes and negative
// values are errors.
func LoadPrices(data []byte) (Prices, error) {
	var f priceFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return Prices{}, fmt.Errorf("price file: %w", err)
	}
	p := DefaultPrices()
	p.Name = "AWS us-east-1 list prices with overrides"
	if f.Name != nil {
		p.Name = *f.Name
	}
	names := make([]string, 0, len(f.Classes))
	for n := range f.Classes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n != lifecycle.Standard && !lifecycle.ValidTransitionClass(n) {
			return Prices{}, fmt.Errorf("price file: unknown storage class %q", n)
		}
		cf, cp := f.Classes[n], p.Classes[n]
		floats := []struct {
			v   *float64
			dst *float64
			f   string
		}{
			{cf.StorageGBMonth, &cp.StorageGBMonth, "storage_gb_month"},
			{cf.TransitionPer1000, &cp.TransitionPer1000, "transition_per_1000"},
			{cf.InfrequentGBMonth, &cp.InfrequentGBMonth, "infrequent_gb_month"},
			{cf.ArchiveInstantGBMonth, &cp.ArchiveInstantGBMonth, "archive_instant_gb_month"},
			{cf.MonitoringPer1000, &cp.MonitoringPer1000, "monitoring_per_1000"},
		}
		for _, x := range floats {
			if x.v == nil {
				continue
			}
			if *x.v < 0 {
				return Prices{}, fmt.Errorf("price file: %s.%s is negative", n, x.f)
			}
			*x.dst = *x.v
		}
		ints := []struct {
			v   *int64
			dst *int64
			f   string
		}{
			{cf.MinBillableBytes, &cp.MinBillableBytes, "min_billable_bytes"},
			{cf.OverheadBytes, &cp.OverheadBytes, "overhead_bytes"},
			{cf.OverheadStandardBytes, &cp.OverheadStandardBytes, "overhead_standard_bytes"},
		}
		for _, x := range ints {
			if x.v == nil {
				continue
			}
			if *x.v < 0 {
				return Prices{}, fmt.Errorf("price file: %s.%s is negative", n, x.f)
			}
			*x.dst = *x.v
		}
		if cf.MinDays != nil {
			if *cf.MinDays < 0 {
				return Prices{}, fmt.Errorf("price file: %s.min_days is negative", n)
			}
			cp.MinDays = *cf.MinDays
		}
		for _, m := range []struct {
			v   map[string]float64
			dst *map[string]float64
			f   string
		}{{cf.RetrievalGB, &cp.RetrievalGB, "retrieval_gb"}, {cf.RestorePer1000, &cp.RestorePer1000, "restore_per_1000"}} {
			for tier, v := range m.v {
				if tier != "Expedited" && tier != "Standard" && tier != "Bulk" {
					return Prices{}, fmt.Errorf("price file: %s.%s: unknown tier %q", n, m.f, tier)
				}
				if v < 0 {
					return Prices{}, fmt.Errorf("price file: %s.%s.%s is negative", n, m.f, tier)
				}
				merged := map[string]float64{}
				for k, x := range *m.dst {
					merged[k] = x
				}
				merged[tier] = v
				*m.dst = merged
			}
		}
		p.Classes[n] = cp
	}
	return p, nil
}
