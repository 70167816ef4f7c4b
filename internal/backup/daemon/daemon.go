// Package daemon runs backup jobs on schedules, applies their retention,
// tests restores, and reports: Prometheus metrics, alarms and
// notifications.
//
// A jobs file (Config, read by LoadConfig) lists the jobs: backups of
// paths, of a PostgreSQL database (pg_dump's output streamed into the
// snapshot) or of a command's output, and restore tests that restore a
// random sample of files of another job's latest snapshot, through the
// archive restore path when its packs are archived, and check them
// against the snapshot's checksums. Each job has a schedule (package
// schedule: EventBridge cron(...) and rate(...) expressions, or classic
// cron lines), evaluated in UTC.
//
// One goroutine schedules; each run has its own. A job runs at most once
// at a time: a run that is due while the previous one still goes is
// skipped and counted. Runs of different jobs may overlap, except that a
// prune takes its repository for itself (a prune must not run beside a
// backup of the same repository). Snapshots are tagged job:NAME, so that
// retention and restore tests see the job's own snapshots only.
//
// Every run is recorded in a JSON state file (the last runs, the last
// success and the alarms firing, per job), so that the alarms and the
// metrics survive restarts. Alarms: failed (the last run failed),
// max-duration (the last run took longer than allowed) and
// no-success-within (no successful run for that long). Each change of an
// alarm (firing, resolved) is notified; failed runs always are,
// successful ones when the file says notify-success. Notifications that
// cannot be delivered are logged and counted, never fatal.
//
// Time comes from a Clock, so that tests drive the schedules without
// waiting; durations of runs are measured on the process's monotonic
// clock.
//
// Caveats: firn backup daemon --once and a running daemon with the same
// state file each write it whole, so a record of one may overwrite the
// other's; a run that is due while the daemon is down is not caught up
// (the next one runs); max-duration is judged when a run ends.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/firnhq/firn/internal/backup"
	"github.com/firnhq/firn/internal/backup/schedule"
	"github.com/firnhq/firn/internal/notify/target"
)

// Clock tells the daemon the time and wakes it up.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// maxSleep caps one wait of the scheduler, so that a step of the wall
// clock (or a suspended machine) delays a run by at most that much.
const maxSleep = time.Minute

// Errors of RunJob.
var (
	ErrUnknownJob = errors.New("no such job")
	ErrRunning    = errors.New("the job is running")
)

// Options are what the caller wires in.
type Options struct {
	// Clock is the time source; nil is the system clock.
	Clock Clock
	// Log receives the daemon's log; nil discards it.
	Log *slog.Logger
	// Notify are the notification destinations (see Config.Notify):
	// the caller opens and closes them.
	Notify []Sender
	// Getenv reads FIRN_BACKUP_PASSWORD when there is no password file;
	// nil is os.Getenv.
	Getenv func(string) string
	// Program is recorded in snapshots, e.g. "firn 1.2".
	Program string
	// AfterRun, if set, is called with each run's record once it is
	// recorded (state, metrics, notifications queued).
	AfterRun func(Record)
}

// job is a configured job, ready to run.
type job struct {
	Job
	sched schedule.Schedule
	repo  repoRef // where its snapshots are: for a restore test, the tested job's
	// next is the next scheduled run; owned by the scheduler goroutine.
	next time.Time
	// running is guarded by Daemon.mu.
	running bool
}

// alarms returns the alarms configured for j.
func (j *job) alarms() []string {
	a := []string{AlarmFailed}
	if j.Alarms.MaxDuration > 0 {
		a = append(a, AlarmMaxDuration)
	}
	if j.Alarms.NoSuccessWithin > 0 {
		a = append(a, AlarmNoSuccessWithin)
	}
	return a
}

// repoRef says how to reach a repository.
type repoRef struct {
	URL, Endpoint, Region, Profile, PasswordFile string
}

func (r repoRef) key() string { return r.Endpoint + " " + r.URL }

