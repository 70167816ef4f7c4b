// Package config holds the server's settings and reads them from, in
// order of precedence: command-line flags, FIRN_* environment variables, a
// config file (TOML or YAML, by extension), and the embedded defaults.
//
// Every setting has one name used everywhere: the flag --day-length, the
// variable FIRN_DAY_LENGTH and the file key day-length (or day_length).
package config

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"
)

// Server is the configuration of `firn server`.
type Server struct {
	Address   string        // listen address
	Data      string        // data directory
	Region    string        // region name used in SigV4 and events
	DayLength time.Duration // length of a model day
	// Domains for virtual-hosted-style requests (bucket.<domain>).
	Domains   []string
	InlineMax int64         // largest object kept in the metadata store
	GCEvery   time.Duration // how often orphaned blobs are collected
	// ArchiveDirs hold the archive tier's pack shards, ideally one per
	// disk (empty = DATA/archive).
	ArchiveDirs  []string
	PackSize     int64         // size at which an archive pack is sealed
	PackData     int           // data shards per pack
	PackParity   int           // parity shards per pack
	SealEvery    time.Duration // seal a partly filled pack this often
	ScrubEvery   time.Duration // verify and repair every pack this often (0 off)
	CompactEvery time.Duration // reclaim space of deleted archived objects this often (0 off)
	// CompactMinAge is the age, in model days, that every object of a
	// pack must have reached before compaction rewrites the pack (unless
	// forced): DEEP_ARCHIVE's minimum storage duration by default, since
	// a pack mixes classes.
	CompactMinAge int
	// CompactLiveRatio: packs whose live objects fill less than this
	// share of them are compacted, in (0, 1].
	CompactLiveRatio float64
	// FreeTierBytes is the monthly allowance of the FreeTier data
	// retrieval policy, in bytes (0: no free allowance).
	FreeTierBytes int64
	// RestoreLatency overrides restore times: "[CLASS.]Tier=duration,..."
	// in model time (see object.ParseRestoreLatency).
	RestoreLatency string
	// RestoreGather batches restores that fall due close together: the
	// worker claims due jobs once one has been due for this share of its
	// restore time (see object.RestoreConfig.Gather).
	RestoreGather float64
	RestoreEvery  time.Duration // how often the restore worker polls
	// ClassTiers overrides which tier each storage class is stored on:
	// "CLASS=tier,..." with tier hot, archive or remote (see
	// object.ParseClassTiers).
	ClassTiers string
	// Remote is the remote tier: a bucket on another S3-compatible
	// service. It is used only when Remote.Bucket is set.
	Remote Remote
	// RestoreLease is how long a worker holds a claimed restore job; a
	// crashed worker's jobs are taken over once it runs out.
	RestoreLease time.Duration
	LogLevel     string // debug, info, warn, error
	LogFormat    string // text or json
	// AccessKey and SecretKey are the root credentials; they come only
	// from FIRN_ACCESS_KEY / FIRN_SECRET_KEY (never a flag, which would
	// show in ps) or from the data directory.
	AccessKey, SecretKey string
	// MasterKeyFile holds the master keys of SSE-S3 (package sse's key
	// file format); MasterKey, from FIRN_MASTER_KEY only, is the same
	// inline. Neither set: SSE-S3 is refused.
	MasterKeyFile string
	MasterKey     string
	// TLSCert and TLSKey are PEM files; both set: the server speaks
	// HTTPS only.
	TLSCert, TLSKey string
	// AuditLog is where every request is recorded: a file (rotated),
	// "-" for standard output, "off" for nowhere; "" is
	// DATA/audit/audit.log.
	AuditLog string
	// Targets are the event notification targets declared in the config
	// file (its "targets" list); more are added with firn admin target.
	Targets []Target
	// NotifyRetryMin and NotifyRetryMax bound the backoff between
	// delivery attempts; NotifyMaxAttempts moves an event to the dead
	// letters after that many failures (negative: never).
	NotifyRetryMin, NotifyRetryMax time.Duration
	NotifyMaxAttempts              int
}

// Target is a notification target of the config file: name, kind, url
// and timeout, every other key an option of its kind, e.g. in TOML
//
//	[[targets]]
//	name = "restores"
//	kind = "nats"
//	url = "nats://127.0.0.1:4222"
//	subject = "firn.restores"
type Target struct {
	Name, Kind, URL string
	Timeout         time.Duration
	Options         map[string]string
}

