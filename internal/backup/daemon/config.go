package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"

	"github.com/firnhq/firn/internal/backup/repo"
	"github.com/firnhq/firn/internal/backup/schedule"
)

// Config is a jobs file: settings shared by the jobs, and the jobs.
// Relative paths in a loaded file (password-file, state-file, cache-dir,
// scratch-dir and job paths) are relative to the file's directory.
type Config struct {
	// Repo is the repository of jobs that give none: s3://bucket/prefix.
	Repo string `yaml:"repo" toml:"repo"`
	// EndpointURL is the S3 endpoint ("" for AWS); Region and Profile
	// select the AWS region and shared-config profile.
	EndpointURL string `yaml:"endpoint-url" toml:"endpoint-url"`
	Region      string `yaml:"region" toml:"region"`
	Profile     string `yaml:"profile" toml:"profile"`
	// PasswordFile holds the repository password; without it the
	// password comes from FIRN_BACKUP_PASSWORD.
	PasswordFile string `yaml:"password-file" toml:"password-file"`
	// CacheDir caches repository metadata; "" for none.
	CacheDir string `yaml:"cache-dir" toml:"cache-dir"`
	// StateFile keeps the runs' records and the alarms across restarts.
	StateFile string `yaml:"state-file" toml:"state-file"`
	// MetricsAddress is where /metrics is served (host:port); "" for
	// nowhere.
	MetricsAddress string `yaml:"metrics-address" toml:"metrics-address"`
	// Host is recorded in snapshots; default the machine's name.
	Host string `yaml:"host" toml:"host"`
	// Notify lists notification destinations (webhook URLs, nats://,
	// mailto:), opened by the caller: failures and alarm changes are
	// always sent, successes when NotifySuccess.
	Notify        []string `yaml:"notify" toml:"notify"`
	NotifySuccess bool     `yaml:"notify-success" toml:"notify-success"`
	// StopTimeout is how long a stop waits for running jobs before it
	// interrupts them (default 1m).
	StopTimeout Duration `yaml:"stop-timeout" toml:"stop-timeout"`
	// ScratchDir is where restore tests restore to (default the
	// system's temporary directory).
	ScratchDir string `yaml:"scratch-dir" toml:"scratch-dir"`
	Jobs       []Job  `yaml:"jobs" toml:"jobs"`
}

// Job is one scheduled job: a backup (of paths, a PostgreSQL database
// or a command's output) or a restore test.
type Job struct {
	Name     string `yaml:"name" toml:"name"`
	Schedule string `yaml:"schedule" toml:"schedule"`
	// Type is full or incremental (default).
	Type         string   `yaml:"type" toml:"type"`
	Paths        []string `yaml:"paths" toml:"paths"`
	Exclude      []string `yaml:"exclude" toml:"exclude"`
	Tags         []string `yaml:"tags" toml:"tags"`
	StorageClass string   `yaml:"storage-class" toml:"storage-class"`
	// Postgres is a database URL: its pg_dump output is stored as
	// StdinName (default db.sql). PgDumpArgs are more pg_dump arguments.
	Postgres   string   `yaml:"postgres" toml:"postgres"`
	PgDumpArgs []string `yaml:"pg-dump-args" toml:"pg-dump-args"`
	// StdinFromCommand is a shell command whose output is stored as
	// StdinName.
	StdinFromCommand string `yaml:"stdin-from-command" toml:"stdin-from-command"`
	StdinName        string `yaml:"stdin-name" toml:"stdin-name"`

	Retention   *Retention   `yaml:"retention" toml:"retention"`
	Alarms      Alarms       `yaml:"alarms" toml:"alarms"`
	RestoreTest *RestoreTest `yaml:"restore-test" toml:"restore-test"`

	// Repository settings that override the file's for this job.
	Repo         string `yaml:"repo" toml:"repo"`
	EndpointURL  string `yaml:"endpoint-url" toml:"endpoint-url"`
	Region       string `yaml:"region" toml:"region"`
	Profile      string `yaml:"profile" toml:"profile"`
	PasswordFile string `yaml:"password-file" toml:"password-file"`
}

