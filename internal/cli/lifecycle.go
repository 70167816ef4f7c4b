package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/lifecycle"
	"github.com/firnhq/firn/internal/lifecycle/document"
	"github.com/firnhq/firn/internal/lifecycle/preview"
	"github.com/firnhq/firn/internal/lifecycle/sim"
	"github.com/firnhq/firn/internal/s3client"
)

const lifecycleUsage = `Usage:
  firn lifecycle preview s3://bucket[/prefix] [--config FILE] [--days N] [--day-length D] [--json]
  firn lifecycle simulate [--config FILE] (--bucket s3://bucket[/prefix] | --population FILE)
                 [--months 36] [--start YYYY-MM-DD] [--prices FILE] [--json]

preview lists what each lifecycle rule will do to which objects, and when,
without doing it. simulate plays a policy forward month by month over a
live bucket's objects or a described population and prices it (default:
AWS us-east-1 list prices), against the same objects with no policy.

--config takes the JSON of aws s3api put-bucket-lifecycle-configuration
or S3's XML; without it the bucket's own configuration is read. Both
commands take --endpoint-url URL (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)
for firn or another S3-compatible server, --region and --profile;
credentials come from the AWS chain. See docs/lifecycle-simulate.md.
`

// runLifecycle runs `firn lifecycle ...`.
func runLifecycle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, lifecycleUsage)
		return ExitUsage
	}
	switch args[0] {
	case "preview":
		return lifecyclePreview(ctx, args[1:], stdout, stderr)
	case "simulate":
		return lifecycleSimulate(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, lifecycleUsage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "firn lifecycle: unknown command %q\n\n%s", args[0], lifecycleUsage)
	return ExitUsage
}

// s3Flags are the connection flags of the lifecycle commands.
type s3Flags struct{ endpoint, region, profile string }

func (f *s3Flags) register(fs *flag.FlagSet) {
	def := os.Getenv("AWS_ENDPOINT_URL_S3")
	if def == "" {
		def = os.Getenv("AWS_ENDPOINT_URL")
	}
	fs.StringVar(&f.endpoint, "endpoint-url", def, "URL of an S3-compatible endpoint (default AWS)")
	fs.StringVar(&f.region, "region", "", "region (default from the AWS config, else us-east-1)")
	fs.StringVar(&f.profile, "profile", "", "AWS shared-config profile")
}

// client builds the S3 client the way the backup commands do.
func (f *s3Flags) client(ctx context.Context) (*s3.Client, error) {
	return s3client.New(ctx, s3client.Config{Endpoint: f.endpoint, Region: f.region, Profile: f.profile})
}

// splitS3URL splits s3://bucket/prefix, keeping the prefix as given.
func splitS3URL(u string) (bucket, prefix string, err error) { return s3client.ParseURL(u) }

// loadPolicy reads --config, or the bucket's configuration when file is
// empty. what says where it came from.
func loadPolicy(ctx context.Context, c *s3.Client, bucket, file string) (doc document.Document, what string, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return document.Document{}, "", err
		}
		doc, err := document.Parse(b)
		if err != nil {
			return document.Document{}, "", fmt.Errorf("%s: %w", file, err)
		}
		return doc, file, nil
	}
	out, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &bucket})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchLifecycleConfiguration" {
			return document.Document{}, "", fmt.Errorf("bucket %s has no lifecycle configuration (give one with --config)", bucket)
		}
		return document.Document{}, "", fmt.Errorf("get lifecycle configuration of %s: %w", bucket, err)
	}
	// The SDK's rules marshal to the CLI's JSON shape, member names and
	// all; parsing that checks them as the server would.
	b, err := json.Marshal(struct {
		Rules                              []types.LifecycleRule
		TransitionDefaultMinimumObjectSize string
	}{out.Rules, string(out.TransitionDefaultMinimumObjectSize)})
	if err != nil {
		return document.Document{}, "", err
	}
	doc, err = document.ParseJSON(b)
	if err != nil {
		return document.Document{}, "", fmt.Errorf("lifecycle configuration of %s: %w", bucket, err)
	}
	return doc, "s3://" + bucket, nil
}

