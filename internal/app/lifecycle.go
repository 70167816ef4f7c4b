package app

import (
	"context"
	"time"
)

// Batch sizes of the lifecycle loop.
const (
	lifecycleBatch     = 1000  // due objects per RunLifecycle call
	reconcileBatch     = 10000 // objects re-evaluated per tick
	reconcileEveryDays = 7     // model days between reconciliation walks
)

// runLifecycle applies the buckets' lifecycle rules: the actions due (as
// soon as they are due: it looks a hundred times per model day, at least
// once a minute), the aborts of incomplete multipart uploads, and, every
// reconcileEveryDays model days, a slow walk that re-evaluates every
// object in buckets with rules, at reconcileBatch objects per tick, to
// catch anything the write path missed.
func (s *Server) runLifecycle(ctx context.Context) {
	day := s.clock.DayLength()
	every := min(time.Minute, max(day/100, 10*time.Millisecond))
	tick := time.NewTicker(every)
	defer tick.Stop()
	lastWalk := s.clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for ctx.Err() == nil {
			res, err := s.svc.RunLifecycle(ctx, lifecycleBatch)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("lifecycle", "err", err)
			}
			if res.Applied() > 0 {
				s.log.Info("lifecycle actions applied", "transitioned", res.Transitioned, "expired", res.Expired)
			}
			if err != nil || res.Applied()+res.Rescheduled < lifecycleBatch {
				break
			}
		}
		if n, err := s.svc.AbortExpiredUploads(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("lifecycle: abort incomplete uploads", "err", err)
		} else if n > 0 {
			s.log.Info("lifecycle aborted incomplete uploads", "count", n)
		}
		if now := s.clock.Now(); now.Sub(lastWalk) >= reconcileEveryDays*day {
			lastWalk = now
			if err := s.svc.ScheduleReconcileAll(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("lifecycle: schedule reconciliation", "err", err)
			}
		}
		if _, changed, err := s.svc.ReconcileLifecycle(ctx, reconcileBatch); err != nil && ctx.Err() == nil {
			s.log.Warn("lifecycle: reconcile", "err", err)
		} else if changed > 0 {
			s.log.Info("lifecycle reconciliation rescheduled objects", "count", changed)
		}
	}
}
