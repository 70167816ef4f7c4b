package sim

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Population describes objects a bucket will hold: groups of objects
// under a prefix with tags, each with initial objects, monthly arrivals,
// and the rates at which live objects are deleted or overwritten.
type Population struct {
	// Versioned makes the bucket's versioning Enabled: deleted and
	// overwritten objects become noncurrent versions, and expiration adds
	// a delete marker.
	Versioned bool
	Groups    []Group
}

// Group is a kind of object in the population.
type Group struct {
	Name   string            `yaml:"name"`
	Prefix string            `yaml:"prefix"`
	Tags   map[string]string `yaml:"tags"`
	// Initial objects exist when the simulation starts.
	Initial Initial `yaml:"initial"`
	// Arrivals are new objects, spread evenly over the days of each month.
	Arrivals Arrivals `yaml:"arrivals"`
	// DeletionRate and OverwriteRate are the fractions of the live
	// objects deleted, or replaced by a new object of the same size, per
	// month (a 30.44-day month), each between 0 and 1.
	DeletionRate  float64 `yaml:"deletion_rate"`
	OverwriteRate float64 `yaml:"overwrite_rate"`
}

// Initial describes the objects present on the first day.
type Initial struct {
	Count float64 `yaml:"count"`
	Size  Size    `yaml:"size"`
	// AgeDays is the age of the objects on the first day; with
	// MaxAgeDays, ages are spread evenly between the two.
	AgeDays    int `yaml:"age_days"`
	MaxAgeDays int `yaml:"max_age_days"`
}

// Arrivals describes the new objects of each month.
type Arrivals struct {
	PerMonth float64 `yaml:"per_month"`
	Size     Size    `yaml:"size"`
}

// Size is an object size distribution: a fixed size, or lognormal with
// the given median and 95th percentile. In a file it is a size ("4MiB"),
// {fixed: 4MiB} or {median: 4MiB, p95: 64MiB}. Sizes take B, KB, MB, GB,
// TB (powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024).
type Size struct {
	Fixed  int64
	Median int64
	P95    int64
}

// IsZero reports that no size was given.
func (s Size) IsZero() bool { return s == Size{} }

// UnmarshalYAML reads the three forms of a size.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v, err := ParseBytes(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		*s = Size{Fixed: v}
		return nil
	}
	var m struct {
		Fixed  *string `yaml:"fixed"`
		Median *string `yaml:"median"`
		P95    *string `yaml:"p95"`
	}
	dec := func(p *string, dst *int64) error {
		if p == nil {
			return nil
		}
		v, err := ParseBytes(*p)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		*dst = v
		return nil
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	// Decode does not refuse unknown keys; look for them here.
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "fixed", "median", "p95":
		default:
			return fmt.Errorf("line %d: size: unknown field %q (want fixed, or median and p95)", n.Content[i].Line, k)
		}
	}
	var out Size
	for _, x := range []struct {
		p   *string
		dst *int64
	}{{m.Fixed, &out.Fixed}, {m.Median, &out.Median}, {m.P95, &out.P95}} {
		if err := dec(x.p, x.dst); err != nil {
			return err
		}
	}
	switch {
	case m.Fixed != nil && (m.Median != nil || m.P95 != nil):
		return fmt.Errorf("line %d: size: give fixed, or median and p95, not both", n.Line)
	case m.Fixed == nil && (m.Median == nil || m.P95 == nil):
		return fmt.Errorf("line %d: size: a lognormal size needs both median and p95", n.Line)
	}
	*s = out
	return nil
}

// ParseBytes reads a byte count: "123", "4KB", "1.5GiB".
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*mult > 1<<62 {
		return 0, fmt.Errorf("bad size %q (want e.g. 512KiB, 4MB, 1GiB)", s)
	}
	return int64(math.Round(v * mult)), nil
}