// listObjects lists the current objects under prefix, with their tags
// when a rule of cfg filters on tags (nil cfg: never).
func listObjects(ctx context.Context, c *s3.Client, bucket, prefix string, cfg *lifecycle.Configuration) ([]lifecycle.Object, error) {
	var objs []lifecycle.Object
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			obj := lifecycle.Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), Created: aws.ToTime(o.LastModified).UTC(),
				StorageClass: string(o.StorageClass)}
			if obj.StorageClass == "" {
				obj.StorageClass = lifecycle.Standard
			}
			if preview.NeedsTags(cfg, obj.Key) {
				t, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: o.Key})
				if err != nil {
					return nil, fmt.Errorf("tags of s3://%s/%s: %w", bucket, obj.Key, err)
				}
				obj.Tags = map[string]string{}
				for _, tag := range t.TagSet {
					obj.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
				}
			}
			objs = append(objs, obj)
		}
	}
	return objs, nil
}

// versioned reports whether the bucket's versioning is Enabled, so that
// expiration adds delete markers. If it cannot be read, it says so on
// stderr and answers false.
func versioned(ctx context.Context, c *s3.Client, bucket string, stderr io.Writer) bool {
	out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	if err != nil {
		fmt.Fprintf(stderr, "firn lifecycle: versioning of %s unknown (%v); taken as unversioned\n", bucket, err)
		return false
	}
	return out.Status == types.BucketVersioningStatusEnabled
}

