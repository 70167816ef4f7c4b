package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/backup"
	s3be "github.com/firnhq/firn/internal/backup/backend/s3"
	"github.com/firnhq/firn/internal/backup/pgdump"
	"github.com/firnhq/firn/internal/backup/repo"
)

// JobTag is the tag that marks the snapshots of job name.
func JobTag(name string) string { return "job:" + name }

// split returns the bucket and prefix of the repository.
func (r repoRef) split() (bucket, prefix string) {
	bucket, prefix, _ = s3be.ParseURL(r.URL)
	return bucket, prefix
}

// runClock gives backup.Run the daemon's time, so that snapshots carry
// the time their run was scheduled in.
type runClock struct{ Clock }

func (runClock) DayLength() time.Duration { return 24 * time.Hour }

func (r *Retention) policy() backup.Policy {
	return backup.Policy{Last: r.KeepLast, Hourly: r.KeepHourly, Daily: r.KeepDaily, Weekly: r.KeepWeekly,
		Monthly: r.KeepMonthly, Yearly: r.KeepYearly}
}

// password returns the password of ref.
func (d *Daemon) password(ref repoRef) ([]byte, error) {
	if ref.PasswordFile != "" {
		b, err := os.ReadFile(ref.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("password file: %w", err)
		}
		b = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(b) == 0 {
			return nil, fmt.Errorf("password file %s is empty", ref.PasswordFile)
		}
		return b, nil
	}
	if p := d.o.Getenv("FIRN_BACKUP_PASSWORD"); p != "" {
		return []byte(p), nil
	}
	return nil, errors.New("no password: give password-file or set FIRN_BACKUP_PASSWORD")
}