// Retention is applied to a job's own snapshots after each successful
// run: the keep rules of firn backup forget, then, with Prune, a prune
// of the repository.
type Retention struct {
	KeepLast    int  `yaml:"keep-last" toml:"keep-last"`
	KeepHourly  int  `yaml:"keep-hourly" toml:"keep-hourly"`
	KeepDaily   int  `yaml:"keep-daily" toml:"keep-daily"`
	KeepWeekly  int  `yaml:"keep-weekly" toml:"keep-weekly"`
	KeepMonthly int  `yaml:"keep-monthly" toml:"keep-monthly"`
	KeepYearly  int  `yaml:"keep-yearly" toml:"keep-yearly"`
	Prune       bool `yaml:"prune" toml:"prune"`
}

// Alarms configures a job's optional alarms (the failed-run alarm is
// always on).
type Alarms struct {
	// MaxDuration fires when a run takes longer.
	MaxDuration Duration `yaml:"max-duration" toml:"max-duration"`
	// NoSuccessWithin fires when the job has not succeeded for that
	// long (counted from when the daemon first saw the job).
	NoSuccessWithin Duration `yaml:"no-success-within" toml:"no-success-within"`
}

// RestoreTest restores a random sample of the files of the latest
// snapshot of another job and checks them.
type RestoreTest struct {
	// Job is the backup job whose snapshots are tested.
	Job string `yaml:"job" toml:"job"`
	// Sample is how many files to restore (default 20).
	Sample int `yaml:"sample" toml:"sample"`
	// Tier restores archived packs: Expedited, Standard or Bulk
	// (default).
	Tier string `yaml:"tier" toml:"tier"`
	// Days keeps restored copies (default 1).
	Days int `yaml:"days" toml:"days"`
	// Poll is how often restores in progress are checked (default 1m).
	Poll Duration `yaml:"poll" toml:"poll"`
}

// Defaults of a restore test.
const (
	DefaultSample      = 20
	DefaultTier        = "Bulk"
	DefaultPoll        = time.Minute
	DefaultStopTimeout = time.Minute
	DefaultStdinName   = "db.sql"
)

// Duration is a time.Duration read from "90s", "26h", "7d" (days) or a
// bare number of seconds.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		*d = Duration(n * float64(time.Second))
		return d.check(s)
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil {
			return fmt.Errorf("duration %q: want e.g. 90s, 26h or 7d", s)
		}
		*d = Duration(n * float64(24*time.Hour))
		return d.check(s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want e.g. 90s, 26h or 7d", s)
	}
	*d = Duration(v)
	return d.check(s)
}

