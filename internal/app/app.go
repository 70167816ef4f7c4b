// Package app is firn's composition root: the one place that chooses and
// wires the concrete stores, services and servers together. Everything
// else receives its dependencies.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/firnhq/firn/internal/adminapi"
	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/blob"
	blobfs "github.com/firnhq/firn/internal/blob/fs"
	"github.com/firnhq/firn/internal/blob/pack"
	"github.com/firnhq/firn/internal/blob/remote"
	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/glacierapi"
	"github.com/firnhq/firn/internal/iam"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
	"github.com/firnhq/firn/internal/notify/dispatch"
	"github.com/firnhq/firn/internal/notify/target"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/restore"
	"github.com/firnhq/firn/internal/s3api"
	"github.com/firnhq/firn/internal/s3api/sigv4"
	"github.com/firnhq/firn/internal/sse"
)

// Server is a running firn server.
type Server struct {
	cfg   config.Server
	log   *slog.Logger
	meta  meta.Store
	svc   *object.Service
	http  *http.Server
	ln    net.Listener
	clock clock.Clock

	wg      sync.WaitGroup // background loops
	stop    context.CancelFunc
	lock    *os.File // holds the data directory's lock while running
	archive *pack.Store
	ops     *archiveOps   // the archive's scrub and compaction, on schedule or on demand
	audit   *audit.Logger // nil: no audit log
}

// credentialsFile holds generated root credentials under the data dir.
const credentialsFile = "credentials.json"

type credentials struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// rootCredentials returns the configured credentials, or those stored
// under the data directory, generating and storing them on first start
// (announce is then called once with them).
func rootCredentials(cfg config.Server, announce func(credentials)) (credentials, error) {
	if cfg.AccessKey != "" {
		return credentials{cfg.AccessKey, cfg.SecretKey}, nil
	}
	path := filepath.Join(cfg.Data, credentialsFile)
	b, err := os.ReadFile(path)
	if err == nil {
		var c credentials
		if err := json.Unmarshal(b, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
			return c, fmt.Errorf("read %s: invalid credentials file", path)
		}
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return credentials{}, err
	}
	c := credentials{AccessKey: "FIRN" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		SecretKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
	b, _ = json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, append(b, '\n'), 0o600); err != nil {
		return c, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return c, err
	}
	if d, err := os.Open(cfg.Data); err == nil {
		d.Sync()
		d.Close()
	}
	announce(c)
	return c, nil
}

// writeFileSync writes and fsyncs a file.
func writeFileSync(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// NewLogger returns the logger the configuration asks for.
func NewLogger(cfg config.Server, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", cfg.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", cfg.LogFormat)
}

