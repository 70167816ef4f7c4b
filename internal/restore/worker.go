// Package restore runs the background loop that serves restore jobs:
// it asks the object service to complete the jobs that are due and to
// drop restored copies whose time is up. The jobs themselves are durable
// rows in the metadata store, claimed with leases, so any number of
// workers (on any number of nodes) may run, and a crash only delays a job
// until its lease runs out.
package restore

import (
	"context"
	"log/slog"
	"time"
)

// Service is what the worker drives (implemented by *object.Service).
type Service interface {
	// RunRestores completes up to limit due jobs as owner.
	RunRestores(ctx context.Context, owner string, lease time.Duration, limit int) (int, error)
	// ExpireRestores drops up to limit expired restored copies.
	ExpireRestores(ctx context.Context, limit int) (int, error)
}

// Worker polls for due restore work.
type Worker struct {
	Service Service
	Owner   string        // lease owner name, unique per worker
	Every   time.Duration // poll interval; 250ms when zero
	Lease   time.Duration // how long a claimed job is held; 10m when zero
	Batch   int           // jobs per poll; 256 when zero
	Log     *slog.Logger  // nil: discard
}

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	every, lease, batch, log := w.Every, w.Lease, w.Batch, w.Log
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	if lease <= 0 {
		lease = 10 * time.Minute
	}
	if batch <= 0 {
		batch = 256
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		// Drain what is due before sleeping again.
		for ctx.Err() == nil {
			n, err := w.Service.RunRestores(ctx, w.Owner, lease, batch)
			if err != nil && ctx.Err() == nil {
				log.Warn("restore jobs", "err", err)
			}
			if n > 0 {
				log.Info("restores completed", "count", n)
			}
			if err != nil || n < batch {
				break
			}
		}
		if n, err := w.Service.ExpireRestores(ctx, 1000); err != nil && ctx.Err() == nil {
			log.Warn("expire restored copies", "err", err)
		} else if n > 0 {
			log.Info("restored copies expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
