// Package bulkrestore restores every archived object under a prefix (or
// in a manifest) of any S3 endpoint: it scans what is there, plans the
// restore (objects and bytes per class, requests, cost under a price
// table, expected completion per tier), requests the restores
// concurrently within a request rate, and waits for them. It keeps no
// state of its own: what is restoring or restored is read back from the
// objects, so a second run continues where the first stopped.
package bulkrestore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firnhq/firn/internal/lifecycle/sim"
	"github.com/firnhq/firn/s3archive"
)

// Item is one object and its archive state.
type Item struct {
	Key           string    `json:"key"`
	Size          int64     `json:"size"`
	StorageClass  string    `json:"storage_class"`
	ArchiveStatus string    `json:"archive_status,omitempty"`
	Archived      bool      `json:"archived"`
	Restoring     bool      `json:"restoring,omitempty"`
	RestoredUntil time.Time `json:"restored_until,omitzero"`
}

// class is the plan's grouping of an item: its class, or its
// Intelligent-Tiering archive tier.
func (it Item) class() string {
	if it.ArchiveStatus != "" {
		return it.StorageClass + "/" + it.ArchiveStatus
	}
	return it.StorageClass
}

// Scan lists bucket under prefix (or the keys of manifest, when given)
// and reads each archived object's restore state with a HEAD.
// Intelligent-Tiering objects are all HEADed, to learn their tier.
func Scan(ctx context.Context, c *s3.Client, bucket, prefix string, manifest []string, conc int, owner string) ([]Item, error) {
	var items []Item
	if manifest != nil {
		for _, k := range manifest {
			items = append(items, Item{Key: k})
		}
	} else {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, ExpectedBucketOwner: optional(owner)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
			}
			for _, o := range page.Contents {
				cl := string(o.StorageClass)
				if cl == "" {
					cl = "STANDARD"
				}
				items = append(items, Item{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), StorageClass: cl})
			}
		}
	}
	err := each(ctx, conc, len(items), func(i int) error {
		it := &items[i]
		if manifest == nil && it.StorageClass != "GLACIER" && it.StorageClass != "DEEP_ARCHIVE" && it.StorageClass != "INTELLIGENT_TIERING" {
			return nil
		}
		st, err := s3archive.Head(ctx, c, bucket, it.Key, s3archive.Options{ExpectedBucketOwner: owner})
		if err != nil {
			return fmt.Errorf("head s3://%s/%s: %w", bucket, it.Key, err)
		}
		it.Size, it.StorageClass, it.ArchiveStatus = st.Size, st.StorageClass, st.ArchiveStatus
		it.Archived, it.Restoring, it.RestoredUntil = st.Archived, st.Restoring, st.RestoredUntil
		return nil
	})
	return items, err
}

// ClassPlan is the plan for one class (or Intelligent-Tiering tier).
type ClassPlan struct {
	Objects   int64   `json:"objects"`
	Bytes     int64   `json:"bytes"`
	Requests  int64   `json:"requests"`
	Restoring int64   `json:"already_restoring"`
	Restored  int64   `json:"already_restored"`
	Cost      float64 `json:"estimated_cost_usd"`
	// ExpectedSeconds is AWS's published upper bound for the tier.
	ExpectedSeconds float64 `json:"expected_seconds"`
}

// Plan is what a bulk restore will do.
type Plan struct {
	Tier       string                `json:"tier"`
	Days       int                   `json:"days"`
	Prices     string                `json:"prices"`
	Objects    int64                 `json:"objects_scanned"`
	NotArchive int64                 `json:"not_archived"`
	ByClass    map[string]*ClassPlan `json:"by_class"`
	Requests   int64                 `json:"requests"`
	Bytes      int64                 `json:"bytes_to_restore"`
	Cost       float64               `json:"estimated_cost_usd"`
	// ToRequest are the archived objects with neither a restore running
	// nor a restored copy.
	ToRequest []Item `json:"-"`
}