// Start opens the stores, cleans up after any crash, and starts serving.
// stdout receives the one-time credentials announcement.
func Start(ctx context.Context, cfg config.Server, log *slog.Logger, stdout io.Writer) (*Server, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDataDir(cfg.Data)
	if err != nil {
		return nil, err
	}
	creds, err := rootCredentials(cfg, func(c credentials) {
		fmt.Fprintf(stdout, "firn: generated root credentials (stored in %s; shown only this once):\n  FIRN_ACCESS_KEY=%s\n  FIRN_SECRET_KEY=%s\n",
			filepath.Join(cfg.Data, credentialsFile), c.AccessKey, c.SecretKey)
	})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("credentials: %w", err)
	}
	clk := clock.Real{Day: cfg.DayLength}
	ms, err := sqlite.Open(filepath.Join(cfg.Data, "meta", "firn.db"))
	if err != nil {
		lock.Close()
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			lock.Close()
		}
	}()
	blobs, err := blobfs.Open(filepath.Join(cfg.Data, "blobs"))
	if err != nil {
		return nil, err
	}
	archiveDirs := cfg.ArchiveDirs
	if len(archiveDirs) == 0 {
		archiveDirs = []string{filepath.Join(cfg.Data, "archive")}
	}
	archive, err := pack.Open(pack.Config{StateDir: filepath.Join(cfg.Data, "archive-state"), Dirs: archiveDirs,
		DataShards: cfg.PackData, ParityShards: cfg.PackParity, PackSize: cfg.PackSize, Clock: clk, Log: log})
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer func() {
		if !ok {
			archive.Close()
		}
	}()
	auditLog, err := openAudit(cfg, stdout)
	if err != nil {
		return nil, err
	}
	defer func() {
		if !ok {
			auditLog.Close()
		}
	}()
	restoreCfg, err := object.ParseRestoreLatency(cfg.RestoreLatency)
	if err != nil {
		return nil, err
	}
	restoreCfg.Gather = cfg.RestoreGather
	classTiers, err := object.ParseClassTiers(cfg.ClassTiers)
	if err != nil {
		return nil, err
	}
	var remoteStore blob.Store
	if cfg.Remote.Bucket != "" {
		rs, err := remote.Open(ctx, remote.Config{Endpoint: cfg.Remote.Endpoint, Region: cfg.Remote.Region,
			Bucket: cfg.Remote.Bucket, Prefix: cfg.Remote.Prefix, StorageClass: cfg.Remote.StorageClass,
			PathStyle: cfg.Remote.PathStyle, AccessKey: cfg.Remote.AccessKey, SecretKey: cfg.Remote.SecretKey,
			Clock: clk, Log: log})
		if err != nil {
			return nil, fmt.Errorf("remote tier: %w", err)
		}
		remoteStore = rs
		log.Info("remote tier", "endpoint", cfg.Remote.Endpoint, "bucket", cfg.Remote.Bucket, "prefix", cfg.Remote.Prefix,
			"storage_class", cfg.Remote.StorageClass)
	}
	for class, tier := range classTiers {
		if tier == object.RemoteTier && remoteStore == nil {
			return nil, fmt.Errorf("class-tiers: %s is mapped to the remote tier, but remote-bucket is not set", class)
		}
	}
	inline := cfg.InlineMax
	if inline == 0 {
		inline = -1
	}
	keys, err := masterKeys(cfg)
	if err != nil {
		return nil, err
	}
	dispatcher, err := dispatch.New(ctx, dispatch.Config{Store: ms, Region: cfg.Region, Targets: targetSpecs(cfg.Targets), Clock: clk, Log: log,
		RetryMin: cfg.NotifyRetryMin, RetryMax: cfg.NotifyRetryMax, MaxAttempts: cfg.NotifyMaxAttempts})
	if err != nil {
		return nil, fmt.Errorf("notification targets: %w", err)
	}
	svc := object.New(object.Config{Meta: ms, Blobs: blobs, Archive: archive, Remote: remoteStore, ClassTiers: classTiers, Restore: restoreCfg,
		Clock: clk, Log: log, Region: cfg.Region, InlineMax: inline, Keys: keys, Audit: auditLog, Targets: dispatcher,
		FreeTierBytes: freeTierBytes(cfg.FreeTierBytes)})
	if keys != nil {
		log.Info("SSE-S3 enabled", "current_master_key", keys.(*sse.Keyring).CurrentID())
	}
	// Nothing is in flight yet: every unreferenced blob is an orphan.
	if n, err := svc.CollectGarbage(ctx, 0); err != nil {
		return nil, fmt.Errorf("start-up collection: %w", err)
	} else if n > 0 {
		log.Info("start-up collection removed orphaned blobs", "count", n)
	}
	identities := iam.New(ms, creds.AccessKey, creds.SecretKey, clk.Now)
	verifier := &sigv4.Verifier{Region: cfg.Region, Now: clk.Now,
		Lookup: func(ctx context.Context, ak string) (string, error) {
			secret, _, err := identities.Lookup(ctx, ak)
			if errors.Is(err, iam.ErrUnknownKey) {
				return "", sigv4.ErrInvalidAccessKeyID
			}
			return secret, err
		}}
	s3h := s3api.New(s3api.Config{Service: svc, Verifier: verifier, IAM: identities, Now: clk.Now, Domains: cfg.Domains, Log: log, Audit: auditLog})
	// The Glacier API (the data retrieval policy) is root's alone.
	glacierVerifier := &sigv4.Verifier{Region: cfg.Region, Service: glacierapi.Service, Now: clk.Now,
		Lookup: func(ctx context.Context, ak string) (string, error) {
			if ak == creds.AccessKey {
				return creds.SecretKey, nil
			}
			return "", sigv4.ErrInvalidAccessKeyID
		}}
	gh, err := glacierapi.New(glacierapi.Config{Verifier: glacierVerifier, Store: svc.RetrievalStore(), Log: log})
	if err != nil {
		return nil, err
	}
	// One port serves both APIs: Glacier requests are told apart by their
	// version header or signing scope.
	ops := newArchiveOps(archive, cfg, clk)
	admin := &adminapi.Handler{IAM: identities, Verifier: verifier, Log: log, Audit: auditLog, Targets: dispatcher, Archive: ops}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if adminapi.IsAdminRequest(r) {
			admin.ServeHTTP(w, r)
			return
		}
		if glacierapi.IsGlacierRequest(r) {
			gh.ServeHTTP(w, r)
			return
		}
		s3h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, err
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	ok = true
	s := &Server{cfg: cfg, log: log, meta: ms, svc: svc, ln: ln, clock: clk, lock: lock, archive: archive, ops: ops, audit: auditLog,
		http: &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
			MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	worker := &restore.Worker{Service: svc, Owner: "firn-" + randomString(8, "abcdefghijklmnopqrstuvwxyz0123456789"),
		Every: cfg.RestoreEvery, Lease: cfg.RestoreLease, Log: log}
	s.wg.Add(6)
	go func() {
		defer s.wg.Done()
		worker.Run(bg)
	}()
	go func() {
		defer s.wg.Done()
		dispatcher.Run(bg)
	}()
	go func() {
		defer s.wg.Done()
		s.runLifecycle(bg)
	}()
	go func() {
		defer s.wg.Done()
		s.maintainArchive(bg)
	}()
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.collectLoop(bg)
	}()
	log.Info("firn server listening", "address", ln.Addr().String(), "tls", cfg.TLSCert != "", "data", cfg.Data, "region", cfg.Region, "day_length", cfg.DayLength.String())
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

