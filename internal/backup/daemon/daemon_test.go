package daemon_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firnhq/firn/internal/backup/backuptest"
	"github.com/firnhq/firn/internal/backup/daemon"
	"github.com/firnhq/firn/internal/notify/target"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // a Sunday

// TestScheduledRuns: a cron job runs at 02:00 two days running; the
// second run is incremental, retention keeps one snapshot and prunes;
// the metrics endpoint shows the runs.
func TestScheduledRuns(t *testing.T) {
	ep := startFirn(t)
	repoURL := ep.initRepo(t, "host1", "")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.bin"), backuptest.RandBytes(200<<10, 1), 0o644)
	os.WriteFile(filepath.Join(src, "b.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("excluded"), 0o644)
	cfg := loadConfig(t, ep, dir, `
repo: `+repoURL+`
endpoint-url: {{endpoint}}
state-file: state.json
cache-dir: cache
metrics-address: 127.0.0.1:0
jobs:
  - name: app-daily
    schedule: cron(0 2 * * ? *)
    type: incremental
    paths: [src]
    exclude: ["*.tmp"]
    tags: [daily]
    retention: {keep-daily: 1, prune: true}
`)
	clk := newFakeClock(t0)
	d, runs := newDaemon(t, cfg, clk)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	clk.waitForWaiter(t)
	if fams := scrape(t, d); metric(t, fams, "firn_backup_next_run_timestamp_seconds", "job=app-daily") != float64(t0.Add(2*time.Hour).Unix()) {
		t.Errorf("next run: %v, want 02:00", metric(t, fams, "firn_backup_next_run_timestamp_seconds", "job=app-daily"))
	}
	clk.Advance(time.Hour + 59*time.Minute) // 01:59: nothing is due
	clk.waitForWaiter(t)
	clk.Advance(time.Minute) // 02:00
	r1 := waitRun(t, runs)
	if want := t0.Add(2 * time.Hour); r1.Result != daemon.ResultSuccess || !r1.Start.Equal(want) || r1.Files != 2 || r1.Type != "full" {
		t.Fatalf("first run: %+v; want a full success at %v with 2 files", r1, want)
	}
	os.WriteFile(filepath.Join(src, "a.bin"), backuptest.RandBytes(200<<10, 2), 0o644) // the old pack becomes unused
	clk.waitForWaiter(t)
	clk.Advance(24 * time.Hour) // 02:00 the next day
	r2 := waitRun(t, runs)
	if want := t0.Add(26 * time.Hour); r2.Result != daemon.ResultSuccess || !r2.Start.Equal(want) || r2.Type != "incremental" {
		t.Fatalf("second run: %+v; want an incremental success at %v", r2, want)
	}
	if r2.BytesRead != 200<<10 {
		t.Errorf("second run read %d bytes, want only the changed file's", r2.BytesRead)
	}
	if rt := r2.Retention; rt == nil || rt.Kept != 1 || rt.Removed != 1 || rt.PacksPruned == 0 || rt.Error != "" {
		t.Errorf("retention: %+v; want 1 kept, 1 removed, packs pruned", rt)
	}
	r := ep.openRepo(t, repoURL)
	sns, err := r.Snapshots(t.Context())
	if err != nil || len(sns) != 1 {
		t.Fatalf("snapshots after retention: %d, %v; want 1", len(sns), err)
	}
	if sn := sns[0]; !sn.Time.Equal(r2.Start) || !slices.Contains(sn.Tags, "daily") || !slices.Contains(sn.Tags, "job:app-daily") ||
		sn.ID.String() != r2.Snapshot {
		t.Errorf("kept snapshot %s at %v tags %v; want %s at %v", sn.ID, sn.Time, sn.Tags, r2.Snapshot, r2.Start)
	}

	clk.waitForWaiter(t)
	fams := scrape(t, d)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"firn_backup_success", []string{"job=app-daily"}, 1},
		{"firn_backup_runs_total", []string{"job=app-daily", "result=success"}, 2},
		{"firn_backup_runs_total", []string{"job=app-daily", "result=failure"}, 0},
		{"firn_backup_last_success_timestamp_seconds", []string{"job=app-daily"}, float64(r2.Start.Unix())},
		{"firn_backup_last_run_timestamp_seconds", []string{"job=app-daily"}, float64(r2.Start.Unix())},
		{"firn_backup_next_run_timestamp_seconds", []string{"job=app-daily"}, float64(t0.Add(50 * time.Hour).Unix())},
		{"firn_backup_bytes_read_total", []string{"job=app-daily"}, float64(r1.BytesRead + r2.BytesRead)},
		{"firn_backup_bytes_new_total", []string{"job=app-daily"}, float64(r1.BytesNew + r2.BytesNew)},
		{"firn_backup_files", []string{"job=app-daily"}, 2},
		{"firn_backup_snapshots_forgotten_total", []string{"job=app-daily"}, 1},
		{"firn_backup_alarm", []string{"job=app-daily", "alarm=failed"}, 0},
		{"firn_backup_running", []string{"job=app-daily"}, 0},
		{"firn_backup_duration_seconds", []string{"job=app-daily"}, r2.DurationSeconds},
	} {
		if got := metric(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if metric(t, fams, "firn_backup_duration_seconds", "job=app-daily") <= 0 {
		t.Error("duration is not positive")
	}
}

// TestOverlapSkipped: a run due while the previous one still goes is
// skipped and counted; rate(...) schedules count from when the job was
// first seen.
func TestOverlapSkipped(t *testing.T) {
	ep := startFirn(t)
	repoURL := ep.initRepo(t, "host1", "")
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	cfg := loadConfig(t, ep, dir, `
repo: `+repoURL+`
endpoint-url: {{endpoint}}
state-file: state.json
metrics-address: 127.0.0.1:0
jobs:
  - name: slow-cmd
    schedule: rate(5 minutes)
    stdin-from-command: "while [ ! -e '`+gate+`' ]; do sleep 0.02; done; echo done"
    stdin-name: out.txt
`)
	clk := newFakeClock(t0.Add(30 * time.Second))
	d, runs := newDaemon(t, cfg, clk)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	clk.waitForWaiter(t)
	clk.Advance(5 * time.Minute) // the first run starts and waits for the gate
	clk.waitForWaiter(t)
	clk.Advance(5 * time.Minute) // due again: skipped
	clk.waitForWaiter(t)
	if st := d.State("slow-cmd"); st.Skipped != 1 {
		t.Errorf("skipped %d runs, want 1", st.Skipped)
	}
	fams := scrape(t, d)
	if got := metric(t, fams, "firn_backup_skipped_runs_total", "job=slow-cmd"); got != 1 {
		t.Errorf("skipped_runs_total = %v, want 1", got)
	}
	if got := metric(t, fams, "firn_backup_running", "job=slow-cmd"); got != 1 {
		t.Errorf("running = %v, want 1", got)
	}
	os.WriteFile(gate, nil, 0o600)
	r := waitRun(t, runs)
	if want := t0.Add(5*time.Minute + 30*time.Second); r.Result != daemon.ResultSuccess || !r.Start.Equal(want) || r.Files != 1 {
		t.Errorf("run: %+v; want a success at %v", r, want)
	}
}

// TestAlarms: a failing job fires the failed alarm and notifies a
// webhook; a tiny max-duration fires the slow alarm; no-success-within
// fires once its window has passed; alarms and records survive a
// restart; a success resolves the alarms.
func TestAlarms(t *testing.T) {
	ep := startFirn(t)
	repoURL := ep.initRepo(t, "host1", "")
	h := newHook(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o644)
	missing := filepath.Join(dir, "missing")
	cfg := loadConfig(t, ep, dir, `
repo: `+repoURL+`
endpoint-url: {{endpoint}}
state-file: state.json
metrics-address: 127.0.0.1:0
notify: ["`+h.url+`"]
notify-success: true
jobs:
  - name: broken
    schedule: cron(0 0 1 1 ? 2199)
    paths: [missing]
    alarms: {no-success-within: 26h}
  - name: slow
    schedule: cron(0 0 1 1 ? 2199)
    paths: [src]
    alarms: {max-duration: 1ns}
`)
	hookTarget, err := target.Open(t.Context(), target.Spec{Name: "hook", Kind: target.KindWebhook, URL: h.url})
	if err != nil {
		t.Fatal(err)
	}
	defer hookTarget.Close()
	clk := newFakeClock(t0)
	d, _ := newDaemon(t, cfg, clk, hookTarget)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}

	rec, err := d.RunJob(t.Context(), "broken", nil)
	if err != nil || rec.Result != daemon.ResultFailure || !strings.Contains(rec.Error, "missing") {
		t.Fatalf("broken job: %+v, %v; want a failure naming the missing path", rec, err)
	}
	var run daemon.RunNotice
	m := h.next(t)
	if json.Unmarshal(m.body, &run); m.event != daemon.EventBackupFailed || run.Status != "FAILED" || run.Job != "broken" ||
		run.Bucket != "backups" || !strings.Contains(run.Error, "missing") || run.Type != "incremental" {
		t.Errorf("first notification: %s %s", m.event, m.body)
	}
	expectAlarm(t, h, "broken", daemon.AlarmFailed, daemon.AlarmFiring)

	rec, err = d.RunJob(t.Context(), "slow", nil)
	if err != nil || rec.Result != daemon.ResultSuccess {
		t.Fatalf("slow job: %+v, %v", rec, err)
	}
	m = h.next(t)
	if json.Unmarshal(m.body, &run); m.event != daemon.EventBackupSucceeded || run.Status != "SUCCESS" ||
		run.Location != "s3://backups/host1/snapshots/"+rec.Snapshot {
		t.Errorf("success notification: %s %s", m.event, m.body)
	}
	expectAlarm(t, h, "slow", daemon.AlarmMaxDuration, daemon.AlarmFiring)

	// 27 hours on, broken has not succeeded within 26h.
	clk.waitForWaiter(t)
	clk.Advance(27 * time.Hour)
	expectAlarm(t, h, "broken", daemon.AlarmNoSuccessWithin, daemon.AlarmFiring)
	clk.waitForWaiter(t)
	want := map[[2]string]float64{
		{"broken", daemon.AlarmFailed}: 1, {"broken", daemon.AlarmNoSuccessWithin}: 1,
		{"slow", daemon.AlarmFailed}: 0, {"slow", daemon.AlarmMaxDuration}: 1,
	}
	checkAlarms(t, d, want)
	fams := scrape(t, d)
	if got := metric(t, fams, "firn_backup_success", "job=broken"); got != 0 {
		t.Errorf("success{broken} = %v, want 0", got)
	}
	if got := metric(t, fams, "firn_backup_runs_total", "job=broken", "result=failure"); got != 1 {
		t.Errorf("runs_total{broken,failure} = %v, want 1", got)
	}

	// Restart: the state file brings back the alarms, the last runs and
	// the last success; no alarm is notified again.
	if err := d.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk = newFakeClock(clk.Now()) // the old scheduler's wait stays on the old clock
	d2, _ := newDaemon(t, cfg, clk, hookTarget)
	if err := d2.Start(); err != nil {
		t.Fatal(err)
	}
	clk.waitForWaiter(t) // the scheduler has checked the alarms
	checkAlarms(t, d2, want)
	fams = scrape(t, d2)
	if got := metric(t, fams, "firn_backup_last_success_timestamp_seconds", "job=slow"); got != float64(t0.Unix()) {
		t.Errorf("last success of slow after restart: %v, want %v", got, t0.Unix())
	}
	if got := metric(t, fams, "firn_backup_success", "job=broken"); got != 0 {
		t.Errorf("success{broken} after restart = %v, want 0", got)
	}
	if st := d2.State("broken"); len(st.History) != 1 || st.Failures != 1 || !st.Since.Equal(t0) {
		t.Errorf("state of broken after restart: %+v", st)
	}

	// broken is fixed: the success resolves both of its alarms.
	os.MkdirAll(missing, 0o755)
	if rec, err := d2.RunJob(t.Context(), "broken", nil); err != nil || rec.Result != daemon.ResultSuccess {
		t.Fatalf("fixed job: %+v, %v", rec, err)
	}
	if m := h.next(t); m.event != daemon.EventBackupSucceeded {
		t.Errorf("after the restart: %s %s; want the success (no repeated alarm)", m.event, m.body)
	}
	expectAlarm(t, h, "broken", daemon.AlarmFailed, daemon.AlarmResolved)
	expectAlarm(t, h, "broken", daemon.AlarmNoSuccessWithin, daemon.AlarmResolved)
	want[[2]string{"broken", daemon.AlarmFailed}] = 0
	want[[2]string{"broken", daemon.AlarmNoSuccessWithin}] = 0
	checkAlarms(t, d2, want)
}

func expectAlarm(t *testing.T, h *hook, job, alarm, state string) {
	t.Helper()
	m := h.next(t)
	var a daemon.AlarmNotice
	if err := json.Unmarshal(m.body, &a); err != nil || m.event != daemon.EventAlarm || a.Job != job || a.Alarm != alarm ||
		a.State != state || a.Reason == "" {
		t.Errorf("notification %s %s; want %s %s %s", m.event, m.body, job, alarm, state)
	}
}

func checkAlarms(t *testing.T, d *daemon.Daemon, want map[[2]string]float64) {
	t.Helper()
	fams := scrape(t, d)
	for k, v := range want {
		if got := metric(t, fams, "firn_backup_alarm", "job="+k[0], "alarm="+k[1]); got != v {
			t.Errorf("alarm{%s,%s} = %v, want %v", k[0], k[1], got, v)
		}
	}
}

// TestRestoreTest: a restore test restores the files of the latest
// snapshot from GLACIER packs (requesting restores) and checks them; once
// the packs are overwritten with garbage it fails and alarms.
func TestRestoreTest(t *testing.T) {
	ep := startFirn(t)
	repoURL := ep.initRepo(t, "host1", "GLACIER")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	backuptest.MakeTree(t, src)
	cfg := loadConfig(t, ep, dir, `
repo: `+repoURL+`
endpoint-url: {{endpoint}}
state-file: state.json
metrics-address: 127.0.0.1:0
scratch-dir: .
jobs:
  - name: app
    schedule: cron(0 0 1 1 ? 2199)
    paths: [src]
  - name: other
    schedule: cron(0 0 1 1 ? 2199)
    stdin-from-command: echo other
    stdin-name: other.txt
  - name: restore-test
    schedule: rate(7 days)
    restore-test: {job: app, sample: 20, tier: Bulk, poll: 20ms}
`)
	d, _ := newDaemon(t, cfg, newFakeClock(t0))
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if rec, err := d.RunJob(t.Context(), "restore-test", nil); err != nil || rec.Result != daemon.ResultFailure ||
		!strings.Contains(rec.Error, "no snapshot of job app") {
		t.Errorf("restore test before any backup: %+v, %v", rec, err)
	}
	app, err := d.RunJob(t.Context(), "app", nil)
	if err != nil || app.Result != daemon.ResultSuccess {
		t.Fatalf("backup: %+v, %v", app, err)
	}
	if rec, err := d.RunJob(t.Context(), "other", nil); err != nil || rec.Result != daemon.ResultSuccess {
		t.Fatalf("other backup: %+v, %v", rec, err)
	}
	rec, err := d.RunJob(t.Context(), "restore-test", nil)
	if err != nil || rec.Result != daemon.ResultSuccess {
		t.Fatalf("restore test: %+v, %v", rec, err)
	}
	rt := rec.RestoreTest
	if rt.Snapshot != app.Snapshot || rt.FilesInSnapshot != 7 || rt.FilesSampled != 7 || rt.BytesChecked != app.BytesTotal ||
		rt.PacksRestored == 0 || rt.PacksRestored != rt.Packs || len(rt.Mismatches) != 0 {
		t.Errorf("restore test result: %+v; want all 7 files of %s checked, restored from GLACIER", rt, app.Snapshot)
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, "firn-restore-test-*")); len(ents) != 0 {
		t.Errorf("scratch directories left behind: %v", ents)
	}
	fams := scrape(t, d)
	if got := metric(t, fams, "firn_backup_restore_test_success", "job=restore-test"); got != 1 {
		t.Errorf("restore_test_success = %v, want 1", got)
	}

	// Garbage in every data pack: the restore test fails.
	var packs int
	for _, k := range ep.keys(t, "host1/data/") {
		out, err := ep.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("backups"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		garbage := backuptest.RandBytes(int(aws.ToInt64(out.ContentLength)), 99)
		if _, err := ep.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String(k),
			Body: strings.NewReader(string(garbage))}); err != nil {
			t.Fatal(err)
		}
		packs++
	}
	if packs == 0 {
		t.Fatal("no data packs to tamper with")
	}
	rec, err = d.RunJob(t.Context(), "restore-test", nil)
	if err != nil || rec.Result != daemon.ResultFailure || !strings.Contains(rec.Error, "pack") {
		t.Fatalf("restore test of tampered packs: %+v, %v; want a failure naming a pack", rec, err)
	}
	fams = scrape(t, d)
	if got := metric(t, fams, "firn_backup_restore_test_success", "job=restore-test"); got != 0 {
		t.Errorf("restore_test_success after tampering = %v, want 0", got)
	}
	if got := metric(t, fams, "firn_backup_alarm", "job=restore-test", "alarm=failed"); got != 1 {
		t.Errorf("failed alarm of the restore test = %v, want 1", got)
	}
}

// TestStopInterrupts: Stop waits for a running job until its context
// ends, then interrupts it; an interrupted run fires no alarm.
func TestStopInterrupts(t *testing.T) {
	ep := startFirn(t)
	repoURL := ep.initRepo(t, "host1", "")
	dir := t.TempDir()
	cfg := loadConfig(t, ep, dir, `
repo: `+repoURL+`
endpoint-url: {{endpoint}}
state-file: state.json
jobs:
  - name: forever
    schedule: rate(1 minute)
    stdin-from-command: "while :; do sleep 0.02; done"
    stdin-name: out.txt
`)
	clk := newFakeClock(t0)
	d, runs := newDaemon(t, cfg, clk)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	clk.waitForWaiter(t)
	clk.Advance(time.Minute)
	clk.waitForWaiter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no grace: interrupt at once
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r := waitRun(t, runs)
	if r.Result != daemon.ResultInterrupted {
		t.Errorf("run stopped by Stop: %+v, want interrupted", r)
	}
	if st := d.State("forever"); len(st.Alarms) != 0 || st.Failures != 0 {
		t.Errorf("state after an interrupted run: %+v; want no alarm", st)
	}
}
