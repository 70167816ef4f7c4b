package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/firnhq/firn/internal/backup"
	"github.com/firnhq/firn/internal/backup/backend"
	s3be "github.com/firnhq/firn/internal/backup/backend/s3"
	"github.com/firnhq/firn/internal/backup/daemon"
	"github.com/firnhq/firn/internal/backup/pgdump"
	"github.com/firnhq/firn/internal/backup/repo"
)

const backupUsage = `Usage:
  firn backup init [s3://bucket/prefix] [--storage-class CLASS] [--pack-size SIZE]
  firn backup run PATHS... [--type full|incremental] [--tag T]... [--exclude GLOB]...
                 [--stdin-name NAME [--stdin-from-command 'CMD' | --postgres URL]]
  firn backup snapshots [--json]
  firn backup restore SNAPSHOT|latest --target DIR [--include GLOB]... [--dry-run]
                 [--restore-tier Expedited|Standard|Bulk [--restore-days N]]
  firn backup verify [--read-data-subset N%]
  firn backup forget --keep-daily 7 --keep-weekly 4 --keep-monthly 12 [--dry-run]
  firn backup prune [--dry-run]
  firn backup daemon --config jobs.yaml [--once JOB] [--json] [--quiet]

Every command takes --repo s3://bucket/prefix (or FIRN_BACKUP_REPO),
--endpoint-url URL (or FIRN_BACKUP_ENDPOINT_URL) for an S3-compatible
server, --region and --profile; credentials come from the AWS chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, SSO, roles). The
password comes from FIRN_BACKUP_PASSWORD or --password-file FILE (or
FIRN_BACKUP_PASSWORD_FILE). Metadata is cached in --cache-dir (default
the user cache directory); --json prints results for scripts and --quiet
drops progress.

--postgres URL stores pg_dump's output for the database (as db.sql unless
--stdin-name says otherwise), streamed, without a temporary file. The
daemon runs the jobs of a jobs file on schedules, with retention, restore
tests, Prometheus metrics, alarms and notifications: see
docs/backup-daemon.md.
`

// backupEnv holds the flags every backup command takes.
type backupEnv struct {
	repo, endpoint, region, profile string
	passwordFile, cacheDir          string
	noCache, asJSON, quiet          bool
	stdout, stderr                  io.Writer
}

func (e *backupEnv) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("firn backup "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.repo, "repo", os.Getenv("FIRN_BACKUP_REPO"), "repository, s3://bucket/prefix")
	fs.StringVar(&e.endpoint, "endpoint-url", os.Getenv("FIRN_BACKUP_ENDPOINT_URL"), "URL of an S3-compatible endpoint (default AWS)")
	fs.StringVar(&e.region, "region", "", "region (default from the AWS config, else us-east-1)")
	fs.StringVar(&e.profile, "profile", "", "AWS shared-config profile")
	fs.StringVar(&e.passwordFile, "password-file", os.Getenv("FIRN_BACKUP_PASSWORD_FILE"), "read the password from this file")
	def := ""
	if d, err := os.UserCacheDir(); err == nil {
		def = filepath.Join(d, "firn", "backup")
	}
	fs.StringVar(&e.cacheDir, "cache-dir", def, "local cache of repository metadata")
	fs.BoolVar(&e.noCache, "no-cache", false, "use no local cache")
	fs.BoolVar(&e.asJSON, "json", false, "print JSON")
	fs.BoolVar(&e.quiet, "quiet", false, "print no progress")
	return fs
}

// parseInterspersed parses args allowing flags after positional
// arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (e *backupEnv) failf(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "firn backup: "+format+"\n", args...)
	return ExitFailure
}

func (e *backupEnv) usagef(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "firn backup: "+format+"\n", args...)
	return ExitUsage
}

func (e *backupEnv) backend(ctx context.Context) (backend.Backend, error) {
	if e.repo == "" {
		return nil, errors.New("no repository: give --repo s3://bucket/prefix or set FIRN_BACKUP_REPO")
	}
	return s3be.Open(ctx, s3be.Config{URL: e.repo, Endpoint: e.endpoint, Region: e.region, Profile: e.profile})
}