func (s *Server) collectLoop(ctx context.Context) {
	if s.cfg.GCEvery <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.GCEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.svc.CollectGarbage(ctx, time.Hour); err != nil && ctx.Err() == nil {
				s.log.Warn("blob collection", "err", err)
			}
		}
	}
}

// maintainArchive seals partly filled packs, scrubs and compacts the
// archive on their schedules, looking once a minute or as often as the
// shortest of them asks (at most once a second).
func (s *Server) maintainArchive(ctx context.Context) {
	every := time.Minute
	for _, d := range []time.Duration{s.cfg.SealEvery, s.cfg.ScrubEvery, s.cfg.CompactEvery} {
		if d > 0 && d < every {
			every = max(d, time.Second)
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	now := time.Now()
	lastSeal, lastScrub, lastCompact := now, now, now
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		if s.cfg.SealEvery > 0 && now.Sub(lastSeal) >= s.cfg.SealEvery {
			lastSeal = now
			if err := s.archive.Flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("seal archive pack", "err", err)
			}
		}
		if s.cfg.ScrubEvery > 0 && now.Sub(lastScrub) >= s.cfg.ScrubEvery {
			lastScrub = now
			rep, err := s.ops.scrub(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Warn("scrub archive", "err", err)
			case len(rep.Unrecoverable) > 0:
				s.log.Error("scrub found unrecoverable archive damage", "objects", rep.Unrecoverable, "keys", s.ops.damagedKeys(ctx, rep.Unrecoverable))
			default:
				s.log.Info("scrubbed archive", "packs", rep.Packs, "blocks_repaired", rep.BlocksRepaired, "shards_rebuilt", rep.ShardsRebuilt)
			}
		}
		if s.cfg.CompactEvery > 0 && now.Sub(lastCompact) >= s.cfg.CompactEvery {
			lastCompact = now
			// No pack is rewritten before its objects have been stored
			// --compact-min-age model days (by default DEEP_ARCHIVE's
			// minimum storage duration, the longest of the classes a pack
			// may mix).
			rep, err := s.ops.compact(ctx, s.ops.options(false, 0))
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Warn("compact archive", "err", err)
			case rep.Packs > 0:
				s.log.Info("compacted archive", "packs", rep.Packs, "objects", rep.Objects, "bytes_reclaimed", rep.BytesReclaimed)
			}
		}
	}
}

// Shutdown cancels the archive work asked for through the admin API,
// stops accepting requests, waits for those in flight (until ctx ends),
// stops the background loops and closes the stores.
func (s *Server) Shutdown(ctx context.Context) error {
	// A scrub or compaction an operator asked for may take hours: stop
	// it rather than wait for it.
	s.ops.shutdown()
	err := s.http.Shutdown(ctx)
	s.stop()
	s.wg.Wait()
	err = errors.Join(err, s.audit.Close(), s.archive.Close(), s.meta.Close())
	s.lock.Close() // releases the lock
	return err
}

// freeTierBytes is the object service's FreeTier allowance for the
// configured one: 0 there is the default, here no free allowance.
func freeTierBytes(configured int64) int64 {
	if configured == 0 {
		return -1
	}
	return configured
}

// StoredRootCredentials returns the root credentials generated into a
// data directory on the server's first start, for the admin commands
// that call the running server; an error if there are none (the server
// then takes its credentials from FIRN_ACCESS_KEY and FIRN_SECRET_KEY).
func StoredRootCredentials(dataDir string) (accessKey, secretKey string, err error) {
	path := filepath.Join(dataDir, credentialsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
		return "", "", fmt.Errorf("read %s: invalid credentials file", path)
	}
	return c.AccessKey, c.SecretKey, nil
}