// openRepo opens the repository of ref and loads its index.
func (d *Daemon) openRepo(ctx context.Context, ref repoRef) (*repo.Repository, error) {
	be, err := s3be.Open(ctx, s3be.Config{URL: ref.URL, Endpoint: ref.Endpoint, Region: ref.Region, Profile: ref.Profile})
	if err != nil {
		return nil, err
	}
	pw, err := d.password(ref)
	if err != nil {
		return nil, err
	}
	r, err := repo.Open(ctx, be, pw, repo.OpenOptions{CacheDir: d.cfg.CacheDir})
	if err != nil {
		return nil, err
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// backup runs backup job j and, when it succeeds, its retention.
func (d *Daemon) backup(ctx context.Context, j *job, start time.Time, p *backup.Progress) Record {
	rec := Record{Job: j.Name, Kind: KindBackup, Start: start, Repository: j.repo.URL, Type: j.Type}
	if rec.Type == "" {
		rec.Type = repo.TypeIncremental
	}
	t0 := time.Now()
	lock := d.locks[j.repo.key()]
	lock.RLock()
	r, err := d.runBackup(ctx, j, &rec, p)
	lock.RUnlock()
	rec.DurationSeconds = time.Since(t0).Seconds()
	finish(ctx, &rec, err)
	if rec.Result == ResultSuccess && j.Retention != nil {
		rec.Retention = d.retain(ctx, j, r)
	}
	return rec
}

func (d *Daemon) runBackup(ctx context.Context, j *job, rec *Record, p *backup.Progress) (*repo.Repository, error) {
	r, err := d.openRepo(ctx, j.repo)
	if err != nil {
		return nil, err
	}
	if j.StorageClass != "" {
		r.DataStorageClass = strings.ToUpper(j.StorageClass)
	}
	o := backup.RunOptions{Paths: j.Paths, Type: rec.Type, Tags: append(slices.Clone(j.Tags), JobTag(j.Name)),
		Excludes: j.Exclude, Host: d.cfg.Host, StdinName: j.StdinName, StdinCommand: j.StdinFromCommand,
		Program: d.o.Program, Clock: runClock{d.clk}, Log: d.log.With("job", j.Name), Progress: p}
	if j.Postgres != "" {
		if o.StdinName == "" {
			o.StdinName = DefaultStdinName
		}
		dump, err := pgdump.Start(ctx, j.Postgres, pgdump.Options{Args: j.PgDumpArgs})
		if err != nil {
			return nil, err
		}
		defer dump.Close()
		o.Stdin = dump
	}
	sn, err := backup.Run(ctx, r, o)
	if sn != nil {
		st := sn.Stats
		rec.Snapshot, rec.Type = sn.ID.String(), sn.Type
		rec.Files, rec.BytesTotal, rec.BytesRead, rec.BytesNew, rec.BytesStored = st.Files, st.BytesTotal, st.BytesRead, st.BytesNew, st.BytesStored
		if st.BytesRead > 0 {
			rec.DedupRatio = min(1, max(0, float64(st.BytesRead-st.BytesNew)/float64(st.BytesRead)))
		}
	}
	return r, err
}

// retain applies j's retention to its own snapshots, then prunes when
// told to.
func (d *Daemon) retain(ctx context.Context, j *job, r *repo.Repository) *RetentionResult {
	res := &RetentionResult{}
	fail := func(err error) *RetentionResult {
		res.Error = err.Error()
		return res
	}
	lock := d.locks[j.repo.key()]
	lock.RLock()
	sns, err := r.Snapshots(ctx)
	if err != nil {
		lock.RUnlock()
		return fail(err)
	}
	var mine []*repo.Snapshot
	for _, sn := range sns {
		if slices.Contains(sn.Tags, JobTag(j.Name)) {
			mine = append(mine, sn)
		}
	}
	for _, dec := range backup.ApplyPolicy(mine, j.Retention.policy(), time.UTC) {
		if dec.Keep {
			res.Kept++
			continue
		}
		if err := r.RemoveSnapshot(ctx, dec.Snapshot.ID); err != nil {
			lock.RUnlock()
			return fail(fmt.Errorf("forget %s: %w", dec.Snapshot.ID.Short(), err))
		}
		res.Removed++
	}
	lock.RUnlock()
	if !j.Retention.Prune || res.Removed == 0 {
		return res
	}
	// A prune must not run beside a backup of the same repository: take
	// it alone, and read its index afresh.
	lock.Lock()
	defer lock.Unlock()
	fresh, err := d.openRepo(ctx, j.repo)
	if err != nil {
		return fail(err)
	}
	pr, err := backup.Prune(ctx, fresh, backup.PruneOptions{})
	if err != nil {
		return fail(fmt.Errorf("prune: %w", err))
	}
	res.PacksPruned, res.BytesFreed = len(pr.Deleted), pr.BytesFreed
	return res
}

// fileEntry is a regular file of a snapshot.
type fileEntry struct {
	path string // slash path inside the snapshot
	node *repo.Node
}

// listFiles appends the regular files under tree id to out.
func listFiles(ctx context.Context, r *repo.Repository, id repo.ID, dir string, out *[]fileEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := r.LoadTree(ctx, id)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		p := dir + "/" + n.Name
		switch {
		case n.Type == repo.NodeDir && n.Subtree != nil:
			if err := listFiles(ctx, r, *n.Subtree, p, out); err != nil {
				return err
			}
		case n.Type == repo.NodeFile:
			*out = append(*out, fileEntry{p, n})
		}
	}
	return nil
}

// globEscape quotes the pattern characters of p for path.Match.
func globEscape(p string) string {
	var b strings.Builder
	for _, c := range p {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// restoreTest restores a sample of the files of the latest snapshot of
// the tested job into a scratch directory and checks them against the
// snapshot's chunk ids.
func (d *Daemon) restoreTest(ctx context.Context, j *job, start time.Time) Record {
	rt := j.RestoreTest
	rec := Record{Job: j.Name, Kind: KindRestoreTest, Start: start, Repository: j.repo.URL}
	res := &RestoreTestResult{Job: rt.Job}
	rec.RestoreTest = res
	t0 := time.Now()
	lock := d.locks[j.repo.key()]
	lock.RLock()
	err := d.runRestoreTest(ctx, j, res)
	lock.RUnlock()
	rec.Snapshot = res.Snapshot
	rec.Files, rec.BytesRead = int64(res.FilesSampled), res.BytesChecked
	rec.DurationSeconds = time.Since(t0).Seconds()
	finish(ctx, &rec, err)
	return rec
}

func (d *Daemon) runRestoreTest(ctx context.Context, j *job, res *RestoreTestResult) error {
	rt := j.RestoreTest
	r, err := d.openRepo(ctx, j.repo)
	if err != nil {
		return err
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return err
	}
	var sn *repo.Snapshot
	for _, s := range sns { // oldest first
		if slices.Contains(s.Tags, JobTag(rt.Job)) {
			sn = s
		}
	}
	if sn == nil {
		return fmt.Errorf("no snapshot of job %s to test", rt.Job)
	}
	res.Snapshot = sn.ID.String()
	var files []fileEntry
	if err := listFiles(ctx, r, sn.Tree, "", &files); err != nil {
		return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
	}
	res.FilesInSnapshot = len(files)
	if len(files) == 0 {
		return fmt.Errorf("snapshot %s holds no file to test", sn.ID.Short())
	}
	n := rt.Sample
	if n == 0 {
		n = DefaultSample
	}
	var sample []fileEntry
	for _, i := range rand.Perm(len(files))[:min(n, len(files))] {
		sample = append(sample, files[i])
	}
	sort.Slice(sample, func(a, b int) bool { return sample[a].path < sample[b].path })
	res.FilesSampled = len(sample)
	includes := make([]string, len(sample))
	for i, f := range sample {
		includes[i] = globEscape(f.path)
	}
	scratch, err := os.MkdirTemp(d.cfg.ScratchDir, "firn-restore-test-")
	if err != nil {
		return fmt.Errorf("scratch directory: %w", err)
	}
	defer os.RemoveAll(scratch)
	tier := rt.Tier
	if tier == "" {
		tier = DefaultTier
	}
	poll := time.Duration(rt.Poll)
	if poll == 0 {
		poll = DefaultPoll
	}
	plan, err := backup.Restore(ctx, r, sn, backup.RestoreOptions{Target: scratch, Includes: includes, Tier: tier, Days: rt.Days,
		Poll: poll, Log: d.log.With("job", j.Name), OnPlan: func(p *backup.Plan) {
			res.Packs, res.PacksRestored = len(p.Packs), len(p.NeedRestore())
		}})
	if err != nil {
		return fmt.Errorf("restore of snapshot %s: %w", sn.ID.Short(), err)
	}
	if plan.Files != int64(len(sample)) {
		return fmt.Errorf("restore of snapshot %s: %d files restored, %d sampled", sn.ID.Short(), plan.Files, len(sample))
	}
	for _, f := range sample {
		local := filepath.Join(scratch, filepath.FromSlash(f.path))
		if err := checkFile(r, local, f.node); err != nil {
			res.Mismatches = append(res.Mismatches, fmt.Sprintf("%s: %v", f.path, err))
			continue
		}
		res.BytesChecked += f.node.Size
	}
	if len(res.Mismatches) > 0 {
		return fmt.Errorf("%d of %d restored files differ from snapshot %s (first: %s)", len(res.Mismatches), len(sample),
			sn.ID.Short(), res.Mismatches[0])
	}
	return nil
}

// checkFile checks the file at local against node: its size, and each
// chunk against its id (the keyed hash the backup recorded).
func checkFile(r *repo.Repository, local string, node *repo.Node) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != node.Size {
		return fmt.Errorf("%d bytes, the snapshot says %d", fi.Size(), node.Size)
	}
	var buf []byte
	for i, id := range node.Content {
		loc, ok := r.Index().Lookup(repo.DataBlob, id)
		if !ok {
			return fmt.Errorf("chunk %d (%s) is in no index", i, id.Short())
		}
		if cap(buf) < int(loc.RawLength) {
			buf = make([]byte, loc.RawLength)
		}
		b := buf[:loc.RawLength]
		if _, err := io.ReadFull(f, b); err != nil {
			return fmt.Errorf("chunk %d: %w", i, err)
		}
		if r.Key().BlobID(b) != id {
			return fmt.Errorf("chunk %d: checksum mismatch (want %s)", i, id.Short())
		}
	}
	return nil
}
