package app

import (
	"context"
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/internal/attach"
	"github.com/shizuishan/culturecloud/internal/derivatives"
)

// RunWorkers runs every background worker of a node until ctx ends, and waits for them.
func (c *Core) RunWorkers(ctx context.Context) {
	for _, sweep := range []func() (int, error){c.Derivatives.SweepScratch, c.Images.SweepScratch} {
		if n, err := sweep(); err != nil {
			c.Log.WarnContext(ctx, "orphaned temporary folders not all removed", "err", err)
		} else if n > 0 {
			c.Log.InfoContext(ctx, "orphaned temporary folders removed", "count", n)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.maintain(ctx, c.Config.Library.MaintenanceEvery) })
	wg.Go(func() { c.Indexer.Run(ctx, hostname(), 10*time.Minute) })
	wg.Go(func() { c.Outbox.DrainSpool(ctx, c.Config.Redis.SpoolEvery) })
	wg.Go(func() { c.Outbox.Consume(ctx, attach.Kind, hostname(), c.Attach.Handle) })
	wg.Go(func() { c.Outbox.Consume(ctx, derivatives.Group, hostname(), c.Pipeline.HandleDerive) })
	wg.Go(func() { c.Transcoding.Run(ctx) })
	wg.Wait()
}

// maintain runs the periodic background work of a node until ctx ends: view rollups to
// MinIO and the popularity sync to the search index. Every step is idempotent, so several
// nodes may run it.
func (c *Core) maintain(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		c.maintainOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (c *Core) maintainOnce(ctx context.Context) {
	now := time.Now()
	// A Redis that lost its data while we ran gets the totals back before the next rollup.
	if restored, err := c.Views.Restore(ctx, now); err != nil && ctx.Err() == nil {
		c.Log.WarnContext(ctx, "view counters not restored; will retry", "err", err)
	} else if restored {
		c.Log.InfoContext(ctx, "view counters restored from MinIO")
	}
	for _, day := range []time.Time{now.Add(-24 * time.Hour), now} {
		if err := c.Views.Rollup(ctx, day); err != nil && ctx.Err() == nil {
			c.Log.WarnContext(ctx, "view rollup failed; will retry", "err", err)
		}
	}
	if err := c.Pipeline.SyncPopularity(ctx); err != nil && ctx.Err() == nil {
		c.Log.WarnContext(ctx, "popularity sync failed; will retry", "err", err)
	}
	if n, err := c.Uploads.Janitor(ctx, c.Config.Library.AbandonedUploadAge); err != nil && ctx.Err() == nil {
		c.Log.WarnContext(ctx, "upload janitor failed; will retry", "err", err)
	} else if n > 0 {
		c.Log.InfoContext(ctx, "old upload sessions removed (abandoned, or attached long ago)", "count", n)
	}
	if n, err := c.OCFL.AbortStaleCopies(ctx, c.Config.Library.AbandonedUploadAge); err != nil && ctx.Err() == nil {
		c.Log.WarnContext(ctx, "stale OCFL copies not aborted; will retry", "err", err)
	} else if n > 0 {
		c.Log.InfoContext(ctx, "unfinished OCFL copies aborted", "count", n)
	}
}