// lockDataDir takes an exclusive lock on dir, so that a second server
// cannot share it: its start-up collection would delete the first one's
// blobs in flight.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another firn server: %w", dir, err)
	}
	return f, nil
}

// OpenAdmin opens the object service over an existing data directory for
// the admin commands, beside a server that may be running on it (SQLite
// allows it). The caller closes the returned store.
func OpenAdmin(dataDir string) (*object.Service, io.Closer, error) {
	return OpenAdminWithKeys(dataDir, nil)
}

// OpenAdminWithKeys is OpenAdmin with SSE-S3 master keys.
func OpenAdminWithKeys(dataDir string, keys sse.KeyProvider) (*object.Service, io.Closer, error) {
	ms, err := openMetaAt(dataDir)
	if err != nil {
		return nil, nil, err
	}
	return object.New(object.Config{Meta: ms, Log: slog.New(slog.DiscardHandler), Keys: keys}), ms, nil
}

// MasterKeys loads the master keys an admin command is given, refusing a
// key file inside the data directory as the server does.
func MasterKeys(dataDir, keyFile, keyEnv string) (sse.KeyProvider, error) {
	return masterKeys(config.Server{Data: dataDir, MasterKeyFile: keyFile, MasterKey: keyEnv})
}

// masterKeys loads the SSE-S3 master keys (nil: none configured). A key
// file inside the data directory is refused: the keys must never sit in
// clear beside the data they protect.
func masterKeys(cfg config.Server) (sse.KeyProvider, error) {
	if cfg.MasterKeyFile != "" {
		kf, err1 := filepath.Abs(cfg.MasterKeyFile)
		data, err2 := filepath.Abs(cfg.Data)
		if err1 == nil && err2 == nil && (kf == data || strings.HasPrefix(kf, data+string(filepath.Separator))) {
			return nil, fmt.Errorf("master-key-file %s is inside the data directory %s: keep master keys apart from the data", cfg.MasterKeyFile, cfg.Data)
		}
	}
	k, err := sse.LoadKeyring(cfg.MasterKeyFile, cfg.MasterKey)
	if err != nil || k == nil {
		return nil, err
	}
	return k, nil
}

// OpenIAM opens the users and keys of an existing data directory for the
// admin commands, beside a server that may be running on it. The caller
// closes the returned store.
func OpenIAM(dataDir string) (*iam.Service, io.Closer, error) {
	ms, err := openMetaAt(dataDir)
	if err != nil {
		return nil, nil, err
	}
	return iam.New(ms, "", "", nil), ms, nil
}

// AuditLogPath is where the audit log of a data directory is kept by
// default.
func AuditLogPath(dataDir string) string { return filepath.Join(dataDir, "audit", "audit.log") }

// openAudit opens the audit log cfg asks for (nil: off).
func openAudit(cfg config.Server, stdout io.Writer) (*audit.Logger, error) {
	switch cfg.AuditLog {
	case "off":
		return nil, nil
	case "-":
		return audit.New(stdout), nil
	}
	path := cfg.AuditLog
	if path == "" {
		path = AuditLogPath(cfg.Data)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	l, err := audit.Open(path, audit.RotateOptions{})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return l, nil
}

// OpenDispatcher opens the notification targets and outbox of a data
// directory for the admin commands, beside a server that may be running
// on it; targets are the server configuration's. The caller closes the
// returned store.
func OpenDispatcher(ctx context.Context, dataDir, region string, targets []config.Target) (*dispatch.Dispatcher, io.Closer, error) {
	ms, err := openMetaAt(dataDir)
	if err != nil {
		return nil, nil, err
	}
	d, err := dispatch.New(ctx, dispatch.Config{Store: ms, Region: region, Targets: targetSpecs(targets)})
	if err != nil {
		ms.Close()
		return nil, nil, err
	}
	return d, ms, nil
}

// targetSpecs converts the config file's targets.
func targetSpecs(ts []config.Target) []target.Spec {
	var specs []target.Spec
	for _, t := range ts {
		specs = append(specs, target.Spec{Name: t.Name, Kind: t.Kind, URL: t.URL, Options: t.Options, Timeout: t.Timeout})
	}
	return specs
}

// openMetaAt opens the metadata store of an existing data directory, for
// the admin commands.
func openMetaAt(dataDir string) (*sqlite.Store, error) {
	path := filepath.Join(dataDir, "meta", "firn.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no firn data directory at %s: %w", dataDir, err)
	}
	return sqlite.Open(path)
}