// Daemon runs the jobs of a Config.
type Daemon struct {
	cfg      Config
	o        Options
	log      *slog.Logger
	clk      Clock
	m        *metrics
	notifier *notifier
	jobs     []*job
	byName   map[string]*job
	// locks holds a lock per repository: runs share it, prunes take it
	// alone. The map does not change after New.
	locks map[string]*sync.RWMutex

	runCtx     context.Context // the context of scheduled runs
	cancelRuns context.CancelFunc
	runWG      sync.WaitGroup // scheduled runs in progress

	stopSched context.CancelFunc
	schedDone chan struct{}
	srv       *http.Server
	ln        net.Listener
	srvDone   chan struct{}

	mu      sync.Mutex // guards state, job.running, started and stopped
	state   *State
	started bool
	stopped bool
}

// New checks cfg, loads the state file and prepares the jobs. It starts
// nothing but the notifier: call Start to schedule, or RunJob, and Stop
// in any case.
func New(cfg *Config, o Options) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.StateFile == "" {
		return nil, errors.New("no state-file")
	}
	st, err := LoadState(cfg.StateFile)
	if err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	d := &Daemon{cfg: *cfg, o: o, log: o.Log, clk: o.Clock, m: newMetrics(), byName: map[string]*job{},
		locks: map[string]*sync.RWMutex{}, state: st}
	if d.cfg.StopTimeout == 0 {
		d.cfg.StopTimeout = Duration(DefaultStopTimeout)
	}
	now := d.clk.Now()
	for _, jc := range cfg.Jobs {
		j := &job{Job: jc}
		d.jobs = append(d.jobs, j)
		d.byName[j.Name] = j
		js := st.Jobs[j.Name]
		if js == nil {
			js = &JobState{Since: now.UTC()}
			st.Jobs[j.Name] = js
		}
		if j.sched, err = schedule.Parse(j.Schedule); err != nil {
			return nil, err // Validate parsed it already
		}
		if r, ok := j.sched.(*schedule.Rate); ok {
			r.Start = js.Since // a rate counts from when the job was added
		}
	}
	for _, j := range d.jobs {
		src := &j.Job
		if j.RestoreTest != nil {
			src = &d.byName[j.RestoreTest.Job].Job
		}
		j.repo = repoRef{URL: cfg.repoOf(src), Endpoint: or(src.EndpointURL, cfg.EndpointURL), Region: or(src.Region, cfg.Region),
			Profile: or(src.Profile, cfg.Profile), PasswordFile: or(src.PasswordFile, cfg.PasswordFile)}
		if d.locks[j.repo.key()] == nil {
			d.locks[j.repo.key()] = &sync.RWMutex{}
		}
		d.m.initJob(j, st.Jobs[j.Name])
	}
	if err := st.save(cfg.StateFile); err != nil {
		return nil, err
	}
	d.runCtx, d.cancelRuns = context.WithCancel(context.Background())
	d.notifier = newNotifier(o.Notify, d.log, func(n int) { d.m.notifyFailed.Add(float64(n)) })
	return d, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Start serves the metrics (when the file gives metrics-address) and
// starts the scheduler.
func (d *Daemon) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.stopped {
		return errors.New("daemon already started or stopped")
	}
	if addr := d.cfg.MetricsAddress; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("metrics-address: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		d.ln = ln
		d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		d.srvDone = make(chan struct{})
		go func() {
			defer close(d.srvDone)
			if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("metrics server", "err", err)
			}
		}()
		d.log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}
	var ctx context.Context
	ctx, d.stopSched = context.WithCancel(context.Background())
	d.schedDone = make(chan struct{})
	go d.loop(ctx)
	d.started = true
	return nil
}

// MetricsAddr returns the address metrics are served on, "" when none.
func (d *Daemon) MetricsAddr() string {
	if d.ln == nil {
		return ""
	}
	return d.ln.Addr().String()
}

// Stop stops scheduling, waits for the runs in progress until ctx ends
// (then interrupts them and waits for them to end), stops serving
// metrics and delivers the notifications queued. It may be called more
// than once.
func (d *Daemon) Stop(ctx context.Context) error {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return nil
	}
	d.stopped = true
	started := d.started
	d.mu.Unlock()
	if started {
		d.stopSched()
		<-d.schedDone
	}
	done := make(chan struct{})
	go func() {
		d.runWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		d.log.Warn("interrupting the running jobs")
		d.cancelRuns()
		<-done
	}
	d.cancelRuns()
	var err error
	if d.srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = d.srv.Shutdown(sctx)
		cancel()
		<-d.srvDone
	}
	d.notifier.close()
	return err
}