func (d Duration) check(s string) error {
	if d < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// LoadConfig reads a jobs file: TOML when its name ends in .toml, YAML
// otherwise. Unknown keys are errors. It validates the result (Validate).
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if strings.EqualFold(filepath.Ext(path), ".toml") {
		dec := toml.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			var sm *toml.StrictMissingError
			if errors.As(err, &sm) {
				return nil, fmt.Errorf("%s: unknown keys:\n%s", path, strings.TrimSpace(sm.String()))
			}
			var de *toml.DecodeError
			if errors.As(err, &de) {
				row, col := de.Position()
				return nil, fmt.Errorf("%s:%d:%d: %v", path, row, col, err)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	c.resolve(filepath.Dir(path))
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// resolve makes relative paths relative to dir.
func (c *Config) resolve(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.PasswordFile)
	abs(&c.StateFile)
	abs(&c.CacheDir)
	abs(&c.ScratchDir)
	for i := range c.Jobs {
		j := &c.Jobs[i]
		abs(&j.PasswordFile)
		for k := range j.Paths {
			abs(&j.Paths[k])
		}
	}
}

// Validate checks the file and returns every problem found.
func (c *Config) Validate() error {
	var probs []string
	fail := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if len(c.Jobs) == 0 {
		fail("no jobs")
	}
	byName := map[string]*Job{}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		if !validName(j.Name) {
			fail("job #%d: name %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", i+1, j.Name)
			continue
		}
		if byName[j.Name] != nil {
			fail("job %s: defined twice", j.Name)
		}
		byName[j.Name] = j
	}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		if !validName(j.Name) {
			continue
		}
		jf := func(format string, args ...any) { fail("job %s: %s", j.Name, fmt.Sprintf(format, args...)) }
		if j.Schedule == "" {
			jf("no schedule")
		} else if _, err := schedule.Parse(j.Schedule); err != nil {
			jf("%v", err)
		}
		if j.Alarms.MaxDuration < 0 || j.Alarms.NoSuccessWithin < 0 {
			jf("alarm durations must not be negative")
		}
		if j.RestoreTest != nil {
			c.validateRestoreTest(j, byName, jf)
			continue
		}
		c.validateBackup(j, jf)
	}
	if c.StopTimeout < 0 {
		fail("stop-timeout must not be negative")
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

func (c *Config) validateBackup(j *Job, jf func(string, ...any)) {
	switch j.Type {
	case "", repo.TypeFull, repo.TypeIncremental:
	default:
		jf("type %q: want full or incremental", j.Type)
	}
	if len(j.Paths) == 0 && j.Postgres == "" && j.StdinFromCommand == "" {
		jf("nothing to back up: give paths, postgres or stdin-from-command (or restore-test)")
	}
	if j.Postgres != "" && j.StdinFromCommand != "" {
		jf("postgres and stdin-from-command exclude each other")
	}
	if j.StdinFromCommand != "" && j.StdinName == "" {
		jf("stdin-from-command needs stdin-name")
	}
	if j.StdinName != "" && j.Postgres == "" && j.StdinFromCommand == "" {
		jf("stdin-name needs postgres or stdin-from-command")
	}
	if len(j.PgDumpArgs) > 0 && j.Postgres == "" {
		jf("pg-dump-args needs postgres")
	}
	if j.Postgres != "" && !strings.HasPrefix(j.Postgres, "postgres://") && !strings.HasPrefix(j.Postgres, "postgresql://") {
		jf("postgres: want a URL postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE")
	}
	if c.repoOf(j) == "" {
		jf("no repository: give repo in the job or at the top of the file")
	}
	if r := j.Retention; r != nil {
		if min(r.KeepLast, r.KeepHourly, r.KeepDaily, r.KeepWeekly, r.KeepMonthly, r.KeepYearly) < 0 {
			jf("retention: keep-* must not be negative")
		}
		if r.policy().Empty() {
			jf("retention: give at least one keep-* rule (an empty policy would remove every snapshot)")
		}
	}
}

func (c *Config) validateRestoreTest(j *Job, byName map[string]*Job, jf func(string, ...any)) {
	rt := j.RestoreTest
	if len(j.Paths) > 0 || j.Postgres != "" || j.StdinFromCommand != "" || j.Retention != nil || j.Type != "" {
		jf("a restore-test job backs nothing up: drop paths, postgres, stdin-from-command, type and retention")
	}
	t := byName[rt.Job]
	switch {
	case rt.Job == "":
		jf("restore-test: give the job to test")
	case t == nil:
		jf("restore-test: no job %q", rt.Job)
	case t.RestoreTest != nil:
		jf("restore-test: job %s is a restore test itself", rt.Job)
	}
	if rt.Sample < 0 || rt.Days < 0 || rt.Poll < 0 {
		jf("restore-test: sample, days and poll must not be negative")
	}
	switch rt.Tier {
	case "", "Expedited", "Standard", "Bulk":
	default:
		jf("restore-test: tier %q: want Expedited, Standard or Bulk", rt.Tier)
	}
}

// repoOf returns the repository of backup job j.
func (c *Config) repoOf(j *Job) string {
	if j.Repo != "" {
		return j.Repo
	}
	return c.Repo
}

// validName reports whether s matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case i > 0 && (ch == '.' || ch == '_' || ch == '-'):
		default:
			return false
		}
	}
	return true
}

// DefaultStateFile is where the state is kept when the file says
// nothing: $STATE_DIRECTORY (set by systemd's StateDirectory=), else
// $XDG_STATE_HOME/firn, else ~/.local/state/firn; the file is
// backup-daemon.json.
func DefaultStateFile(getenv func(string) string) (string, error) {
	if d := getenv("STATE_DIRECTORY"); d != "" {
		d, _, _ = strings.Cut(d, ":") // systemd may list several
		return filepath.Join(d, "backup-daemon.json"), nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "firn", "backup-daemon.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state-file given and no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "firn", "backup-daemon.json"), nil
}
