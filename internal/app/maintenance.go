package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/internal/attach"
	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/transcoding"
)

// RunWorkers runs every background worker of a node until ctx ends, and waits for them.
func (c *Core) RunWorkers(ctx context.Context) {
	if n, err := c.Derivatives.SweepScratch(); err != nil {
		c.Log.WarnContext(ctx, "orphaned temporary folders not all removed", "err", err)
	} else if n > 0 {
		c.Log.InfoContext(ctx, "orphaned temporary folders removed", "count", n)
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.maintain(ctx, c.Config.Library.MaintenanceEvery) })
	wg.Go(func() { c.Indexer.Run(ctx, hostname(), 10*time.Minute) })
	wg.Go(func() { c.Outbox.DrainSpool(ctx, c.Config.Redis.SpoolEvery) })
	wg.Go(func() { c.Outbox.Consume(ctx, attach.Kind, hostname(), c.Attach.Handle) })
	wg.Go(func() { c.Outbox.Consume(ctx, derivatives.Group, hostname(), c.handleDerive) })
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
	if err := c.SyncPopularity(ctx); err != nil && ctx.Err() == nil {
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

// SyncPopularity hands items whose view totals changed to the indexer, which re-reads
// them (so a withdrawn item is never brought back) and writes their totals for the "most
// viewed" sort. The outbox batches many such events into one pass.
func (c *Core) SyncPopularity(ctx context.Context) error {
	for {
		changed, err := c.Views.Changed(ctx, 500)
		if err != nil || len(changed) == 0 {
			return err
		}
		for target := range changed {
			id, ok := strings.CutPrefix(target, "item:")
			if !ok {
				continue
			}
			if err := c.Outbox.Append(ctx, outbox.Event{Kind: "item", ID: id}); err != nil {
				var targets []string
				for t := range changed {
					targets = append(targets, t)
				}
				_ = c.Views.MarkChanged(context.WithoutCancel(ctx), targets...)
				return err
			}
		}
	}
}

// handleDerive makes a file's derivatives, then has the item re-indexed so that search
// results show its thumbnail.
// Video and audio files are also queued for transcoding to HLS.
func (c *Core) handleDerive(ctx context.Context, ev outbox.Event) error {
	if ev.Kind != derivatives.Kind {
		return nil
	}
	if err := c.queueTranscode(ctx, ev.ID, ev.Ref); err != nil {
		return err
	}
	if err := c.Derivatives.Handle(ctx, ev); err != nil {
		return err
	}
	c.Outbox.ItemChanged(ctx, ev.ID)
	return nil
}

func (c *Core) queueTranscode(ctx context.Context, item, path string) error {
	it, err := c.Library.Get(ctx, item)
	if errors.Is(err, library.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	}
	for _, f := range it.Files {
		if f.Path == path && transcoding.IsMedia(f.MediaType) {
			if _, err := c.Transcoding.Enqueue(ctx, item, f); err != nil {
				return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
			}
		}
	}
	return nil
}

// thumbs finds an item's search thumbnail among its derivatives.
type thumbs struct{ d *derivatives.Service }

func (t thumbs) Thumb(ctx context.Context, it library.Item) string {
	rec, err := t.d.Get(ctx, it.ID)
	if err != nil {
		return ""
	}
	for _, f := range it.Files {
		st, ok := rec.Files[f.Path]
		if !ok || st.State != derivatives.Done || st.SHA256 != f.SHA256 {
			continue
		}
		for _, o := range st.Outputs {
			if o.Name == "thumb-480.jpg" {
				return "/api/v1/items/" + it.ID + "/derivatives/" + st.SHA256 + "/" + o.Name
			}
		}
	}
	return ""
}
