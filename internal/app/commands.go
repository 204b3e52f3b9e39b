package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
)

// runReindex rebuilds the search indexes from MinIO alone and swaps them in atomically, so
// searches keep working during the rebuild.
func runReindex(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	core, err := Connect(cfg, NewLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}
	defer core.Close()
	if err := core.Prepare(ctx); err != nil {
		return err
	}
	start := time.Now()
	last := map[string]int{}
	err = core.Indexer.RebuildItems(ctx, func(index string, done int) {
		last[index] = done
		fmt.Fprintf(stdout, "\r%-12s %6d documents", index, done)
	})
	fmt.Fprintln(stdout)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	if err := core.Indexer.RebuildAccounts(ctx); err != nil {
		return fmt.Errorf("reindex accounts: %w", err)
	}
	fmt.Fprintf(stdout, "reindexed in %v: %d published items, %d items in all, accounts\n",
		time.Since(start).Round(time.Millisecond), last["items"], last["items_staff"])
	return nil
}

// runFixity re-reads every preserved file and reports any whose digest no longer matches.
func runFixity(ctx context.Context, cfg *config.Config, only string, stdout, stderr io.Writer) (bad int, err error) {
	core, err := Connect(cfg, NewLogger(cfg.Log, stderr))
	if err != nil {
		return 0, err
	}
	defer core.Close()
	ids := []string{only}
	if only == "" {
		if ids, err = core.OCFL.IDs(ctx); err != nil {
			return 0, err
		}
	}
	var total int64
	for i, id := range ids {
		problems, err := core.OCFL.CheckObject(ctx, id, func(n int64) {
			fmt.Fprintf(stdout, "\r[%d/%d] %s  %s read", i+1, len(ids), id, humanBytes(total+n))
		})
		if err != nil {
			return bad, fmt.Errorf("fixity %s: %w", id, err)
		}
		for _, p := range problems {
			fmt.Fprintf(stdout, "\nMISMATCH %s", p)
		}
		bad += len(problems)
	}
	fmt.Fprintf(stdout, "\nchecked %d objects: %d mismatches\n", len(ids), bad)
	return bad, nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