func lifecyclePreview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firn lifecycle preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn s3Flags
	conn.register(fs)
	file := fs.String("config", "", "lifecycle configuration file (JSON or XML; default: the bucket's)")
	days := fs.Int("days", 0, "only actions due within this many days (0: all)")
	dayLength := fs.Duration("day-length", 24*time.Hour, "length of a lifecycle day (firn's --day-length)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "firn lifecycle preview: "+format+"\n", a...)
		return ExitFailure
	}
	if len(pos) != 1 || *days < 0 || *dayLength <= 0 {
		fmt.Fprint(stderr, lifecycleUsage)
		return ExitUsage
	}
	bucket, prefix, err := splitS3URL(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "firn lifecycle preview:", err)
		return ExitUsage
	}
	if *file != "" {
		if _, err := os.Stat(*file); err != nil {
			fmt.Fprintln(stderr, "firn lifecycle preview:", err)
			return ExitUsage
		}
	}
	c, err := conn.client(ctx)
	if err != nil {
		return fail("%v", err)
	}
	doc, from, err := loadPolicy(ctx, c, bucket, *file)
	if err != nil {
		return fail("%v", err)
	}
	objs, err := listObjects(ctx, c, bucket, prefix, doc.Config)
	if err != nil {
		return fail("%v", err)
	}
	ver := versioned(ctx, c, bucket, stderr)
	for i := range objs {
		objs[i].Versioned = ver
	}
	now := time.Now().UTC()
	var until time.Time
	if *days > 0 {
		until = now.Add(time.Duration(*days) * *dayLength)
	}
	plan := preview.Make(doc.Config, objs, lifecycle.Options{DayLength: *dayLength, MinimumSize: doc.MinimumSize}, now, until)
	if *asJSON {
		type action struct {
			Due          time.Time `json:"due"`
			Action       string    `json:"action"`
			StorageClass string    `json:"storage_class,omitempty"`
			RuleID       string    `json:"rule_id"`
		}
		type entry struct {
			preview.Entry
			Actions []action `json:"actions"`
		}
		out := struct {
			Bucket      string                `json:"bucket"`
			Prefix      string                `json:"prefix"`
			Config      string                `json:"config"`
			Versioned   bool                  `json:"versioned"`
			MinimumSize string                `json:"transition_default_minimum_object_size"`
			Now         time.Time             `json:"now"`
			Until       time.Time             `json:"until,omitzero"`
			Objects     int                   `json:"objects"`
			Entries     []entry               `json:"entries"`
			Rules       []preview.RuleSummary `json:"rules"`
		}{bucket, prefix, from, ver, doc.MinimumSize.String(), plan.Now, plan.Until, plan.Objects, []entry{}, plan.Rules}
		for _, e := range plan.Entries {
			x := entry{Entry: e}
			for _, a := range e.Actions {
				x.Actions = append(x.Actions, action{a.Due, a.Kind.String(), a.StorageClass, a.RuleID})
			}
			out.Entries = append(out.Entries, x)
		}
		return printJSON(stdout, stderr, out)
	}
	window := "all future actions"
	if *days > 0 {
		window = fmt.Sprintf("actions due by %s", formatDue(until, *dayLength))
	}
	vs := "unversioned"
	if ver {
		vs = "versioned"
	}
	fmt.Fprintf(stdout, "s3://%s/%s: %d objects, %d with actions (%s; rules from %s; bucket %s)\n\n",
		bucket, prefix, plan.Objects, len(plan.Entries), window, from, vs)
	if len(plan.Entries) > 0 {
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "OBJECT\tSIZE\tCLASS\tDUE\tACTION\tTO\tRULE")
		for _, e := range plan.Entries {
			for i, a := range e.Actions {
				due := formatDue(a.Due, *dayLength)
				if !a.Due.After(now) {
					due += " (due now)"
				}
				if i == 0 {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Key, human(e.Size), e.StorageClass, due, a.Kind, a.StorageClass, a.RuleID)
				} else {
					fmt.Fprintf(tw, "\t\t\t%s\t%s\t%s\t%s\n", due, a.Kind, a.StorageClass, a.RuleID)
				}
			}
		}
		tw.Flush()
		fmt.Fprintln(stdout)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSTATUS\tOBJECTS\tBYTES\tACTIONS")
	for i, r := range plan.Rules {
		var acts []string
		for _, k := range sortedKeys(r.Actions) {
			acts = append(acts, fmt.Sprintf("%s×%d", k, r.Actions[k]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", r.RuleID, doc.Config.Rules[i].Status, r.Objects, human(r.Bytes), strings.Join(acts, ", "))
	}
	tw.Flush()
	return ExitOK
}

// formatDue writes a due time as a date when it is a midnight (24-hour
// days), else as a timestamp.
func formatDue(t time.Time, day time.Duration) string {
	if day == 24*time.Hour && t.Equal(t.Truncate(24*time.Hour)) {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func lifecycleSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firn lifecycle simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn s3Flags
	conn.register(fs)
	file := fs.String("config", "", "lifecycle configuration file (JSON or XML; with --bucket, default: the bucket's)")
	bucketURL := fs.String("bucket", "", "simulate a live bucket's current objects: s3://bucket[/prefix]")
	popFile := fs.String("population", "", "simulate a described population (YAML or JSON)")
	months := fs.Int("months", sim.DefaultMonths, "calendar months to simulate")
	start := fs.String("start", "", "first day, YYYY-MM-DD (default: today, UTC)")
	pricesFile := fs.String("prices", "", "price table overriding the AWS us-east-1 defaults (YAML or JSON)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	usagef := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "firn lifecycle simulate: "+format+"\n", a...)
		return ExitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "firn lifecycle simulate: "+format+"\n", a...)
		return ExitFailure
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected arguments %q", pos)
	case (*bucketURL == "") == (*popFile == ""):
		return usagef("give --bucket s3://bucket or --population FILE (one of the two)")
	case *popFile != "" && *file == "":
		return usagef("--population needs --config")
	case *months <= 0 || *months > 1200:
		return usagef("--months must be between 1 and 1200")
	}
	in := sim.Input{Months: *months, Start: time.Now().UTC().Truncate(24 * time.Hour)}
	if *start != "" {
		t, err := time.Parse("2006-01-02", *start)
		if err != nil {
			return usagef("--start %q: want YYYY-MM-DD", *start)
		}
		in.Start = t
	}
	in.Prices = sim.DefaultPrices()
	if *pricesFile != "" {
		b, err := os.ReadFile(*pricesFile)
		if err != nil {
			return usagef("%v", err)
		}
		if in.Prices, err = sim.LoadPrices(b); err != nil {
			return usagef("%s: %v", *pricesFile, err)
		}
	}
	var doc document.Document
	var from, what string
	if *popFile != "" {
		b, err := os.ReadFile(*popFile)
		if err != nil {
			return usagef("%v", err)
		}
		if in.Population, err = sim.ParsePopulation(b); err != nil {
			return usagef("%s: %v", *popFile, err)
		}
		b, err = os.ReadFile(*file)
		if err != nil {
			return usagef("%v", err)
		}
		if doc, err = document.Parse(b); err != nil {
			return usagef("%s: %v", *file, err)
		}
		from, what = *file, *popFile
		if in.Population.Versioned {
			what += " (versioned)"
		}
	} else {
		bucket, prefix, err := splitS3URL(*bucketURL)
		if err != nil {
			return usagef("%v", err)
		}
		c, err := conn.client(ctx)
		if err != nil {
			return fail("%v", err)
		}
		if doc, from, err = loadPolicy(ctx, c, bucket, *file); err != nil {
			return fail("%v", err)
		}
		if in.Objects, err = listObjects(ctx, c, bucket, prefix, doc.Config); err != nil {
			return fail("%v", err)
		}
		if in.Objects == nil {
			in.Objects = []lifecycle.Object{}
		}
		in.Versioned = versioned(ctx, c, bucket, stderr)
		what = fmt.Sprintf("%s (%d objects", *bucketURL, len(in.Objects))
		if in.Versioned {
			what += ", versioned"
		}
		what += ")"
	}
	in.Config, in.MinimumSize = doc.Config, doc.MinimumSize
	rep, err := sim.Simulate(in)
	if err != nil {
		return fail("%v", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, struct {
			Config     string `json:"config"`
			Population string `json:"population"`
			sim.Report
		}{from, what, rep})
	}
	printSimulation(stdout, rep, from, what)
	return ExitOK
}

// printSimulation writes the month-by-month table and the totals.
func printSimulation(w io.Writer, rep sim.Report, from, what string) {
	fmt.Fprintf(w, "Policy %s over %s: %d months from %s; prices: %s\n\n", from, what, rep.Months,
		rep.Start.Format("2006-01-02"), rep.Prices)
	seen := map[string]bool{}
	for _, m := range rep.Policy.Months {
		for _, c := range m.Classes {
			seen[c.Class] = true
		}
	}
	var classes []string
	for _, c := range sim.ClassOrder {
		if seen[c] {
			classes = append(classes, c)
			delete(seen, c)
		}
	}
	for c := range seen {
		classes = append(classes, c)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	head := []string{"MONTH"}
	for _, c := range classes {
		head = append(head, shortClass(c)+" GB")
	}
	for _, c := range classes {
		head = append(head, shortClass(c)+" $")
	}
	head = append(head, "TOTAL $", "NO POLICY $")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	type sums struct{ storage, overhead, early, transitions, monitoring float64 }
	var s sums
	for i, m := range rep.Policy.Months {
		by := map[string]sim.ClassMonth{}
		for _, c := range m.Classes {
			by[c.Class] = c
			s.storage += c.Storage
			s.overhead += c.Overhead
			s.early += c.EarlyDelete
			s.transitions += c.Transitions
			s.monitoring += c.Monitoring
		}
		label := m.Start.Format("2006-01")
		if rep.Start.Day() != 1 {
			label = m.Start.Format("2006-01-02")
		}
		row := []string{label}
		for _, c := range classes {
			row = append(row, amount(by[c].Bytes/sim.GB))
		}
		for _, c := range classes {
			row = append(row, amount(by[c].Cost()))
		}
		row = append(row, amount(m.Cost), amount(rep.Baseline.Months[i].Cost))
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintf(w, "\nWith the policy:    $%s  (storage $%s, archive overhead at STANDARD $%s, early deletion $%s, transitions $%s, monitoring $%s)\n",
		amount(rep.Policy.Cost), amount(s.storage), amount(s.overhead), amount(s.early), amount(s.transitions), amount(s.monitoring))
	fmt.Fprintf(w, "Without the policy: $%s  (no lifecycle rules)\n", amount(rep.Baseline.Cost))
	verb := "saves"
	saving := rep.Savings
	if saving < 0 {
		verb, saving = "costs an extra", -saving
	}
	pct := 0.0
	if rep.Baseline.Cost > 0 {
		pct = 100 * saving / rep.Baseline.Cost
	}
	fmt.Fprintf(w, "The policy %s $%s over %d months (%.1f%%).\n", verb, amount(saving), rep.Months, pct)
}

// amount formats GB or dollars: two decimals, or two significant digits
// for amounts too small to show that way.
func amount(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 0.01 || v <= -0.01:
		return fmt.Sprintf("%.2f", v)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// shortClass shortens a class name for a column heading.
func shortClass(c string) string {
	switch c {
	case lifecycle.IntelligentTiering:
		return "INT_TIER"
	case lifecycle.ReducedRedundancy:
		return "RRS"
	}
	return c
}
