package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/adminapi"
	"github.com/firnhq/firn/internal/blob/pack"
	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/config"
)

// errStopping refuses archive work once the server is shutting down.
var errStopping = fmt.Errorf("%w: the server is shutting down", adminapi.ErrUnavailable)

// archiveOps runs the archive's scrub and compaction, on the background
// loop's schedule or when an operator asks through the admin API
// (adminapi.Archive). Scrubs and compactions run one at a time, never
// overlapping, as they always did on the schedule alone; the work asked
// for through the API is cancelled, and waited for, before the store
// closes.
type archiveOps struct {
	store      *pack.Store
	liveRatio  float64       // --compact-live-ratio
	minAgeDays int           // --compact-min-age
	minAge     time.Duration // minAgeDays model days
	sem        chan struct{} // held by the scrub or compaction running

	mu       sync.Mutex
	stopping bool
	inflight sync.WaitGroup
	ctx      context.Context // ends at shutdown
	cancel   context.CancelFunc
}

func newArchiveOps(store *pack.Store, cfg config.Server, clk clock.Clock) *archiveOps {
	ctx, cancel := context.WithCancel(context.Background())
	return &archiveOps{store: store, liveRatio: cfg.CompactLiveRatio, minAgeDays: cfg.CompactMinAge,
		minAge: time.Duration(cfg.CompactMinAge) * clk.DayLength(), sem: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
}

// options are the compaction options of the configuration, forced or
// with another live ratio (0: the configured one).
func (a *archiveOps) options(force bool, liveRatio float64) pack.CompactOptions {
	if liveRatio == 0 {
		liveRatio = a.liveRatio
	}
	return pack.CompactOptions{LiveRatio: liveRatio, MinAge: a.minAge, Force: force}
}

// exclusive runs fn while no other scrub or compaction runs.
func (a *archiveOps) exclusive(ctx context.Context, fn func() error) error {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-a.sem }()
	return fn()
}

func (a *archiveOps) scrub(ctx context.Context) (rep pack.ScrubReport, err error) {
	err = a.exclusive(ctx, func() error {
		rep, err = a.store.Scrub(ctx)
		return err
	})
	return rep, err
}

func (a *archiveOps) compact(ctx context.Context, opt pack.CompactOptions) (rep pack.CompactReport, err error) {
	err = a.exclusive(ctx, func() error {
		rep, err = a.store.Compact(ctx, opt)
		return err
	})
	return rep, err
}

// begin admits work asked for through the API, with a context that also
// ends at shutdown; call done when it ends.
func (a *archiveOps) begin(ctx context.Context) (context.Context, func(), error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping {
		return nil, nil, errStopping
	}
	a.inflight.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(a.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
		a.inflight.Done()
	}, nil
}

// shutdown cancels the work asked for through the API, waits for it to
// end, and refuses more.
func (a *archiveOps) shutdown() {
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	a.cancel()
	a.inflight.Wait()
}

// Scrub implements adminapi.Archive.
func (a *archiveOps) Scrub(ctx context.Context) (adminapi.ScrubReport, error) {
	ctx, done, err := a.begin(ctx)
	if err != nil {
		return adminapi.ScrubReport{}, err
	}
	defer done()
	rep, err := a.scrub(ctx)
	if err != nil {
		return adminapi.ScrubReport{}, a.stopped(err)
	}
	out := adminapi.ScrubReport{Packs: rep.Packs, Blocks: rep.Blocks, BlocksRepaired: rep.BlocksRepaired,
		ShardsRebuilt: rep.ShardsRebuilt, Objects: rep.Objects, Unrecoverable: []adminapi.DamagedObject{}}
	out.Unrecoverable = append(out.Unrecoverable, a.damaged(ctx, rep.Unrecoverable)...)
	return out, nil
}

// damaged names the archived blobs ids by the object (or part) each was
// stored for, from its pack label.
func (a *archiveOps) damaged(ctx context.Context, ids []string) []adminapi.DamagedObject {
	var out []adminapi.DamagedObject
	for _, id := range ids {
		d := adminapi.DamagedObject{Blob: id}
		if e, err := a.store.Stat(ctx, id); err == nil {
			d.Bucket, d.Key, d.VersionID, d.UploadID, d.PartNumber = e.Label.Bucket, e.Label.Key, e.Label.VersionID, e.Label.UploadID, e.Label.PartNumber
		}
		out = append(out, d)
	}
	return out
}

// damagedKeys is damaged as "bucket/key" strings (with the version or
// part where there is one), for the log.
func (a *archiveOps) damagedKeys(ctx context.Context, ids []string) []string {
	var out []string
	for _, d := range a.damaged(ctx, ids) {
		k := d.Bucket + "/" + d.Key
		switch {
		case d.Bucket == "":
			k = "blob " + d.Blob + " (no label)"
		case d.PartNumber > 0:
			k += fmt.Sprintf(" (upload %s part %d)", d.UploadID, d.PartNumber)
		case d.VersionID != "" && d.VersionID != "null":
			k += "?versionId=" + d.VersionID
		}
		out = append(out, k)
	}
	return out
}

// Compact implements adminapi.Archive.
func (a *archiveOps) Compact(ctx context.Context, opt adminapi.CompactOptions) (adminapi.CompactReport, error) {
	ctx, done, err := a.begin(ctx)
	if err != nil {
		return adminapi.CompactReport{}, err
	}
	defer done()
	po := a.options(opt.Force, opt.LiveRatio)
	rep, err := a.compact(ctx, po)
	if err != nil {
		return adminapi.CompactReport{}, a.stopped(err)
	}
	return adminapi.CompactReport{Packs: rep.Packs, Objects: rep.Objects, BytesReclaimed: rep.BytesReclaimed,
		LiveRatio: po.LiveRatio, MinAgeDays: a.minAgeDays, Force: po.Force}, nil
}

// Flush implements adminapi.Archive.
func (a *archiveOps) Flush(ctx context.Context) error {
	ctx, done, err := a.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	return a.stopped(a.store.Flush(ctx))
}

// stopped tells work cancelled by the shutdown from other failures.
func (a *archiveOps) stopped(err error) error {
	if err != nil && a.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return errStopping
	}
	return err
}
