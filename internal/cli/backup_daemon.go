package cli

// firn backup daemon: the jobs of a jobs file on their schedules (package
// backup/daemon), or one job now with --once. This file wires the
// concrete parts: the notification targets of the file's notify list,
// the logger, the defaults of the state file and the cache.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/firnhq/firn/internal/backup"
	"github.com/firnhq/firn/internal/backup/daemon"
	"github.com/firnhq/firn/internal/notify/target"
)

func (e *backupEnv) daemon(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("firn backup daemon", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfgPath := fs.String("config", os.Getenv("FIRN_BACKUP_DAEMON_CONFIG"), "the jobs file (YAML, or TOML when it ends in .toml)")
	once := fs.String("once", "", "run job `JOB` once now and exit: 0 when it succeeds, 1 when it fails")
	fs.BoolVar(&e.asJSON, "json", false, "log in JSON; with --once print the run's record as JSON")
	fs.BoolVar(&e.quiet, "quiet", false, "log warnings and errors only, print no progress")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(pos) > 0 {
		return e.usagef("daemon: unexpected argument %q", pos[0])
	}
	if *cfgPath == "" {
		return e.usagef("daemon: give --config jobs.yaml")
	}
	cfg, err := daemon.LoadConfig(*cfgPath)
	if err != nil {
		return e.usagef("daemon: %v", err)
	}
	if cfg.StateFile == "" {
		if cfg.StateFile, err = daemon.DefaultStateFile(os.Getenv); err != nil {
			return e.usagef("daemon: %v", err)
		}
	}
	if cfg.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cfg.CacheDir = filepath.Join(d, "firn", "backup")
		}
	}
	var senders []daemon.Sender
	for i, dest := range cfg.Notify {
		spec, err := parseNotify(dest, os.Getenv)
		if err != nil {
			return e.usagef("daemon: notify #%d: %v", i+1, err)
		}
		spec.Name = fmt.Sprintf("notify-%d", i+1)
		t, err := target.Open(ctx, spec)
		if err != nil {
			return e.usagef("daemon: notify #%d: %v", i+1, err)
		}
		defer t.Close()
		senders = append(senders, t)
	}
	level := slog.LevelInfo
	if e.quiet {
		level = slog.LevelWarn
	}
	var h slog.Handler = slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})
	if e.asJSON {
		h = slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(h)
	d, err := daemon.New(cfg, daemon.Options{Log: log, Notify: senders, Program: "firn " + Version})
	if err != nil {
		return e.usagef("daemon: %v", err)
	}
	if *once != "" {
		return e.daemonOnce(ctx, d, *once)
	}
	if err := d.Start(); err != nil {
		d.Stop(context.Background())
		return e.failf("daemon: %v", err)
	}
	log.Info("backup daemon started", "jobs", d.Jobs(), "state_file", cfg.StateFile)
	<-ctx.Done()
	log.Info("stopping", "wait_for_runs", d.StopTimeout())
	sctx, cancel := context.WithTimeout(context.Background(), d.StopTimeout())
	defer cancel()
	if err := d.Stop(sctx); err != nil {
		log.Warn("stop", "err", err)
	}
	return ExitOK
}

// daemonOnce runs one job now, prints its record and returns 0 when it
// succeeded.
func (e *backupEnv) daemonOnce(ctx context.Context, d *daemon.Daemon, name string) int {
	p := &backup.Progress{}
	stop := e.progress(name, p)
	rec, err := d.RunJob(ctx, name, p)
	stop()
	// Stop delivers the notifications queued.
	sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d.Stop(sctx)
	if errors.Is(err, daemon.ErrUnknownJob) {
		return e.usagef("daemon: --once: %v", err)
	}
	if err != nil {
		return e.failf("daemon: %v", err)
	}
	if e.asJSON {
		if code := printJSON(e.stdout, e.stderr, rec); code != ExitOK {
			return code
		}
	} else {
		e.printRecord(rec)
	}
	if rec.Result != daemon.ResultSuccess {
		return e.failf("job %s: %s: %s", rec.Job, rec.Result, rec.Error)
	}
	return ExitOK
}

func (e *backupEnv) printRecord(r *daemon.Record) {
	w := e.stdout
	fmt.Fprintf(w, "job %s: %s in %.1fs\n", r.Job, r.Result, r.DurationSeconds)
	short := r.Snapshot
	if len(short) > 8 {
		short = short[:8]
	}
	if rt := r.RestoreTest; rt != nil {
		if rt.Snapshot != "" {
			fmt.Fprintf(w, "restore test of job %s, snapshot %s: %d of %d files restored and checked (%s), from %d packs (%d restored from an archive class)\n",
				rt.Job, short, rt.FilesSampled-len(rt.Mismatches), rt.FilesInSnapshot, human(rt.BytesChecked), rt.Packs, rt.PacksRestored)
		}
		for _, m := range rt.Mismatches {
			fmt.Fprintln(w, "mismatch:", m)
		}
		return
	}
	if r.Snapshot != "" {
		fmt.Fprintf(w, "snapshot %s (%s): %d files, %s; read %s, new %s, stored %s, %.0f%% deduplicated\n", short, r.Type, r.Files,
			human(r.BytesTotal), human(r.BytesRead), human(r.BytesNew), human(r.BytesStored), 100*r.DedupRatio)
	}
	if rt := r.Retention; rt != nil {
		fmt.Fprintf(w, "retention: kept %d snapshots, removed %d; pruned %d packs (%s)\n", rt.Kept, rt.Removed, rt.PacksPruned, human(rt.BytesFreed))
		if rt.Error != "" {
			fmt.Fprintln(w, "retention error:", rt.Error)
		}
	}
}
