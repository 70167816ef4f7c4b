package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/firnhq/firn/internal/bulkrestore"
	"github.com/firnhq/firn/internal/lifecycle/sim"
	"github.com/firnhq/firn/s3archive"
)

const restoreUsage = `Usage:
  firn restore s3://BUCKET/PREFIX [--manifest FILE] [--tier Standard|Bulk|Expedited] [--days N]
               [--wait] [--dry-run] [--concurrency N] [--rate N] [--prices FILE] [--json]
  firn restore status s3://BUCKET/PREFIX [--manifest FILE] [--json]

Restores every archived object under PREFIX (or each key listed in
FILE, one per line). It first prints the plan: objects and bytes per
class, restore requests, the estimated cost under a price table (AWS
us-east-1 list prices unless --prices names a file) and the expected
completion per tier; --dry-run stops there. Objects already restoring or
restored are not requested again, so running it again continues where an
interrupted run stopped. Works against firn or any S3 endpoint.

Exit codes: 0 done, 1 some requests failed or the wait was cut short, 2 usage.
`

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	status := len(args) > 0 && args[0] == "status"
	if status {
		args = args[1:]
	}
	fs := flag.NewFlagSet("firn restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, restoreUsage); fs.PrintDefaults() }
	var conn s3Flags
	conn.register(fs)
	manifest := fs.String("manifest", "", "file of keys to restore, one per line (instead of every object under the prefix)")
	tier := fs.String("tier", s3archive.TierStandard, "restore tier: Expedited, Standard or Bulk")
	days := fs.Int("days", 1, "days the restored copies live")
	wait := fs.Bool("wait", false, "wait until every object is readable")
	dry := fs.Bool("dry-run", false, "print the plan only")
	conc := fs.Int("concurrency", 16, "requests in flight")
	rate := fs.Float64("rate", 100, "restore requests per second at most (0: no limit)")
	pricesFile := fs.String("prices", "", "price table file (YAML or JSON; default AWS us-east-1 list prices)")
	poll := fs.Duration("poll", 5*time.Second, "with --wait, how often to check")
	owner := fs.String("expected-bucket-owner", "", "account id the bucket must belong to")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return ExitUsage
	}
	bucket, prefix, err := splitS3URL(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "firn restore:", err)
		return ExitUsage
	}
	if !validTier(*tier) {
		fmt.Fprintf(stderr, "firn restore: --tier %q: want Expedited, Standard or Bulk\n", *tier)
		return ExitUsage
	}
	if *days < 1 {
		fmt.Fprintln(stderr, "firn restore: --days must be at least 1")
		return ExitUsage
	}
	prices := sim.DefaultPrices()
	if *pricesFile != "" {
		b, err := os.ReadFile(*pricesFile)
		if err == nil {
			prices, err = sim.LoadPrices(b)
		}
		if err != nil {
			fmt.Fprintln(stderr, "firn restore:", err)
			return ExitUsage
		}
	}
	var keys []string
	if *manifest != "" {
		if keys, err = readManifest(*manifest); err != nil {
			fmt.Fprintln(stderr, "firn restore:", err)
			return ExitUsage
		}
	}
	c, err := conn.client(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "firn restore:", err)
		return ExitFailure
	}
	items, err := bulkrestore.Scan(ctx, c, bucket, prefix, keys, *conc, *owner)
	if err != nil {
		fmt.Fprintln(stderr, "firn restore:", s3Error(err))
		return ExitFailure
	}
	if status {
		return restoreStatus(items, *asJSON, stdout, stderr)
	}
	plan, err := bulkrestore.MakePlan(items, *tier, *days, prices)
	if err != nil {
		fmt.Fprintln(stderr, "firn restore:", err)
		return ExitUsage
	}
	out := stdout
	if *asJSON {
		out = stderr // the plan as text goes to stderr; stdout gets the JSON
	}
	printPlan(out, plan)
	if *dry {
		if *asJSON {
			return printJSON(stdout, stderr, map[string]any{"plan": plan})
		}
		return ExitOK
	}
	bar := newProgressLine(stderr)
	reqErr := bulkrestore.Request(ctx, c, bucket, plan, *conc, *rate, *owner, func(p bulkrestore.Progress) {
		bar.show("requested %d/%d restores (%d refused)", p.Requested, p.Total, p.Failed)
	})
	bar.done()
	code := ExitOK
	if reqErr != nil {
		fmt.Fprintln(stderr, "firn restore: some requests failed:", s3Error(reqErr))
		code = ExitFailure
	}
	result := map[string]any{"plan": plan, "requested": len(plan.ToRequest)}
	if *wait {
		start := time.Now()
		err := bulkrestore.Wait(ctx, c, bucket, items, *conc, *poll, *owner, func(p bulkrestore.Progress) {
			bar.show("ready %d/%d objects (%s), %d restoring, %s", p.Ready, p.Total, human(p.ReadyBytes), p.Waiting, time.Since(start).Round(time.Second))
		})
		bar.done()
		if err != nil {
			fmt.Fprintln(stderr, "firn restore: wait:", err, "(run it again to continue)")
			code = ExitFailure
		} else {
			fmt.Fprintf(stderr, "all %d archived objects are readable\n", plan.Objects-plan.NotArchive)
			result["ready"] = true
		}
	}
	if *asJSON {
		printJSON(stdout, stderr, result)
	}
	return code
}

