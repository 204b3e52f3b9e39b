// Package pipeline routes the work that follows a change between the workers, so that no
// worker needs to know the next: a file added to an item is derived (thumbnails, posters),
// its video or audio is queued for transcoding, its image gets a IIIF tile pyramid, and the
// item is re-indexed so that search
// shows the thumbnail; view totals that changed send their items to the indexer for the
// "most viewed" sort.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/imageservice"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/views"
)

// Pipeline holds the workers it routes between.
type Pipeline struct {
	Library     *library.Service
	Derivatives *derivatives.Service
	Images      *imageservice.Service
	Transcoding *transcoding.Runner
	Outbox      *outbox.Outbox
	Views       *views.Counter
}

// HandleDerive is the consumer of derivative events: it queues a video or audio file for
// transcoding, makes the file's derivatives and (for an image) its tile pyramid, then has the
// item re-indexed. Each step skips what an earlier delivery of the event already made.
func (p *Pipeline) HandleDerive(ctx context.Context, ev outbox.Event) error {
	if ev.Kind != derivatives.Kind {
		return nil
	}
	if err := p.queueTranscode(ctx, ev.ID, ev.Ref); err != nil {
		return err
	}
	if err := p.Derivatives.Handle(ctx, ev); err != nil {
		return err
	}
	if err := p.Images.Handle(ctx, ev); err != nil {
		return err
	}
	p.Outbox.ItemChanged(ctx, ev.ID)
	return nil
}

func (p *Pipeline) queueTranscode(ctx context.Context, item, path string) error {
	it, err := p.Library.Get(ctx, item)
	if errors.Is(err, library.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
	}
	for _, f := range it.Files {
		if f.Path == path && transcoding.IsMedia(f.MediaType) {
			if _, err := p.Transcoding.Enqueue(ctx, item, f); err != nil {
				return fmt.Errorf("%w: %w", outbox.ErrRetry, err)
			}
		}
	}
	return nil
}

// SyncPopularity hands items whose view totals changed to the indexer, which re-reads
// them (so a withdrawn item is never brought back) and writes their totals for the "most
// viewed" sort. The outbox batches many such events into one pass.
func (p *Pipeline) SyncPopularity(ctx context.Context) error {
	for {
		changed, err := p.Views.Changed(ctx, 500)
		if err != nil || len(changed) == 0 {
			return err
		}
		for target := range changed {
			id, ok := strings.CutPrefix(target, "item:")
			if !ok {
				continue
			}
			if err := p.Outbox.Append(ctx, outbox.Event{Kind: "item", ID: id}); err != nil {
				var targets []string
				for t := range changed {
					targets = append(targets, t)
				}
				_ = p.Views.MarkChanged(context.WithoutCancel(ctx), targets...)
				return err
			}
		}
	}
}