// MakePlan plans the restore of items at tier for days under prices.
// Errors: a tier a class does not offer (Expedited for DEEP_ARCHIVE).
func MakePlan(items []Item, tier string, days int, prices sim.Prices) (*Plan, error) {
	p := &Plan{Tier: tier, Days: days, Prices: prices.Name, ByClass: map[string]*ClassPlan{}}
	for _, it := range items {
		p.Objects++
		if !it.Archived {
			p.NotArchive++
			continue
		}
		if tier == s3archive.TierExpedited && (it.StorageClass == "DEEP_ARCHIVE" || it.ArchiveStatus == "DEEP_ARCHIVE_ACCESS") {
			return nil, fmt.Errorf("s3://…/%s is in %s: Expedited restores are not available for it", it.Key, it.class())
		}
		cp := p.ByClass[it.class()]
		if cp == nil {
			cp = &ClassPlan{ExpectedSeconds: s3archive.ExpectedLatency(it.StorageClass, it.ArchiveStatus, tier).Seconds()}
			p.ByClass[it.class()] = cp
		}
		cp.Objects++
		cp.Bytes += it.Size
		switch {
		case it.Restoring:
			cp.Restoring++
		case !it.RestoredUntil.IsZero():
			cp.Restored++
		default:
			cp.Requests++
			p.ToRequest = append(p.ToRequest, it)
		}
	}
	for name, cp := range p.ByClass {
		class := name
		if i := len("INTELLIGENT_TIERING"); len(name) > i && name[:i] == "INTELLIGENT_TIERING" {
			class = "INTELLIGENT_TIERING"
		}
		var bytes int64
		for _, it := range p.ToRequest {
			if it.class() == name {
				bytes += it.Size
			}
		}
		cp.Cost = prices.Classes[class].RestoreCost(tier, cp.Requests, bytes)
		p.Requests += cp.Requests
		p.Bytes += bytes
		p.Cost += cp.Cost
	}
	return p, nil
}

// Classes returns the plan's classes in name order.
func (p *Plan) Classes() []string {
	names := make([]string, 0, len(p.ByClass))
	for n := range p.ByClass {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Progress counts a run.
type Progress struct {
	Requested, Failed     int64 // restore requests made, refused
	Ready, Waiting, Total int64 // objects readable, still restoring, in the plan
	ReadyBytes            int64
}

// Request asks for the restore of every object plan.ToRequest holds,
// conc at a time and at most rate per second (0: no limit), reporting
// progress. It returns the errors of the requests refused.
func Request(ctx context.Context, c *s3.Client, bucket string, plan *Plan, conc int, rate float64, owner string, progress func(Progress)) error {
	var pr Progress
	pr.Total = int64(len(plan.ToRequest))
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		tick = t.C
	}
	var mu sync.Mutex
	var errs []error
	err := each(ctx, conc, len(plan.ToRequest), func(i int) error {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		it := plan.ToRequest[i]
		// NoWait: request and return at once.
		_, err := s3archive.GetObject(ctx, c, bucket, it.Key, s3archive.Options{Days: plan.Days, Tier: plan.Tier, NoWait: true, ExpectedBucketOwner: owner})
		var pe *s3archive.PendingError
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.As(err, &pe) || err == nil:
			pr.Requested++
		default:
			pr.Failed++
			errs = append(errs, fmt.Errorf("%s: %w", it.Key, err))
		}
		if progress != nil {
			progress(pr)
		}
		return nil
	})
	return errors.Join(append(errs, err)...)
}

// Wait polls the objects of items that are archived until all are
// readable (or ctx ends), reporting progress every poll.
func Wait(ctx context.Context, c *s3.Client, bucket string, items []Item, conc int, poll time.Duration, owner string, progress func(Progress)) error {
	return WaitEach(ctx, c, bucket, items, conc, poll, owner, progress, nil)
}

// Ready is an object WaitEach found readable.
type Ready struct {
	Key string
	s3archive.Status
	At time.Time // when the poll that found it ran
}

// WaitEach is Wait telling which objects became readable: after each
// poll, ready (if not nil) gets those found readable in it.
func WaitEach(ctx context.Context, c *s3.Client, bucket string, items []Item, conc int, poll time.Duration, owner string,
	progress func(Progress), ready func([]Ready)) error {
	var todo []Item
	for _, it := range items {
		if it.Archived {
			todo = append(todo, it)
		}
	}
	total := int64(len(todo))
	var readyBytes int64
	for {
		sts := make([]s3archive.Status, len(todo))
		err := each(ctx, conc, len(todo), func(i int) error {
			var err error
			sts[i], err = s3archive.Head(ctx, c, bucket, todo[i].Key, s3archive.Options{ExpectedBucketOwner: owner})
			return err
		})
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now()
		var left []Item
		var found []Ready
		for i, it := range todo {
			if sts[i].Readable() {
				found = append(found, Ready{Key: it.Key, Status: sts[i], At: now})
				readyBytes += sts[i].Size
			} else {
				left = append(left, it)
			}
		}
		todo = left
		if progress != nil {
			progress(Progress{Ready: total - int64(len(todo)), Waiting: int64(len(todo)), Total: total, ReadyBytes: readyBytes})
		}
		if len(found) > 0 && ready != nil {
			ready(found)
		}
		if len(todo) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// each runs fn(0..n-1), conc at a time, stopping at the first error.
func each(ctx context.Context, conc, n int, fn func(i int) error) error {
	if conc < 1 {
		conc = 1
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(conc, max(n, 1)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