// Remote configures the remote tier. Its credentials come only from
// FIRN_REMOTE_ACCESS_KEY / FIRN_REMOTE_SECRET_KEY, or else the
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
// variables (read by the remote store).
type Remote struct {
	Endpoint     string // URL of the service; empty: AWS
	Region       string // SigV4 region
	Bucket       string // must exist
	Prefix       string // put before every blob id
	StorageClass string // the remote class blobs are written in
	PathStyle    bool   // address the bucket as ENDPOINT/BUCKET
	// AccessKey and SecretKey sign the remote requests.
	AccessKey, SecretKey string
}

// DefaultCompactMinAge is the default --compact-min-age, in model days:
// DEEP_ARCHIVE's minimum storage duration (GLACIER's and GLACIER_IR's is
// 90 days). A pack holds objects of every archive class, so only the
// longest minimum guarantees that compaction never rewrites an object
// before its class's minimum has passed.
const DefaultCompactMinAge = 180

// DefaultFreeTierBytes is the default --free-tier-bytes: AWS's 10 GB a
// month, in binary gigabytes (retrieval.DefaultFreeTierMonthlyBytes).
const DefaultFreeTierBytes int64 = 10 << 30

// Defaults returns the embedded defaults.
func Defaults() Server {
	return Server{
		Address: "127.0.0.1:9000", Data: "./firn-data", Region: "us-east-1", DayLength: 24 * time.Hour,
		Domains: []string{"localhost"}, InlineMax: 128 << 10, GCEvery: 10 * time.Minute,
		LogLevel: "info", LogFormat: "text", RestoreEvery: 250 * time.Millisecond, RestoreLease: time.Minute,
		PackSize: 256 << 20, PackData: 4, PackParity: 2, SealEvery: time.Hour, ScrubEvery: 7 * 24 * time.Hour, CompactEvery: 24 * time.Hour,
		CompactMinAge: DefaultCompactMinAge, CompactLiveRatio: 0.5, FreeTierBytes: DefaultFreeTierBytes,
		RestoreGather:  0.05,
		NotifyRetryMin: time.Second, NotifyRetryMax: 5 * time.Minute, NotifyMaxAttempts: 100,
		Remote: Remote{Region: "us-east-1", PathStyle: true},
	}
}

