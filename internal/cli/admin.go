package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/retrieval"
)

const adminUsage = `Usage:
  firn admin restore list [--data DIR] [--state pending|done|expired|cancelled|failed] [--limit N] [--json]
  firn admin restore status [--data DIR] [--json]                        jobs and bytes by state and tier: the restores' progress
  firn admin retrieval-policy [--data DIR] [--json]                      show the policy
  firn admin retrieval-policy [--data DIR] --set None|FreeTier|BytesPerHour [--bytes-per-hour N]
  firn admin lifecycle status [--data DIR] [--json]                      backlog and lateness of lifecycle actions
  firn admin user add|remove NAME [--data DIR] [--json]                  manage users
  firn admin user list [--data DIR] [--json]
  firn admin user policy NAME [--file POLICY.json | --remove] [--data DIR] attach, show or detach a user's identity policy
  firn admin key create USER [--data DIR] [--json]                       a new access key for USER (secret shown once)
  firn admin key list [--user USER] [--data DIR] [--json]
  firn admin key revoke ID [--data DIR]
  firn admin bucket restore-on-get BUCKET [--tier T [--days N] | --off]  GETs of archived objects start their restore
  firn admin key rotate [--data DIR] --master-key-file F [--json]        rewrap SSE-S3 object keys under the current master key
  firn admin key generate [--id ID]                                      print a new master key line for a key file
  firn admin target add NAME --kind K (--url URL | --url-env VAR) [--option K=V]... [--timeout D]
                                                                         declare an event notification target
  firn admin target list|status [--config F] [--json]                    targets; their backlog, oldest event, failures
  firn admin target test NAME                                            send NAME an s3:TestEvent now
  firn admin target remove NAME
  firn admin target dead [NAME] [--json] | requeue NAME                  events given up on; deliver them again
  firn admin archive scrub [--json]                                      verify every archive pack now, repair from parity
  firn admin archive compact [--force] [--live-ratio R] [--json]         reclaim deleted objects' space now (--force: ignore their age)
  firn admin archive flush [--json]                                      seal the open archive pack now
      The archive commands ask the running server (root credentials:
      FIRN_ACCESS_KEY/FIRN_SECRET_KEY, else DATA/credentials.json) at
      --endpoint-url (default from FIRN_ADDRESS) [--region R] [--ca-cert F].
      Exit codes: 0 done; 1 failed (server unreachable, request refused);
      2 usage; 3 scrub found objects damaged beyond repair.
`

// runAdmin runs `firn admin ...` against a data directory (the server may
// be running on it).
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, adminUsage)
		return ExitUsage
	}
	switch {
	case args[0] == "restore" && len(args) > 1 && args[1] == "list":
		return adminRestoreList(ctx, args[2:], stdout, stderr)
	case args[0] == "restore" && len(args) > 1 && args[1] == "status":
		return adminRestoreStatus(ctx, args[2:], stdout, stderr)
	case args[0] == "retrieval-policy":
		return adminPolicy(ctx, args[1:], stdout, stderr)
	case args[0] == "lifecycle" && len(args) > 1 && args[1] == "status":
		return adminLifecycleStatus(ctx, args[2:], stdout, stderr)
	case args[0] == "key" && len(args) > 1 && args[1] == "rotate":
		return adminKeyRotate(ctx, args[2:], stdout, stderr)
	case args[0] == "key" && len(args) > 1 && args[1] == "generate":
		return adminKeyGenerate(args[2:], stdout, stderr)
	case args[0] == "key" && len(args) > 1 && (args[1] == "create" || args[1] == "list" || args[1] == "revoke"):
		return adminKeyAccess(ctx, args[1], args[2:], stdout, stderr)
	case args[0] == "user":
		return adminUser(ctx, args[1:], stdout, stderr)
	case args[0] == "target":
		return adminTarget(ctx, args[1:], stdout, stderr)
	case args[0] == "archive":
		return adminArchive(ctx, args[1:], stdout, stderr)
	case args[0] == "bucket" && len(args) > 1 && args[1] == "restore-on-get":
		return adminBucketRestoreOnGet(ctx, args[2:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "firn admin: unknown command %q\n\n%s", args[0], adminUsage)
	return ExitUsage
}

// adminFlags starts the flag set of an admin command, with --data.
func adminFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, dataFlag(fs)
}

// openAdmin opens the data directory for an admin command; on failure
// the closer is nil and the exit code says why.
func openAdmin(data string, stderr io.Writer) (*object.Service, io.Closer, int) {
	svc, closer, err := app.OpenAdmin(data)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin:", err)
		return nil, nil, ExitFailure
	}
	return svc, closer, ExitOK
}

// adminReader parses the flags of an admin command that reads the data
// directory (--data, --json and those extra declares) and opens it; the
// closer is nil when the command must exit with code.
func adminReader(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*object.Service, io.Closer, bool, int) {
	fs, data := adminFlags(name, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, false, ExitUsage
	}
	svc, closer, code := openAdmin(*data, stderr)
	return svc, closer, *asJSON, code
}

func dataFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("FIRN_DATA")
	if def == "" {
		def = "./firn-data"
	}
	return fs.String("data", def, "data directory")
}

