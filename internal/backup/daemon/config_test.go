package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// example is the jobs file of docs/backup-daemon.md.
const exampleYAML = `
repo: s3://backups/host1        # default for jobs
endpoint-url: http://127.0.0.1:9000
password-file: /etc/firn/backup.pass
metrics-address: 127.0.0.1:9464
notify: ["https://hooks.example/backup", "mailto:ops@example.com"]
jobs:
  - name: app-daily
    schedule: cron(0 2 * * ? *)
    type: incremental
    paths: [/srv/app]
    exclude: ["*.tmp"]
    tags: [daily]
    storage-class: GLACIER
    retention: {keep-daily: 7, keep-weekly: 4, keep-monthly: 12}
    alarms: {max-duration: 600s, no-success-within: 26h}
  - name: app-weekly-full
    schedule: cron(0 1 ? * SUN *)
    type: full
    paths: [/srv/app]
  - name: db
    schedule: "0 3 * * *"
    postgres: postgres://postgres@127.0.0.1:5432/test
  - name: restore-test
    schedule: rate(7 days)
    restore-test: {job: app-daily, sample: 20, tier: Bulk}
`

const exampleTOML = `
repo = "s3://backups/host1"
endpoint-url = "http://127.0.0.1:9000"
password-file = "/etc/firn/backup.pass"
metrics-address = "127.0.0.1:9464"
notify = ["https://hooks.example/backup", "mailto:ops@example.com"]

[[jobs]]
name = "app-daily"
schedule = "cron(0 2 * * ? *)"
type = "incremental"
paths = ["/srv/app"]
exclude = ["*.tmp"]
tags = ["daily"]
storage-class = "GLACIER"
retention = { keep-daily = 7, keep-weekly = 4, keep-monthly = 12 }
alarms = { max-duration = "600s", no-success-within = "26h" }

[[jobs]]
name = "app-weekly-full"
schedule = "cron(0 1 ? * SUN *)"
type = "full"
paths = ["/srv/app"]

[[jobs]]
name = "db"
schedule = "0 3 * * *"
postgres = "postgres://postgres@127.0.0.1:5432/test"

[[jobs]]
name = "restore-test"
schedule = "rate(7 days)"
restore-test = { job = "app-daily", sample = 20, tier = "Bulk" }
`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadExample(t *testing.T) {
	for name, text := range map[string]string{"jobs.yaml": exampleYAML, "jobs.toml": exampleTOML} {
		c, err := LoadConfig(writeFile(t, name, text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Repo != "s3://backups/host1" || c.MetricsAddress != "127.0.0.1:9464" || len(c.Notify) != 2 || len(c.Jobs) != 4 {
			t.Errorf("%s: %+v", name, c)
		}
		j := c.Jobs[0]
		if j.Alarms.MaxDuration != Duration(600*time.Second) || j.Alarms.NoSuccessWithin != Duration(26*time.Hour) ||
			j.Retention == nil || j.Retention.KeepDaily != 7 || j.Retention.KeepMonthly != 12 || j.StorageClass != "GLACIER" ||
			j.Exclude[0] != "*.tmp" || j.Tags[0] != "daily" {
			t.Errorf("%s: app-daily %+v", name, j)
		}
		if rt := c.Jobs[3].RestoreTest; rt == nil || rt.Job != "app-daily" || rt.Sample != 20 || rt.Tier != "Bulk" {
			t.Errorf("%s: restore-test %+v", name, rt)
		}
		if c.Jobs[2].Postgres != "postgres://postgres@127.0.0.1:5432/test" {
			t.Errorf("%s: db %+v", name, c.Jobs[2])
		}
	}
}

func TestRelativePaths(t *testing.T) {
	p := writeFile(t, "jobs.yaml", `
repo: s3://b/p
password-file: pw
state-file: state/s.json
jobs: [{name: a, schedule: rate(1 hour), paths: [src, /abs]}]
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if c.PasswordFile != filepath.Join(dir, "pw") || c.StateFile != filepath.Join(dir, "state/s.json") ||
		c.Jobs[0].Paths[0] != filepath.Join(dir, "src") || c.Jobs[0].Paths[1] != "/abs" {
		t.Errorf("paths not resolved against the file's directory: %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"repo: s3://b/p\n", "no jobs"},
		{"repo: s3://b/p\nbogus: 1\njobs: []\n", "field bogus not found"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), paths: [/x], colour: red}]\n", "field colour not found"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: 'cron(0 2 * * * *)', paths: [/x]}]\n", `job a: schedule "cron(0 2 * * * *)": day-of-month "*" and day-of-week "*": exactly one of them must be ?`},
		{"repo: s3://b/p\njobs: [{name: a, paths: [/x]}]\n", "job a: no schedule"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour)}]\n", "job a: nothing to back up"},
		{"repo: s3://b/p\njobs: [{name: 'bad name', schedule: rate(1 hour), paths: [/x]}]\n", `name "bad name"`},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), paths: [/x]}, {name: a, schedule: rate(1 hour), paths: [/y]}]\n", "job a: defined twice"},
		{"jobs: [{name: a, schedule: rate(1 hour), paths: [/x]}]\n", "job a: no repository"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), paths: [/x], type: weekly}]\n", `type "weekly"`},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), postgres: 'postgres://h/d', stdin-from-command: ls, stdin-name: x}]\n", "exclude each other"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), postgres: 'mysql://h/d'}]\n", "postgres: want a URL"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), stdin-from-command: ls}]\n", "stdin-from-command needs stdin-name"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), paths: [/x], retention: {prune: true}}]\n", "give at least one keep-* rule"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), paths: [/x], retention: {keep-last: -1}}]\n", "must not be negative"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), paths: [/x], alarms: {max-duration: soon}}]\n", `duration "soon"`},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 hour), paths: [/x], alarms: {max-duration: -5s}}]\n", "negative"},
		{"repo: s3://b/p\njobs: [{name: t, schedule: rate(1 day), restore-test: {job: nope}}]\n", `restore-test: no job "nope"`},
		{"repo: s3://b/p\njobs: [{name: t, schedule: rate(1 day), restore-test: {job: t}}]\n", "is a restore test itself"},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 day), paths: [/x]}, {name: t, schedule: rate(1 day), restore-test: {job: a, tier: Fast}}]\n", `tier "Fast"`},
		{"repo: s3://b/p\njobs: [{name: a, schedule: rate(1 day), paths: [/x]}, {name: t, schedule: rate(1 day), paths: [/y], restore-test: {job: a}}]\n", "backs nothing up"},
	} {
		_, err := LoadConfig(writeFile(t, "jobs.yaml", tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
	if _, err := LoadConfig(writeFile(t, "jobs.toml", "repo = 's3://b/p'\nbogus = 1\n")); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown TOML key: %v", err)
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"600s": 600 * time.Second, "26h": 26 * time.Hour, "7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "90": 90 * time.Second,
		"1h30m": 90 * time.Minute,
	} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || time.Duration(d) != want {
			t.Errorf("%q: %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"", "x", "5 parsecs", "-1h", "d"} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestDefaultStateFile(t *testing.T) {
	env := map[string]string{"STATE_DIRECTORY": "/var/lib/firn-backup:/other", "XDG_STATE_HOME": "/x"}
	if got, _ := DefaultStateFile(func(k string) string { return env[k] }); got != "/var/lib/firn-backup/backup-daemon.json" {
		t.Errorf("with STATE_DIRECTORY: %s", got)
	}
	delete(env, "STATE_DIRECTORY")
	if got, _ := DefaultStateFile(func(k string) string { return env[k] }); got != "/x/firn/backup-daemon.json" {
		t.Errorf("with XDG_STATE_HOME: %s", got)
	}
}