// LoadServer parses args (the arguments after "server") with env as the
// environment lookup.
func LoadServer(args []string, env func(string) string) (Server, *flag.FlagSet, error) {
	c := Defaults()
	fs := flag.NewFlagSet("firn server", flag.ContinueOnError)
	var configPath string
	var domains string
	fs.StringVar(&configPath, "config", "", "config file (.toml, .yaml or .yml)")
	fs.StringVar(&c.Address, "address", c.Address, "listen address")
	fs.StringVar(&c.Data, "data", c.Data, "data directory")
	fs.StringVar(&c.Region, "region", c.Region, "region name")
	fs.DurationVar(&c.DayLength, "day-length", c.DayLength, "length of a model day (lifecycle, restores, expiry)")
	fs.StringVar(&domains, "domains", strings.Join(c.Domains, ","), "base domains for virtual-hosted-style requests, comma-separated")
	fs.Int64Var(&c.InlineMax, "inline-max", c.InlineMax, "largest object (bytes) kept inside the metadata database")
	fs.DurationVar(&c.GCEvery, "gc-every", c.GCEvery, "interval of the orphaned-blob collector")
	var archiveDirs string
	fs.StringVar(&archiveDirs, "archive-dirs", "", "directories of the archive tier's pack shards, comma-separated, ideally one per disk (default DATA/archive)")
	fs.Int64Var(&c.PackSize, "pack-size", c.PackSize, "size in bytes at which an archive pack is sealed")
	fs.IntVar(&c.PackData, "pack-data-shards", c.PackData, "data shards per archive pack")
	fs.IntVar(&c.PackParity, "pack-parity-shards", c.PackParity, "parity shards per archive pack (shards that may be lost)")
	fs.DurationVar(&c.SealEvery, "seal-every", c.SealEvery, "seal a partly filled archive pack this often")
	fs.DurationVar(&c.ScrubEvery, "scrub-every", c.ScrubEvery, "verify and repair every archive pack this often (0: never)")
	fs.DurationVar(&c.CompactEvery, "compact-every", c.CompactEvery, "reclaim the space of deleted archived objects this often (0: never)")
	fs.IntVar(&c.CompactMinAge, "compact-min-age", c.CompactMinAge, "model days every object of an archive pack must have been stored before compaction rewrites it; 180 is DEEP_ARCHIVE's minimum storage duration, the longest of the classes a pack mixes, so it protects every object")
	fs.Float64Var(&c.RestoreGather, "restore-gather", c.RestoreGather, "batch restores falling due close together: claim due jobs once one has been due for this share of its restore time, in [0, 0.5] (0: at once)")
	fs.Float64Var(&c.CompactLiveRatio, "compact-live-ratio", c.CompactLiveRatio, "compact archive packs whose live objects fill less than this share of them, in (0, 1]")
	fs.Var((*byteSize)(&c.FreeTierBytes), "free-tier-bytes", "monthly allowance of the FreeTier data retrieval policy: a `size` in bytes, or with a suffix KiB, MiB, GiB, TiB (0: no free allowance)")
	fs.StringVar(&c.RestoreLatency, "restore-latency", c.RestoreLatency, `restore times in model time, e.g. "Standard=4h,Bulk=8h,DEEP_ARCHIVE.Standard=11h" ("0s": as fast as the media allows)`)
	fs.DurationVar(&c.RestoreEvery, "restore-every", c.RestoreEvery, "poll interval of the restore worker")
	fs.DurationVar(&c.RestoreLease, "restore-lease", c.RestoreLease, "how long a worker holds a restore job before another may take it over")
	fs.StringVar(&c.ClassTiers, "class-tiers", c.ClassTiers, `tier of each storage class, e.g. "GLACIER=remote,DEEP_ARCHIVE=remote" (tiers: hot, archive, remote; default: GLACIER_IR, GLACIER, DEEP_ARCHIVE on archive, the rest hot)`)
	fs.StringVar(&c.Remote.Endpoint, "remote-endpoint", c.Remote.Endpoint, "URL of the S3-compatible service of the remote tier (empty: AWS)")
	fs.StringVar(&c.Remote.Region, "remote-region", c.Remote.Region, "region of the remote tier")
	fs.StringVar(&c.Remote.Bucket, "remote-bucket", c.Remote.Bucket, "bucket of the remote tier (empty: no remote tier)")
	fs.StringVar(&c.Remote.Prefix, "remote-prefix", c.Remote.Prefix, `key prefix of the remote tier's blobs, e.g. "firn/"`)
	fs.StringVar(&c.Remote.StorageClass, "remote-storage-class", c.Remote.StorageClass, "storage class the remote tier's blobs are written in, e.g. DEEP_ARCHIVE on AWS (default the remote's STANDARD)")
	fs.BoolVar(&c.Remote.PathStyle, "remote-path-style", c.Remote.PathStyle, "address the remote bucket as ENDPOINT/BUCKET (false: BUCKET.ENDPOINT)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, `file of SSE-S3 master keys, "id:base64-key" per line, the last current (keep it outside the data directory)`)
	fs.StringVar(&c.AuditLog, "audit-log", c.AuditLog, `audit log of every request, as JSON lines: a file (rotated at 100 MiB, 10 kept), "-" for standard output, "off" (default DATA/audit/audit.log)`)
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate (chain) to serve HTTPS with; needs --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key of --tls-cert")
	fs.DurationVar(&c.NotifyRetryMin, "notify-retry-min", c.NotifyRetryMin, "first wait before retrying a failed event notification (doubling up to notify-retry-max)")
	fs.DurationVar(&c.NotifyRetryMax, "notify-retry-max", c.NotifyRetryMax, "longest wait between attempts to deliver an event notification")
	fs.IntVar(&c.NotifyMaxAttempts, "notify-max-attempts", c.NotifyMaxAttempts, "failed attempts after which an event notification moves to the dead letters (negative: never)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	if fs.NArg() > 0 {
		return c, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["config"] {
		configPath = env("FIRN_CONFIG")
	}
	var file map[string]string
	if configPath != "" {
		var err error
		if file, c.Targets, err = readFile(configPath); err != nil {
			return c, fs, err
		}
	}
	var errs []string
	for k := range file {
		if fs.Lookup(k) == nil || k == "config" {
			errs = append(errs, fmt.Sprintf("%s: unknown setting %q", configPath, k))
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" {
			return
		}
		v := env("FIRN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_")))
		src := "FIRN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v == "" {
			v = file[f.Name]
			src = configPath + ": " + f.Name
		}
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", src, err))
		}
	})
	if len(errs) > 0 {
		return c, fs, fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	for _, d := range strings.Split(archiveDirs, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.ArchiveDirs = append(c.ArchiveDirs, d)
		}
	}
	c.Domains = nil
	for _, d := range strings.Split(domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.Domains = append(c.Domains, d)
		}
	}
	c.AccessKey, c.SecretKey = env("FIRN_ACCESS_KEY"), env("FIRN_SECRET_KEY")
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return c, fs, fmt.Errorf("config: set both FIRN_ACCESS_KEY and FIRN_SECRET_KEY, or neither")
	}
	c.MasterKey = env("FIRN_MASTER_KEY")
	c.Remote.AccessKey, c.Remote.SecretKey = env("FIRN_REMOTE_ACCESS_KEY"), env("FIRN_REMOTE_SECRET_KEY")
	if (c.Remote.AccessKey == "") != (c.Remote.SecretKey == "") {
		return c, fs, fmt.Errorf("config: set both FIRN_REMOTE_ACCESS_KEY and FIRN_REMOTE_SECRET_KEY, or neither")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, fs, fmt.Errorf("config: set both tls-cert and tls-key, or neither")
	}
	if c.DayLength <= 0 {
		return c, fs, fmt.Errorf("config: day-length must be positive")
	}
	if c.CompactMinAge < 0 || c.CompactMinAge > 36500 {
		return c, fs, fmt.Errorf("config: compact-min-age must be between 0 and 36500 days")
	}
	if !(c.RestoreGather >= 0 && c.RestoreGather <= 0.5) {
		return c, fs, fmt.Errorf("config: restore-gather must be between 0 and 0.5")
	}
	if !(c.CompactLiveRatio > 0 && c.CompactLiveRatio <= 1) {
		return c, fs, fmt.Errorf("config: compact-live-ratio must be more than 0 and at most 1")
	}
	return c, fs, nil
}