// ParsePopulation reads a population file (YAML, or JSON). A file with a
// single kind of object may put a group's fields at the top level instead
// of under groups.
func ParsePopulation(data []byte) (*Population, error) {
	var f struct {
		Versioned bool `yaml:"versioned"`
		Group     `yaml:",inline"`
		Groups    []Group `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("population: %w", err)
	}
	p := &Population{Versioned: f.Versioned, Groups: f.Groups}
	inline := f.Group.Name != "" || f.Group.Prefix != "" || len(f.Group.Tags) > 0 || f.Group.Initial != (Initial{}) ||
		f.Group.Arrivals != (Arrivals{}) || f.Group.DeletionRate != 0 || f.Group.OverwriteRate != 0
	switch {
	case inline && len(f.Groups) > 0:
		return nil, fmt.Errorf("population: give the group's fields at the top level or a list of groups, not both")
	case inline:
		p.Groups = []Group{f.Group}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Validate checks the population for values that cannot be simulated.
func (p *Population) Validate() error {
	if len(p.Groups) == 0 {
		return fmt.Errorf("population: no objects: give initial objects or arrivals")
	}
	some := false
	for i, g := range p.Groups {
		where := fmt.Sprintf("population: groups[%d]", i)
		if len(p.Groups) == 1 {
			where = "population"
		}
		if g.Name != "" {
			where += " (" + g.Name + ")"
		}
		checkSize := func(what string, count float64, s Size) error {
			switch {
			case count < 0 || math.IsNaN(count) || math.IsInf(count, 0):
				return fmt.Errorf("%s: %s: count must be a number of objects, not %v", where, what, count)
			case count > 0 && s.IsZero():
				return fmt.Errorf("%s: %s: no size", where, what)
			case s.Fixed == 0 && s.Median > 0 && s.P95 < s.Median:
				return fmt.Errorf("%s: %s: p95 (%d) is below the median (%d)", where, what, s.P95, s.Median)
			case s.Fixed == 0 && s.P95 > 0 && s.Median == 0:
				return fmt.Errorf("%s: %s: a lognormal size needs a median above 0", where, what)
			}
			return nil
		}
		if err := checkSize("initial", g.Initial.Count, g.Initial.Size); err != nil {
			return err
		}
		if err := checkSize("arrivals", g.Arrivals.PerMonth, g.Arrivals.Size); err != nil {
			return err
		}
		if g.Initial.AgeDays < 0 || g.Initial.MaxAgeDays < 0 || (g.Initial.MaxAgeDays > 0 && g.Initial.MaxAgeDays < g.Initial.AgeDays) {
			return fmt.Errorf("%s: initial: ages must be 0 or more, max_age_days at least age_days", where)
		}
		for _, r := range []struct {
			name string
			v    float64
		}{{"deletion_rate", g.DeletionRate}, {"overwrite_rate", g.OverwriteRate}} {
			if r.v < 0 || r.v >= 1 || math.IsNaN(r.v) {
				return fmt.Errorf("%s: %s must be a fraction per month, at least 0 and below 1, not %v", where, r.name, r.v)
			}
		}
		if g.DeletionRate+g.OverwriteRate >= 1 {
			return fmt.Errorf("%s: deletion_rate + overwrite_rate must stay below 1", where)
		}
		if g.Initial.Count > 0 || g.Arrivals.PerMonth > 0 {
			some = true
		}
	}
	if !some {
		return fmt.Errorf("population: no objects: give initial objects or arrivals")
	}
	return nil
}

// quantiles returns n sizes standing for the distribution: the sizes at
// the middle of n equal slices of probability. A fixed size is one.
func (s Size) quantiles(n int) []int64 {
	if s.Fixed > 0 || s.Median == 0 {
		return []int64{s.Fixed}
	}
	mu := math.Log(float64(s.Median))
	sigma := (math.Log(float64(s.P95)) - mu) / z95
	out := make([]int64, n)
	for i := range n {
		p := (float64(i) + 0.5) / float64(n)
		out[i] = int64(math.Round(math.Exp(mu + sigma*math.Sqrt2*math.Erfinv(2*p-1))))
	}
	return out
}

// z95 is the standard normal's 95th percentile.
const z95 = 1.6448536269514722