func readManifest(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" && !strings.HasPrefix(k, "#") {
			keys = append(keys, k)
		}
	}
	return keys, sc.Err()
}

func printPlan(w io.Writer, p *bulkrestore.Plan) {
	fmt.Fprintf(w, "restore plan: %s tier, copies kept %d days, prices: %s\n", p.Tier, p.Days, p.Prices)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tOBJECTS\tBYTES\tTO REQUEST\tRESTORING\tRESTORED\tEST. COST\tEXPECTED WITHIN")
	for _, name := range p.Classes() {
		cp := p.ByClass[name]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t$%.4f\t%s\n", name, cp.Objects, human(cp.Bytes), cp.Requests, cp.Restoring, cp.Restored,
			cp.Cost, time.Duration(cp.ExpectedSeconds*float64(time.Second)))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d objects scanned, %d not archived; %d restore requests for %s, estimated $%.4f\n",
		p.Objects, p.NotArchive, p.Requests, human(p.Bytes), p.Cost)
}

func restoreStatus(items []bulkrestore.Item, asJSON bool, stdout, stderr io.Writer) int {
	if asJSON {
		if items == nil {
			items = []bulkrestore.Item{}
		}
		return printJSON(stdout, stderr, items)
	}
	var archived, restoring, restored int
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tCLASS\tSIZE\tSTATE")
	for _, it := range items {
		state := "readable"
		switch {
		case !it.Archived:
		case it.Restoring:
			state, restoring = "restoring", restoring+1
		case !it.RestoredUntil.IsZero():
			state, restored = "restored until "+it.RestoredUntil.UTC().Format(time.RFC3339), restored+1
		default:
			state, archived = "archived", archived+1
		}
		class := it.StorageClass
		if it.ArchiveStatus != "" {
			class += "/" + it.ArchiveStatus
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Key, class, human(it.Size), state)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d objects: %d archived, %d restoring, %d restored\n", len(items), archived, restoring, restored)
	return ExitOK
}

// progressLine redraws one status line on a terminal-like writer.
type progressLine struct {
	w    io.Writer
	last time.Time
	text string
}

func newProgressLine(w io.Writer) *progressLine { return &progressLine{w: w} }

func (p *progressLine) show(format string, args ...any) {
	p.text = fmt.Sprintf(format, args...)
	if time.Since(p.last) >= 200*time.Millisecond {
		fmt.Fprintf(p.w, "\r%s", p.text)
		p.last = time.Now()
	}
}

func (p *progressLine) done() {
	if p.text != "" {
		fmt.Fprintf(p.w, "\r%s\n", p.text)
		p.text = ""
	}
}