func (e *backupEnv) password() ([]byte, error) {
	if e.passwordFile != "" {
		b, err := os.ReadFile(e.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("password file: %w", err)
		}
		b = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(b) == 0 {
			return nil, fmt.Errorf("password file %s is empty", e.passwordFile)
		}
		return b, nil
	}
	if p := os.Getenv("FIRN_BACKUP_PASSWORD"); p != "" {
		return []byte(p), nil
	}
	return nil, errors.New("no password: set FIRN_BACKUP_PASSWORD or give --password-file")
}

// open opens the repository and loads its index.
func (e *backupEnv) open(ctx context.Context) (*repo.Repository, error) {
	be, err := e.backend(ctx)
	if err != nil {
		return nil, err
	}
	pw, err := e.password()
	if err != nil {
		return nil, err
	}
	o := repo.OpenOptions{}
	if !e.noCache {
		o.CacheDir = e.cacheDir
	}
	r, err := repo.Open(ctx, be, pw, o)
	if err != nil {
		return nil, err
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// progress prints p to stderr every few seconds until the returned stop
// is called (unless --quiet).
func (e *backupEnv) progress(what string, p *backup.Progress) (stop func()) {
	if e.quiet {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				el := time.Since(start)
				b := p.Bytes.Load()
				rate := float64(b) / el.Seconds()
				total := ""
				if p.Scanned.Load() {
					left := max(p.TotalBytes.Load()-b, 0)
					total = fmt.Sprintf(" of %d files, %s of %s", p.TotalFiles.Load(), human(b), human(p.TotalBytes.Load()))
					if rate > 0 {
						total += ", ETA " + time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second).String()
					}
				} else {
					total = ", " + human(b)
				}
				fmt.Fprintf(e.stderr, "[%s] %s: %d files%s, %s new, %d packs, %s/s\n", el.Round(time.Second), what,
					p.Files.Load(), total, human(p.BytesNew.Load()), p.Packs.Load(), human(int64(rate)))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// human formats a byte count.
func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// parseSize reads "64MiB", "512k", "1G" or a plain byte count.
func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want bytes, e.g. 64MiB", s)
	}
	return n * mult, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runBackup runs `firn backup ...`.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, backupUsage)
		return ExitUsage
	}
	e := &backupEnv{stdout: stdout, stderr: stderr}
	cmds := map[string]func(context.Context, []string) int{
		"init": e.init, "run": e.run, "snapshots": e.snapshots, "restore": e.restore,
		"verify": e.verify, "forget": e.forget, "prune": e.prune, "daemon": e.daemon,
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, backupUsage)
		return ExitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "firn backup: unknown command %q\n\n%s", args[0], backupUsage)
		return ExitUsage
	}
	return cmd(ctx, args[1:])
}

func (e *backupEnv) init(ctx context.Context, args []string) int {
	fs := e.flags("init")
	class := fs.String("storage-class", "", "storage class of data packs, e.g. GLACIER or DEEP_ARCHIVE (default: the bucket's; leave tiering to a lifecycle rule on data/)")
	packSize := fs.String("pack-size", "64MiB", "target size of data packs")
	scryptN := fs.Int("scrypt-n", repo.DefaultKDF.N, "scrypt cost N of the password key (a power of two)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(pos) > 1 {
		return e.usagef("init: one repository, got %q", pos)
	}
	if len(pos) == 1 {
		e.repo = pos[0]
	}
	size, err := parseSize(*packSize)
	if err != nil {
		return e.usagef("init: %v", err)
	}
	if *scryptN < 2 || *scryptN&(*scryptN-1) != 0 {
		return e.usagef("init: --scrypt-n %d: want a power of two", *scryptN)
	}
	be, err := e.backend(ctx)
	if err != nil {
		return e.usagef("init: %v", err)
	}
	pw, err := e.password()
	if err != nil {
		return e.usagef("init: %v", err)
	}
	host, _ := os.Hostname()
	cfg, err := repo.Init(ctx, be, pw, repo.InitOptions{PackSize: size, DataStorageClass: strings.ToUpper(*class),
		KDF: repo.KDFParams{N: *scryptN, R: repo.DefaultKDF.R, P: repo.DefaultKDF.P}, Host: host})
	if err != nil {
		return e.failf("%v", err)
	}
	if e.asJSON {
		return printJSON(e.stdout, e.stderr, map[string]any{"repository": be.Location(), "id": cfg.ID.String(),
			"pack_size": cfg.PackSize, "data_storage_class": cfg.DataStorageClass})
	}
	fmt.Fprintf(e.stdout, "created repository %s at %s\n", cfg.ID.Short(), be.Location())
	fmt.Fprintf(e.stdout, "data packs: %s, in %s; metadata stays in STANDARD\n", human(cfg.PackSize), classOrDefault(cfg.DataStorageClass))
	fmt.Fprintln(e.stdout, "keep the password safe: the data cannot be read without it")
	return ExitOK
}