// StopTimeout is how long the caller should let Stop wait for running
// jobs (the file's stop-timeout).
func (d *Daemon) StopTimeout() time.Duration { return time.Duration(d.cfg.StopTimeout) }

// Jobs returns the names of the jobs, in the file's order.
func (d *Daemon) Jobs() []string {
	var out []string
	for _, j := range d.jobs {
		out = append(out, j.Name)
	}
	return out
}

// State returns a copy of the state of job name (nil for an unknown
// job).
func (d *Daemon) State(name string) *JobState {
	d.mu.Lock()
	defer d.mu.Unlock()
	js := d.state.Jobs[name]
	if js == nil {
		return nil
	}
	c := *js
	c.History = append([]Record(nil), js.History...)
	c.Alarms = map[string]bool{}
	for k, v := range js.Alarms {
		c.Alarms[k] = v
	}
	return &c
}

// RunJob runs job name now, in the caller's goroutine, and returns its
// record (whose Result says whether it succeeded). p, if not nil,
// counts the backup's progress. It fails with ErrUnknownJob, or
// ErrRunning when the job is running already.
func (d *Daemon) RunJob(ctx context.Context, name string, p *backup.Progress) (*Record, error) {
	j := d.byName[name]
	if j == nil {
		return nil, fmt.Errorf("job %q: %w (jobs: %s)", name, ErrUnknownJob, strings.Join(d.Jobs(), ", "))
	}
	d.mu.Lock()
	if j.running {
		d.mu.Unlock()
		return nil, fmt.Errorf("job %s: %w", name, ErrRunning)
	}
	d.markRunning(j)
	d.mu.Unlock()
	rec := d.execute(ctx, j, p)
	return &rec, nil
}

