package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/notify/dispatch"
	"github.com/firnhq/firn/internal/notify/target"
)

// optionFlags collects repeated --option k=v.
type optionFlags map[string]string

func (o optionFlags) String() string { return "" }

func (o optionFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	o[k] = val
	return nil
}

// adminTarget runs `firn admin target add|list|test|remove|status|dead|requeue`.
func adminTarget(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return ExitUsage
	}
	sub, args := args[0], args[1:]
	fs, data := adminFlags("firn admin target "+sub, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	cfgFile := fs.String("config", os.Getenv("FIRN_CONFIG"), "the server's config file, whose targets are listed too")
	region := fs.String("region", cmp.Or(os.Getenv("FIRN_REGION"), "us-east-1"), "the server's region, for the ARNs shown")
	kind := fs.String("kind", "", "add: "+strings.Join(target.Kinds(), ", "))
	url := fs.String("url", "", "add: the destination's URL (may hold credentials: prefer --url-env)")
	urlEnv := fs.String("url-env", "", "add: read the URL from this environment variable")
	timeout := fs.Duration("timeout", 0, "add: bound of one delivery (default 10s)")
	opts := optionFlags{}
	fs.Var(opts, "option", "add: a kind's option KEY=VALUE (repeatable), e.g. subject=firn.events")
	name, rest := splitName(args)
	if err := fs.Parse(rest); err != nil {
		return ExitUsage
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" && (sub == "add" || sub == "test" || sub == "remove" || sub == "requeue") {
		fmt.Fprintf(stderr, "firn admin target %s: give a target name\n", sub)
		return ExitUsage
	}
	var static []config.Target
	if *cfgFile != "" {
		var err error
		if static, err = config.FileTargets(*cfgFile); err != nil {
			fmt.Fprintln(stderr, "firn admin target:", err)
			return ExitUsage
		}
	}
	d, closer, err := app.OpenDispatcher(ctx, *data, *region, static)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin target:", err)
		return ExitFailure
	}
	defer closer.Close()
	fail := func(err error) int {
		fmt.Fprintln(stderr, "firn admin target:", err)
		return ExitFailure
	}
	switch sub {
	case "add":
		u := *url
		if *urlEnv != "" {
			u = os.Getenv(*urlEnv)
		}
		s := target.Spec{Name: name, Kind: *kind, URL: u, Options: opts, Timeout: *timeout}
		if err := d.Add(ctx, s); err != nil {
			fmt.Fprintln(stderr, "firn admin target:", err)
			return ExitUsage
		}
		for _, t := range d.List() {
			if t.Name == name {
				if *asJSON {
					return printJSON(stdout, stderr, t)
				}
				fmt.Fprintf(stdout, "target %s added (%s); bucket notification configurations name it as %s\n", name, t.URL, t.ARN)
			}
		}
	case "list":
		ts := d.List()
		if *asJSON {
			return printJSON(stdout, stderr, ts)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKIND\tURL\tOPTIONS\tARN\tFROM")
		for _, t := range ts {
			from := "admin"
			if t.Static {
				from = "config"
			}
			var o []string
			for k, v := range t.Options {
				o = append(o, k+"="+v)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Kind, t.URL, strings.Join(o, ","), t.ARN, from)
		}
		tw.Flush()
	case "remove":
		if err := d.Remove(ctx, name); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "target %s removed\n", name)
	case "test":
		start := time.Now()
		err := d.Test(ctx, name)
		if *asJSON {
			out := map[string]any{"target": name, "delivered": err == nil, "ms": time.Since(start).Milliseconds()}
			if err != nil {
				out["error"] = err.Error()
			}
			if code := printJSON(stdout, stderr, out); code != ExitOK || err == nil {
				return code
			}
			return ExitFailure
		}
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "s3:TestEvent delivered to %s in %v\n", name, time.Since(start).Round(time.Millisecond))
	case "status":
		st, err := d.Status(ctx)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			return printJSON(stdout, stderr, st)
		}
		printTargetStatus(stdout, st)
	case "dead":
		dl, err := d.Dead(ctx, name, 1000)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			return printJSON(stdout, stderr, dl)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TARGET\tEVENT\tOBJECT\tCREATED\tATTEMPTS\tLAST ERROR")
		for _, l := range dl {
			fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%d\t%s\n", l.Target, l.Event, l.Bucket, l.Key, l.Created.Format(time.RFC3339), l.Attempts, l.LastError)
		}
		tw.Flush()
	case "requeue":
		n, err := d.Requeue(ctx, name)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%d dead letters of %s queued again\n", n, name)
	default:
		fmt.Fprintf(stderr, "firn admin target: unknown command %q\n\n%s", sub, adminUsage)
		return ExitUsage
	}
	return ExitOK
}

func printTargetStatus(w io.Writer, st []dispatch.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tKIND\tPENDING\tOLDEST\tFAILING\tDEAD\tDELIVERED BY\tLAST ERROR")
	for _, s := range st {
		kind := s.Kind
		if !s.Declared {
			kind = "(not declared)"
		}
		oldest := "-"
		if s.Pending > 0 {
			oldest = s.OldestAge.Round(time.Second).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\n", s.Name, kind, s.Pending, oldest, s.Failing, s.Dead, s.Owner, s.LastError)
	}
	tw.Flush()
}

var _ flag.Value = optionFlags{}