func classOrDefault(c string) string {
	if c == "" {
		return "the bucket's default class"
	}
	return c
}

type snapshotOut struct {
	ID string `json:"id"`
	*repo.Snapshot
}

func (e *backupEnv) run(ctx context.Context, args []string) int {
	fs := e.flags("run")
	typ := fs.String("type", repo.TypeIncremental, "full (read every file) or incremental (read changed files)")
	var tags, excludes stringList
	fs.Var(&tags, "tag", "tag the snapshot (repeatable)")
	fs.Var(&excludes, "exclude", "skip entries whose name or path matches this glob (repeatable)")
	stdinName := fs.String("stdin-name", "", "store standard input (or the command's output) as this file")
	stdinCmd := fs.String("stdin-from-command", "", "run this command with sh -c and store its output as --stdin-name")
	pgURL := fs.String("postgres", "", "store pg_dump's output for this database URL (postgres://USER[:PASS]@HOST[:PORT]/DB) as --stdin-name (default "+daemon.DefaultStdinName+")")
	host := fs.String("host", "", "host name recorded in the snapshot (default the machine's)")
	class := fs.String("storage-class", "", "storage class of new data packs (default the repository's)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if *typ != repo.TypeFull && *typ != repo.TypeIncremental {
		return e.usagef("run: --type %q: want full or incremental", *typ)
	}
	if *stdinCmd != "" && *stdinName == "" {
		return e.usagef("run: --stdin-from-command needs --stdin-name")
	}
	if *pgURL != "" {
		if *stdinCmd != "" {
			return e.usagef("run: --postgres and --stdin-from-command exclude each other")
		}
		if *stdinName == "" {
			*stdinName = daemon.DefaultStdinName
		}
	}
	if len(paths) == 0 && *stdinName == "" {
		return e.usagef("run: give paths to back up or --stdin-name")
	}
	r, err := e.open(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	if *class != "" {
		r.DataStorageClass = strings.ToUpper(*class)
	}
	var stdin io.Reader
	if *pgURL != "" {
		dump, err := pgdump.Start(ctx, *pgURL, pgdump.Options{})
		if err != nil {
			return e.failf("run: %v", err)
		}
		defer dump.Close()
		stdin = dump
	}
	p := &backup.Progress{}
	if !e.quiet && len(paths) > 0 {
		// Totals for the progress line's ETA, counted beside the run.
		scanCtx, cancelScan := context.WithCancel(ctx)
		defer cancelScan()
		go backup.ScanTotals(scanCtx, paths, excludes, p)
	}
	stop := e.progress("backup", p)
	sn, err := backup.Run(ctx, r, backup.RunOptions{Paths: paths, Type: *typ, Tags: tags, Excludes: excludes, Host: *host,
		StdinName: *stdinName, StdinCommand: *stdinCmd, Stdin: stdin, Program: "firn " + Version, Progress: p})
	stop()
	var partial *backup.PartialError
	if err != nil && !errors.As(err, &partial) {
		return e.failf("run: %v", err)
	}
	if e.asJSON {
		if code := printJSON(e.stdout, e.stderr, snapshotOut{sn.ID.String(), sn}); code != ExitOK {
			return code
		}
	} else {
		st := sn.Stats
		parent := ""
		if sn.Parent != nil {
			parent = ", parent " + sn.Parent.Short()
		}
		fmt.Fprintf(e.stdout, "snapshot %s saved (%s%s)\n", sn.ID.Short(), sn.Type, parent)
		fmt.Fprintf(e.stdout, "files: %d new, %d changed, %d unchanged; %d dirs\n", st.FilesNew, st.FilesChanged, st.FilesUnchanged, st.Dirs)
		fmt.Fprintf(e.stdout, "read %s of %s; added %s (%s stored in %d packs) in %.1fs\n", human(st.BytesRead), human(st.BytesTotal),
			human(st.BytesNew), human(st.BytesStored), st.PacksNew, st.DurationSecond)
	}
	if partial != nil {
		for _, f := range partial.Failed {
			fmt.Fprintln(e.stderr, "firn backup: could not read", f)
		}
		return e.failf("run: %v", partial)
	}
	return ExitOK
}

func (e *backupEnv) snapshots(ctx context.Context, args []string) int {
	fs := e.flags("snapshots")
	if pos, err := parseInterspersed(fs, args); err != nil || len(pos) > 0 {
		if err == nil {
			return e.usagef("snapshots: unexpected argument %q", pos[0])
		}
		return ExitUsage
	}
	r, err := e.open(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	if e.asJSON {
		out := []snapshotOut{}
		for _, sn := range sns {
			out = append(out, snapshotOut{sn.ID.String(), sn})
		}
		return printJSON(e.stdout, e.stderr, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tHOST\tTYPE\tTAGS\tSIZE\tPATHS")
	for _, sn := range sns {
		paths := strings.Join(sn.Paths, " ")
		if sn.StdinName != "" {
			paths = strings.TrimSpace(paths + " <" + sn.StdinName + ">")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sn.ID.Short(), sn.Time.Local().Format("2006-01-02 15:04:05"), sn.Host,
			sn.Type, strings.Join(sn.Tags, ","), human(sn.Stats.BytesTotal), paths)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d snapshots\n", len(sns))
	return ExitOK
}

func (e *backupEnv) restore(ctx context.Context, args []string) int {
	fs := e.flags("restore")
	target := fs.String("target", "", "directory to restore into")
	var includes stringList
	fs.Var(&includes, "include", "restore only paths (or names) matching this glob, and what is under them (repeatable)")
	tier := fs.String("restore-tier", "", "restore archived packs with this tier (Expedited, Standard, Bulk) and wait for them")
	days := fs.Int("restore-days", 1, "keep restored copies this many days")
	poll := fs.Duration("poll", 30*time.Second, "how often to check on restores in progress")
	dry := fs.Bool("dry-run", false, "print the plan only")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(pos) != 1 {
		return e.usagef("restore: give one snapshot id (or latest)")
	}
	if *target == "" && !*dry {
		return e.usagef("restore: give --target DIR")
	}
	switch *tier {
	case "", "Expedited", "Standard", "Bulk":
	default:
		return e.usagef("restore: --restore-tier %q: want Expedited, Standard or Bulk", *tier)
	}
	r, err := e.open(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	sn, err := repo.FindSnapshot(sns, pos[0])
	if err != nil {
		return e.failf("restore: %v", err)
	}
	p := &backup.Progress{}
	var stop func()
	plan, err := backup.Restore(ctx, r, sn, backup.RestoreOptions{Target: *target, Includes: includes, Tier: *tier, Days: *days,
		Poll: *poll, DryRun: *dry, Progress: p, OnPlan: func(pl *backup.Plan) {
			if !e.asJSON {
				e.printPlan(pl)
			}
			stop = e.progress("restore", p)
		}})
	if stop != nil {
		stop()
	}
	var nr *backup.NeedsRestoreError
	if errors.As(err, &nr) {
		if e.asJSON {
			printJSON(e.stdout, e.stderr, map[string]any{"plan": plan, "need_restore": nr.Plan.NeedRestore()})
		}
		return e.failf("restore: %v; run again with --restore-tier Bulk|Standard|Expedited [--restore-days N] to request the restores and wait", err)
	}
	if err != nil {
		return e.failf("restore: %v", err)
	}
	if e.asJSON {
		return printJSON(e.stdout, e.stderr, map[string]any{"plan": plan, "restored": !*dry, "target": *target})
	}
	if !*dry {
		fmt.Fprintf(e.stdout, "restored %d files (%s) of snapshot %s to %s\n", plan.Files, human(plan.Bytes), sn.ID.Short(), *target)
	}
	return ExitOK
}

func (e *backupEnv) printPlan(pl *backup.Plan) {
	fmt.Fprintf(e.stdout, "plan: %d files, %s, from %d packs\n", pl.Files, human(pl.Bytes), len(pl.Packs))
	for class, b := range pl.BytesByClass {
		fmt.Fprintf(e.stdout, "  %s: %s\n", class, human(b))
	}
	need := pl.NeedRestore()
	if len(need) == 0 {
		return
	}
	fmt.Fprintf(e.stdout, "%d packs must be restored from an archive class first:\n", len(need))
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PACK\tCLASS\tSIZE\tSTATE")
	for _, p := range need {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Name, p.StorageClass, human(p.Size), p.State)
	}
	tw.Flush()
}

func (e *backupEnv) verify(ctx context.Context, args []string) int {
	fs := e.flags("verify")
	subset := fs.String("read-data-subset", "0%", "share of data packs to download and check, e.g. 10% (100%: all)")
	if pos, err := parseInterspersed(fs, args); err != nil || len(pos) > 0 {
		if err == nil {
			return e.usagef("verify: unexpected argument %q", pos[0])
		}
		return ExitUsage
	}
	frac, err := parsePercent(*subset)
	if err != nil {
		return e.usagef("verify: %v", err)
	}
	r, err := e.open(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	p := &backup.Progress{}
	stop := e.progress("verify", p)
	res, err := backup.Verify(ctx, r, backup.VerifyOptions{ReadData: frac, Progress: p})
	stop()
	if err != nil {
		return e.failf("verify: %v", err)
	}
	if e.asJSON {
		printJSON(e.stdout, e.stderr, res)
	} else {
		fmt.Fprintf(e.stdout, "%d snapshots, %d trees, %d data blobs, %d packs; %d packs read and checked\n",
			res.Snapshots, res.Trees, res.DataBlobs, res.Packs, res.PacksRead)
		if len(res.SkippedArchived) > 0 {
			fmt.Fprintf(e.stdout, "%d data packs not read: archived, not restored\n", len(res.SkippedArchived))
		}
		if len(res.Unindexed) > 0 {
			fmt.Fprintf(e.stdout, "%d packs are in no index (an interrupted backup; prune removes them)\n", len(res.Unindexed))
		}
		for _, m := range res.Errors {
			fmt.Fprintln(e.stdout, "error:", m)
		}
		if res.OK() {
			fmt.Fprintln(e.stdout, "no errors found")
		}
	}
	if !res.OK() {
		return e.failf("verify: %d errors", len(res.Errors))
	}
	return ExitOK
}

// parsePercent reads "10%", "10" or "0.1"-style shares into 0..1.
func parsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("share %q: want a percentage like 10%%", s)
	}
	if pct || v > 1 {
		v /= 100
	}
	if v > 1 {
		return 0, fmt.Errorf("share %q: above 100%%", s)
	}
	return v, nil
}

func (e *backupEnv) forget(ctx context.Context, args []string) int {
	fs := e.flags("forget")
	var p backup.Policy
	fs.IntVar(&p.Last, "keep-last", 0, "keep the N newest snapshots")
	fs.IntVar(&p.Hourly, "keep-hourly", 0, "keep the newest snapshot of each of the last N hours")
	fs.IntVar(&p.Daily, "keep-daily", 0, "keep the newest snapshot of each of the last N days")
	fs.IntVar(&p.Weekly, "keep-weekly", 0, "keep the newest snapshot of each of the last N weeks")
	fs.IntVar(&p.Monthly, "keep-monthly", 0, "keep the newest snapshot of each of the last N months")
	fs.IntVar(&p.Yearly, "keep-yearly", 0, "keep the newest snapshot of each of the last N years")
	dry := fs.Bool("dry-run", false, "print what would be removed, remove nothing")
	if pos, err := parseInterspersed(fs, args); err != nil || len(pos) > 0 {
		if err == nil {
			return e.usagef("forget: unexpected argument %q", pos[0])
		}
		return ExitUsage
	}
	if p.Empty() {
		return e.usagef("forget: give at least one --keep-* rule")
	}
	if min(p.Last, p.Hourly, p.Daily, p.Weekly, p.Monthly, p.Yearly) < 0 {
		return e.usagef("forget: --keep-* must not be negative")
	}
	r, err := e.open(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	ds, err := backup.Forget(ctx, r, p, time.Local, *dry)
	if err != nil {
		return e.failf("%v", err)
	}
	if e.asJSON {
		type row struct {
			ID      string    `json:"id"`
			Time    time.Time `json:"time"`
			Group   string    `json:"group"`
			Keep    bool      `json:"keep"`
			Reasons []string  `json:"reasons,omitempty"`
		}
		out := []row{}
		for _, d := range ds {
			out = append(out, row{d.Snapshot.ID.String(), d.Snapshot.Time, backup.GroupKey(d.Snapshot), d.Keep, d.Reasons})
		}
		return printJSON(e.stdout, e.stderr, out)
	}
	removed := 0
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tACTION\tREASONS\tGROUP")
	for _, d := range ds {
		action := "keep"
		if !d.Keep {
			action = "remove"
			removed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Snapshot.ID.Short(), d.Snapshot.Time.Local().Format("2006-01-02 15:04:05"),
			action, strings.Join(d.Reasons, ","), backup.GroupKey(d.Snapshot))
	}
	tw.Flush()
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	fmt.Fprintf(e.stdout, "%s %d of %d snapshots; run firn backup prune to free their data\n", verb, removed, len(ds))
	return ExitOK
}

func (e *backupEnv) prune(ctx context.Context, args []string) int {
	fs := e.flags("prune")
	dry := fs.Bool("dry-run", false, "print what would be deleted, delete nothing")
	if pos, err := parseInterspersed(fs, args); err != nil || len(pos) > 0 {
		if err == nil {
			return e.usagef("prune: unexpected argument %q", pos[0])
		}
		return ExitUsage
	}
	r, err := e.open(ctx)
	if err != nil {
		return e.failf("%v", err)
	}
	res, err := backup.Prune(ctx, r, backup.PruneOptions{DryRun: *dry})
	if err != nil {
		return e.failf("prune: %v", err)
	}
	if e.asJSON {
		return printJSON(e.stdout, e.stderr, res)
	}
	verb := "deleted"
	if *dry {
		verb = "would delete"
	}
	fmt.Fprintf(e.stdout, "%s %d packs (%s); kept %d packs (%s, of which %s unused inside partly used packs)\n",
		verb, len(res.Deleted), human(res.BytesFreed), res.PacksKept, human(res.BytesKept), human(res.BytesUnused))
	for _, d := range res.Deleted {
		if d.EarlyDays > 0 {
			fmt.Fprintf(e.stdout, "early deletion: %s (%s, %s) is %.0f days short of the %d-day minimum of %s: billed as stored %.0f more days\n",
				d.Name, d.StorageClass, human(d.Size), d.EarlyDays, backup.MinStorageDays[d.StorageClass], d.StorageClass, d.EarlyDays)
		}
	}
	if len(res.Young) > 0 {
		fmt.Fprintf(e.stdout, "kept %d recent packs that no index lists (a backup may be running)\n", len(res.Young))
	}
	return ExitOK
}
