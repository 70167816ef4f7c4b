package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firnhq/firn/internal/bulkrestore"
	"github.com/firnhq/firn/internal/lifecycle/sim"
	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/notify/target"
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

Notifications: --notify DEST (repeatable) sends S3 event messages (AWS's
JSON), one per object: ObjectRestore:Post for each object whose restore
this run requested or found running (after the requests), and with
--wait ObjectRestore:Completed for each of them as it becomes readable.
Objects already restored send nothing. DEST is an https:// or http://
webhook (--notify-secret-env VAR names the variable holding its HMAC
secret), nats://HOST:PORT/SUBJECT[?stream=NAME] (JetStream; without
stream, a stream capturing SUBJECT must exist) or an email address
(mailto:ADDR or ADDR: one email per object, via FIRN_SMTP_URL, from
FIRN_SMTP_FROM). Undelivered notifications are warnings (and --json's
"notify_errors"), not failures: the exit code does not change.

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
	var nf notifyFlags
	nf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if status && len(nf.dests) > 0 {
		fmt.Fprintln(stderr, "firn restore status:", errNotifyStatus)
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
	nt, err := nf.open(ctx, "firn restore", os.Getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "firn restore:", err)
		return ExitUsage
	}
	defer nt.close()
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
	var restoring map[string]bool // keys whose restore this run initiated or found running
	if nt != nil {
		nt.beforeWarn = bar.done
		restoring = initiated(ctx, c, bucket, items, plan, reqErr != nil, *conc, *owner)
		nt.send(ctx, postMessages(c.Options().Region, bucket, items, restoring))
	}
	if *wait {
		start := time.Now()
		progress := func(p bulkrestore.Progress) {
			bar.show("ready %d/%d objects (%s), %d restoring, %s", p.Ready, p.Total, human(p.ReadyBytes), p.Waiting, time.Since(start).Round(time.Second))
		}
		var err error
		if nt == nil {
			err = bulkrestore.Wait(ctx, c, bucket, items, *conc, *poll, *owner, progress)
		} else {
			region := c.Options().Region
			err = bulkrestore.WaitEach(ctx, c, bucket, items, *conc, *poll, *owner, progress, func(ready []bulkrestore.Ready) {
				var msgs []target.Message
				for _, r := range ready {
					if restoring[r.Key] {
						msgs = append(msgs, restoreMessage(notify.Event{Name: eventRestoreCompleted, Time: r.At, Region: region,
							Bucket: bucket, Key: r.Key, Size: r.Size, RestoreExpiry: r.RestoredUntil, RestoreClass: r.StorageClass}, ""))
					}
				}
				nt.send(ctx, msgs)
			})
		}
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
		nt.addCounts(result)
		printJSON(stdout, stderr, result)
	}
	return code
}

// initiated returns the keys of the archived objects whose restore this
// run requested or found running. When some requests failed (or were
// cut short), the objects the plan requested are read back to learn
// which restores run.
func initiated(ctx context.Context, c *s3.Client, bucket string, items []bulkrestore.Item, plan *bulkrestore.Plan, failed bool,
	conc int, owner string) map[string]bool {
	keys := map[string]bool{}
	for _, it := range items {
		if it.Archived && it.Restoring {
			keys[it.Key] = true
		}
	}
	if !failed {
		for _, it := range plan.ToRequest {
			keys[it.Key] = true
		}
		return keys
	}
	sts := make([]s3archive.Status, len(plan.ToRequest))
	ok := make([]bool, len(plan.ToRequest))
	forEach(ctx, conc, len(plan.ToRequest), func(i int) {
		st, err := s3archive.Head(ctx, c, bucket, plan.ToRequest[i].Key, s3archive.Options{ExpectedBucketOwner: owner})
		sts[i], ok[i] = st, err == nil
	})
	for i, it := range plan.ToRequest {
		if ok[i] && (sts[i].Restoring || !sts[i].RestoredUntil.IsZero()) {
			keys[it.Key] = true
		}
	}
	return keys
}

// postMessages returns the ObjectRestore:Post messages of the items in
// keys, in the items' order.
func postMessages(region, bucket string, items []bulkrestore.Item, keys map[string]bool) []target.Message {
	var msgs []target.Message
	now := time.Now()
	for _, it := range items {
		if keys[it.Key] {
			msgs = append(msgs, restoreMessage(notify.Event{Name: eventRestorePost, Time: now, Region: region, Bucket: bucket,
				Key: it.Key, Size: it.Size, RestoreClass: it.StorageClass}, ""))
		}
	}
	return msgs
}

// forEach runs fn(0..n-1), conc at a time; it stops starting calls once
// ctx ends.
func forEach(ctx context.Context, conc, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(conc, 1), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
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