// adminRestoreStatus prints how many restore jobs, and bytes, are in
// each state and tier, and how far the pending ones have to go.
func adminRestoreStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	svc, closer, asJSON, code := adminReader("firn admin restore status", args, stderr, nil)
	if closer == nil {
		return code
	}
	defer closer.Close()
	totals, err := svc.RestoreTotals(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin:", err)
		return ExitFailure
	}
	if asJSON {
		if totals == nil {
			totals = []meta.RestoreTotal{}
		}
		return printJSON(stdout, stderr, totals)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tTIER\tJOBS\tBYTES")
	var pending, finished, pendingBytes, finishedBytes int64
	for _, t := range totals {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.State, t.Tier, t.Jobs, human(t.Bytes))
		switch t.State {
		case meta.RestorePending:
			pending, pendingBytes = pending+t.Jobs, pendingBytes+t.Bytes
		case meta.RestoreDone, meta.RestoreExpired:
			finished, finishedBytes = finished+t.Jobs, finishedBytes+t.Bytes
		}
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d restores pending (%s), %d completed (%s)\n", pending, human(pendingBytes), finished, human(finishedBytes))
	return ExitOK
}

func adminRestoreList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var state *string
	var limit *int
	svc, closer, asJSON, code := adminReader("firn admin restore list", args, stderr, func(fs *flag.FlagSet) {
		state = fs.String("state", "", "only jobs in this state")
		limit = fs.Int("limit", 100, "at most this many jobs, newest first")
	})
	if closer == nil {
		return code
	}
	defer closer.Close()
	jobs, err := svc.ListRestores(ctx, *state, *limit)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin:", err)
		return ExitFailure
	}
	if asJSON {
		type row struct {
			ID, Bucket, Key, StorageClass, Tier, State string
			Days                                       int
			Bytes                                      int64
			Requested, Due                             time.Time
			Completed, Expiry                          *time.Time `json:",omitempty"`
			Error                                      string     `json:",omitempty"`
		}
		out := []row{}
		for _, j := range jobs {
			r := row{j.ID, j.Bucket, j.Key, j.StorageClass, j.Tier, j.State, j.Days, j.Bytes, j.Requested, j.Due, nil, nil, j.Error}
			if !j.Completed.IsZero() {
				r.Completed = &j.Completed
			}
			if !j.Expiry.IsZero() {
				r.Expiry = &j.Expiry
			}
			out = append(out, r)
		}
		return printJSON(stdout, stderr, out)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tTIER\tCLASS\tBYTES\tREQUESTED\tDUE / EXPIRY\tOBJECT")
	for _, j := range jobs {
		when := j.Due.Format(time.RFC3339)
		if j.State == meta.RestoreDone || j.State == meta.RestoreExpired {
			when = j.Expiry.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\ts3://%s/%s\n", j.State, j.Tier, j.StorageClass, j.Bytes,
			j.Requested.Format(time.RFC3339), when, j.Bucket, j.Key)
		if j.Error != "" {
			fmt.Fprintf(tw, "\t\t\t\t\terror:\t%s\n", j.Error)
		}
	}
	tw.Flush()
	return ExitOK
}

func adminPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, data := adminFlags("firn admin retrieval-policy", stderr)
	set := fs.String("set", "", "set the strategy: None, FreeTier or BytesPerHour")
	bph := fs.Int64("bytes-per-hour", 0, "quota for BytesPerHour")
	asJSON := fs.Bool("json", false, "print the policy as the Glacier API's JSON")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	svc, closer, code := openAdmin(*data, stderr)
	if closer == nil {
		return code
	}
	defer closer.Close()
	store := svc.RetrievalStore()
	if *set != "" {
		st, ok := retrieval.ParseStrategy(*set)
		if !ok {
			fmt.Fprintf(stderr, "firn admin: unknown strategy %q (None, FreeTier or BytesPerHour)\n", *set)
			return ExitUsage
		}
		p := retrieval.Policy{Strategy: st, BytesPerHour: *bph}
		if err := p.Validate(); err != nil {
			fmt.Fprintln(stderr, "firn admin:", err)
			return ExitUsage
		}
		if err := store.PutPolicy(ctx, p); err != nil {
			fmt.Fprintln(stderr, "firn admin:", err)
			return ExitFailure
		}
	}
	p, err := store.GetPolicy(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin:", err)
		return ExitFailure
	}
	if *asJSON {
		b, _ := p.MarshalJSON()
		fmt.Fprintln(stdout, string(b))
		return ExitOK
	}
	fmt.Fprintln(stdout, p.String())
	return ExitOK
}

func printJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "firn:", err)
		return ExitFailure
	}
	return ExitOK
}

func adminLifecycleStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	svc, closer, asJSON, code := adminReader("firn admin lifecycle status", args, stderr, nil)
	if closer == nil {
		return code
	}
	defer closer.Close()
	st, err := svc.LifecycleStatus(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin:", err)
		return ExitFailure
	}
	if asJSON {
		out := struct {
			Buckets         []string
			Due             int64
			Oldest          *time.Time `json:",omitempty"`
			LatenessSeconds float64
			Reconciling     map[string]string
		}{Buckets: st.Buckets, Due: st.Due, LatenessSeconds: st.Lateness.Seconds(), Reconciling: st.Reconciling}
		if out.Buckets == nil {
			out.Buckets = []string{}
		}
		if !st.Oldest.IsZero() {
			out.Oldest = &st.Oldest
		}
		return printJSON(stdout, stderr, out)
	}
	fmt.Fprintf(stdout, "buckets with lifecycle rules: %d\n", len(st.Buckets))
	fmt.Fprintf(stdout, "actions due, not yet applied: %d\n", st.Due)
	if st.Due > 0 {
		fmt.Fprintf(stdout, "oldest due since %s (%s late)\n", st.Oldest.Format(time.RFC3339), st.Lateness.Round(time.Second))
	}
	for b, after := range st.Reconciling {
		if after == "" {
			after = "(start)"
		}
		fmt.Fprintf(stdout, "re-evaluating s3://%s: at key %q\n", b, after)
	}
	return ExitOK
}