// loop is the scheduler.
func (d *Daemon) loop(ctx context.Context) {
	defer close(d.schedDone)
	now := d.clk.Now()
	for _, j := range d.jobs {
		d.setNext(j, j.sched.Next(now))
	}
	for {
		now = d.clk.Now()
		wake := now.Add(maxSleep)
		for _, j := range d.jobs {
			if !j.next.IsZero() && !now.Before(j.next) {
				d.dispatch(j, j.next)
				d.setNext(j, j.sched.Next(now))
			}
			if !j.next.IsZero() && j.next.Before(wake) {
				wake = j.next
			}
			if dl := d.checkNoSuccess(j, now); !dl.IsZero() && dl.Before(wake) {
				wake = dl
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.clk.After(wake.Sub(now)):
		}
	}
}

func (d *Daemon) setNext(j *job, t time.Time) {
	if t.IsZero() {
		if !j.next.IsZero() {
			d.log.Warn("schedule will not fire again", "job", j.Name, "schedule", j.Schedule)
		}
		d.m.nextRun.WithLabelValues(j.Name).Set(0)
	} else {
		d.m.nextRun.WithLabelValues(j.Name).Set(float64(t.Unix()))
	}
	j.next = t
}

// dispatch starts a run of j due at due, unless one is going.
func (d *Daemon) dispatch(j *job, due time.Time) {
	d.mu.Lock()
	if j.running {
		d.state.Jobs[j.Name].Skipped++
		d.m.skipped.WithLabelValues(j.Name).Inc()
		err := d.state.save(d.cfg.StateFile)
		d.mu.Unlock()
		d.log.Warn("run skipped: the previous run is still going", "job", j.Name, "due", due)
		if err != nil {
			d.log.Error("save state", "err", err)
		}
		return
	}
	d.markRunning(j)
	d.mu.Unlock()
	d.runWG.Add(1)
	go func() {
		defer d.runWG.Done()
		d.execute(d.runCtx, j, nil)
	}()
}

// markRunning marks j running. d.mu must be held.
func (d *Daemon) markRunning(j *job) {
	j.running = true
	d.m.running.WithLabelValues(j.Name).Set(1)
}

// execute runs j (marked running by the caller) and records the run.
func (d *Daemon) execute(ctx context.Context, j *job, p *backup.Progress) Record {
	start := d.clk.Now().UTC()
	d.log.Info("run started", "job", j.Name, "kind", j.kind())
	var rec Record
	if j.RestoreTest != nil {
		rec = d.restoreTest(ctx, j, start)
	} else {
		rec = d.backup(ctx, j, start, p)
	}
	d.record(j, &rec)
	d.mu.Lock()
	j.running = false
	d.m.running.WithLabelValues(j.Name).Set(0)
	d.mu.Unlock()
	if d.o.AfterRun != nil {
		d.o.AfterRun(rec)
	}
	return rec
}

func (j *job) kind() string {
	if j.RestoreTest != nil {
		return KindRestoreTest
	}
	return KindBackup
}

// finish sets rec's result from err; ctx's end makes it interrupted.
func finish(ctx context.Context, rec *Record, err error) {
	switch {
	case err == nil:
		rec.Result = ResultSuccess
	case ctx.Err() != nil:
		rec.Result, rec.Error = ResultInterrupted, err.Error()
	default:
		rec.Result, rec.Error = ResultFailure, err.Error()
	}
}

// record stores rec in the state and the metrics, updates the alarms
// and queues the notifications.
func (d *Daemon) record(j *job, rec *Record) {
	log := d.log.With("job", j.Name, "result", rec.Result, "duration", rec.Duration().Round(time.Millisecond))
	switch rec.Result {
	case ResultSuccess:
		log.Info("run done", "snapshot", rec.Snapshot, "files", rec.Files, "bytes_read", rec.BytesRead, "bytes_new", rec.BytesNew)
	default:
		log.Warn("run failed", "err", rec.Error)
	}
	if rec.Retention != nil && rec.Retention.Error != "" {
		log.Warn("retention failed", "err", rec.Retention.Error)
	}
	now := d.clk.Now().UTC()
	d.mu.Lock()
	js := d.state.Jobs[j.Name]
	js.Runs++
	if rec.Result == ResultFailure {
		js.Failures++
	}
	if rec.Result == ResultSuccess {
		js.LastSuccess = rec.Start
		d.m.lastSuccess.WithLabelValues(j.Name).Set(float64(rec.Start.Unix()))
	}
	js.History = append(js.History, *rec)
	if len(js.History) > historyLen {
		js.History = append([]Record(nil), js.History[len(js.History)-historyLen:]...)
	}
	d.m.runs.WithLabelValues(j.Name, rec.Result).Inc()
	if j.RestoreTest == nil {
		d.m.bytesRead.WithLabelValues(j.Name).Add(float64(rec.BytesRead))
		d.m.bytesNew.WithLabelValues(j.Name).Add(float64(rec.BytesNew))
		d.m.bytesStor.WithLabelValues(j.Name).Add(float64(rec.BytesStored))
	}
	if rt := rec.Retention; rt != nil {
		d.m.forgotten.WithLabelValues(j.Name).Add(float64(rt.Removed))
		d.m.pruned.WithLabelValues(j.Name).Add(float64(rt.BytesFreed))
	}
	var msgs []target.Message
	if rec.Result != ResultInterrupted {
		d.m.setLast(j, rec)
		if rec.Result == ResultFailure || d.cfg.NotifySuccess {
			msgs = append(msgs, d.runMessage(j, rec, js.Runs))
		}
		failed := rec.Result == ResultFailure
		reason := "a run succeeded"
		if failed {
			reason = "the last run failed: " + rec.Error
		}
		msgs = append(msgs, d.setAlarm(j, AlarmFailed, failed, reason, rec, now)...)
		if max := time.Duration(j.Alarms.MaxDuration); max > 0 {
			slow := rec.Duration() > max
			reason := fmt.Sprintf("the last run took %v, within max-duration %v", rec.Duration().Round(time.Millisecond), max)
			if slow {
				reason = fmt.Sprintf("the last run took %v, above max-duration %v", rec.Duration().Round(time.Millisecond), max)
			}
			msgs = append(msgs, d.setAlarm(j, AlarmMaxDuration, slow, reason, rec, now)...)
		}
		if rec.Result == ResultSuccess && j.Alarms.NoSuccessWithin > 0 {
			msgs = append(msgs, d.setAlarm(j, AlarmNoSuccessWithin, false, "a run succeeded", rec, now)...)
		}
	}
	err := d.state.save(d.cfg.StateFile)
	d.mu.Unlock()
	if err != nil {
		d.log.Error("save state", "err", err)
	}
	d.notifier.enqueue(msgs...)
}

// setAlarm sets alarm of j to firing (or resolved) and returns the
// notification of the change, if it is one. d.mu must be held.
func (d *Daemon) setAlarm(j *job, alarm string, firing bool, reason string, last *Record, now time.Time) []target.Message {
	js := d.state.Jobs[j.Name]
	if js.Alarms[alarm] == firing {
		return nil
	}
	if js.Alarms == nil {
		js.Alarms = map[string]bool{}
	}
	state := AlarmResolved
	if firing {
		js.Alarms[alarm] = true
		state = AlarmFiring
		d.log.Warn("alarm firing", "job", j.Name, "alarm", alarm, "reason", reason)
	} else {
		delete(js.Alarms, alarm)
		d.log.Info("alarm resolved", "job", j.Name, "alarm", alarm, "reason", reason)
	}
	d.m.alarm.WithLabelValues(j.Name, alarm).Set(b2f(firing))
	body := AlarmNotice{Job: j.Name, Alarm: alarm, State: state, Time: now, Reason: reason, Run: last}
	bucket, _ := j.repo.split()
	return []target.Message{{ID: messageID(j.Name, alarm, state, now.Format(time.RFC3339Nano), strconv.FormatInt(js.Runs, 10)), Event: EventAlarm,
		Bucket: bucket, Body: mustJSON(body)}}
}

// checkNoSuccess fires the no-success-within alarm of j when its window
// has passed at now, and otherwise returns when it will have.
func (d *Daemon) checkNoSuccess(j *job, now time.Time) time.Time {
	w := time.Duration(j.Alarms.NoSuccessWithin)
	if w <= 0 {
		return time.Time{}
	}
	d.mu.Lock()
	js := d.state.Jobs[j.Name]
	ref := js.Since
	if js.LastSuccess.After(ref) {
		ref = js.LastSuccess
	}
	if deadline := ref.Add(w); now.Before(deadline) {
		d.mu.Unlock()
		return deadline
	}
	reason := fmt.Sprintf("no successful run within %v (since %s)", w, ref.UTC().Format(time.RFC3339))
	msgs := d.setAlarm(j, AlarmNoSuccessWithin, true, reason, js.Last(), now.UTC())
	var err error
	if len(msgs) > 0 {
		err = d.state.save(d.cfg.StateFile)
	}
	d.mu.Unlock()
	if err != nil {
		d.log.Error("save state", "err", err)
	}
	d.notifier.enqueue(msgs...)
	return time.Time{}
}

// runMessage is the notification of a finished run.
func (d *Daemon) runMessage(j *job, rec *Record, seq int64) target.Message {
	ok := rec.Result == ResultSuccess
	n := RunNotice{Status: "FAILED", Job: j.Name, Kind: rec.Kind, Type: rec.Type, Time: rec.Start, Error: rec.Error, Run: rec}
	if ok {
		n.Status = "SUCCESS"
	}
	event := map[[2]bool]string{
		{false, false}: EventBackupFailed, {false, true}: EventBackupSucceeded,
		{true, false}: EventRestoreTestFailed, {true, true}: EventRestoreTestSucceeded,
	}[[2]bool{j.RestoreTest != nil, ok}]
	bucket, prefix := j.repo.split()
	n.Bucket, n.Location = bucket, j.repo.URL
	key := ""
	if rec.Snapshot != "" {
		key = strings.TrimPrefix(prefix+"/snapshots/"+rec.Snapshot, "/")
		n.Location = "s3://" + bucket + "/" + key
	}
	return target.Message{ID: messageID(j.Name, event, rec.Start.Format(time.RFC3339Nano), strconv.FormatInt(seq, 10)), Event: event, Bucket: bucket, Key: key,
		Body: mustJSON(n)}
}