// readFile reads a flat TOML or YAML file into flag-name → value, and
// its list of targets.
func readFile(path string) (map[string]string, []Target, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config file: %w", err)
	}
	raw := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		err = toml.Unmarshal(b, &raw)
	case ".yaml", ".yml":
		err = yaml.Unmarshal(b, &raw)
	default:
		return nil, nil, fmt.Errorf("config file %s: extension must be .toml, .yaml or .yml", path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("config file %s: %w", path, err)
	}
	targets, err := readTargets(raw["targets"])
	if err != nil {
		return nil, nil, fmt.Errorf("config file %s: %w", path, err)
	}
	delete(raw, "targets")
	out := map[string]string{}
	for k, v := range raw {
		name := strings.ReplaceAll(strings.ToLower(k), "_", "-")
		switch v := v.(type) {
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			out[name] = strings.Join(parts, ",")
		case int64:
			out[name] = strconv.FormatInt(v, 10)
		case int:
			out[name] = strconv.Itoa(v)
		default:
			out[name] = fmt.Sprint(v)
		}
	}
	return out, targets, nil
}

// readTargets reads the config file's list of targets.
func readTargets(v any) ([]Target, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("targets: want a list of tables")
	}
	var out []Target
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("targets[%d]: want a table", i)
		}
		t := Target{Options: map[string]string{}}
		for k, v := range m {
			s := fmt.Sprint(v)
			switch strings.ToLower(k) {
			case "name":
				t.Name = s
			case "kind":
				t.Kind = s
			case "url":
				t.URL = s
			case "timeout":
				d, err := time.ParseDuration(s)
				if err != nil {
					return nil, fmt.Errorf("targets[%d].timeout: %w", i, err)
				}
				t.Timeout = d
			default:
				t.Options[k] = s
			}
		}
		if t.Name == "" || t.Kind == "" {
			return nil, fmt.Errorf("targets[%d]: name and kind are required", i)
		}
		out = append(out, t)
	}
	return out, nil
}

// FileTargets returns the targets declared in a config file.
func FileTargets(path string) ([]Target, error) {
	_, targets, err := readFile(path)
	return targets, err
}

// byteSize is a flag.Value of a byte count: a plain number of bytes, or
// one with a binary suffix, e.g. "10GiB". Decimal and one-letter
// suffixes (GB, G) are refused rather than guessed at.
type byteSize int64

func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	n := int64(*b)
	for _, u := range sizeUnits {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// sizeUnits are the suffixes of byteSize, largest first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

// parseSize reads a byteSize: "1048576", "512KiB", "10GiB" (the suffix
// in any case, spaces allowed before it).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes, or one with KiB, MiB, GiB or TiB, e.g. 10GiB", s)
	}
	return n * mult, nil
}
