package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Alarm names (the alarm label of firn_backup_alarm).
const (
	AlarmFailed          = "failed"            // the last run failed
	AlarmMaxDuration     = "max-duration"      // the last run took longer than alarms.max-duration
	AlarmNoSuccessWithin = "no-success-within" // no success within alarms.no-success-within
)

// metrics are the daemon's Prometheus metrics, in their own registry.
type metrics struct {
	reg *prometheus.Registry

	success, duration, lastSuccess, lastRun, files, dedup *prometheus.GaugeVec
	running, nextRun, restoreTest, alarm                  *prometheus.GaugeVec

	runs                                    *prometheus.CounterVec // job, result
	skipped, bytesRead, bytesNew, bytesStor *prometheus.CounterVec // job
	forgotten, pruned                       *prometheus.CounterVec // job
	notifyFailed                            prometheus.Counter
}

func newMetrics() *metrics {
	job := []string{"job"}
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "firn", Subsystem: "backup", Name: name, Help: help}, labels)
	}
	c := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "firn", Subsystem: "backup", Name: name, Help: help}, labels)
	}
	m := &metrics{
		reg:          prometheus.NewRegistry(),
		success:      g("success", "1 when the job's last run succeeded, 0 when it failed (BackupSuccess).", job...),
		duration:     g("duration_seconds", "Duration of the job's last run in seconds (BackupDuration).", job...),
		lastSuccess:  g("last_success_timestamp_seconds", "Unix time of the start of the job's last successful run.", job...),
		lastRun:      g("last_run_timestamp_seconds", "Unix time of the start of the job's last run.", job...),
		files:        g("files", "Files in the snapshot of the job's last run.", job...),
		dedup:        g("dedup_ratio", "Share of the bytes read by the job's last run that the repository already held (0 to 1).", job...),
		running:      g("running", "1 while the job runs.", job...),
		nextRun:      g("next_run_timestamp_seconds", "Unix time of the job's next scheduled run (0: none).", job...),
		restoreTest:  g("restore_test_success", "1 when the job's last restore test succeeded, 0 when it failed.", job...),
		alarm:        g("alarm", "1 while the alarm fires.", "job", "alarm"),
		runs:         c("runs_total", "Runs, by result (success, failure, interrupted).", "job", "result"),
		skipped:      c("skipped_runs_total", "Scheduled runs skipped because the previous run of the job was still going.", job...),
		bytesRead:    c("bytes_read_total", "Bytes read from the sources.", job...),
		bytesNew:     c("bytes_new_total", "Bytes of new (not deduplicated) data added to the repository, before compression.", job...),
		bytesStor:    c("bytes_stored_total", "Bytes added to the repository's packs (compressed and encrypted).", job...),
		forgotten:    c("snapshots_forgotten_total", "Snapshots removed by retention.", job...),
		pruned:       c("pruned_bytes_total", "Bytes of packs deleted by retention's prune.", job...),
		notifyFailed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "firn", Subsystem: "backup", Name: "notifications_failed_total", Help: "Notifications that could not be delivered to a destination."}),
	}
	m.reg.MustRegister(m.success, m.duration, m.lastSuccess, m.lastRun, m.files, m.dedup, m.running, m.nextRun,
		m.restoreTest, m.alarm, m.runs, m.skipped, m.bytesRead, m.bytesNew, m.bytesStor, m.forgotten, m.pruned, m.notifyFailed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// initJob creates j's series, so that they show before its first run,
// and sets them from its state.
func (m *metrics) initJob(j *job, st *JobState) {
	n := j.Name
	for _, r := range []string{ResultSuccess, ResultFailure, ResultInterrupted} {
		m.runs.WithLabelValues(n, r)
	}
	m.skipped.WithLabelValues(n)
	m.running.WithLabelValues(n).Set(0)
	m.nextRun.WithLabelValues(n)
	for _, a := range j.alarms() {
		m.alarm.WithLabelValues(n, a).Set(b2f(st.Alarms[a]))
	}
	if j.RestoreTest == nil {
		m.bytesRead.WithLabelValues(n)
		m.bytesNew.WithLabelValues(n)
		m.bytesStor.WithLabelValues(n)
	}
	if !st.LastSuccess.IsZero() {
		m.lastSuccess.WithLabelValues(n).Set(float64(st.LastSuccess.Unix()))
	}
	if last := st.Last(); last != nil && last.Result != ResultInterrupted {
		m.setLast(j, last)
	}
}

// setLast sets the gauges of j's last run.
func (m *metrics) setLast(j *job, r *Record) {
	n := j.Name
	ok := b2f(r.Result == ResultSuccess)
	m.lastRun.WithLabelValues(n).Set(float64(r.Start.Unix()))
	m.duration.WithLabelValues(n).Set(r.DurationSeconds)
	if j.RestoreTest != nil {
		m.restoreTest.WithLabelValues(n).Set(ok)
		return
	}
	m.success.WithLabelValues(n).Set(ok)
	if r.Result == ResultSuccess {
		m.files.WithLabelValues(n).Set(float64(r.Files))
		m.dedup.WithLabelValues(n).Set(r.DedupRatio)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
