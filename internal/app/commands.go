package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/importer"
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
	// A reindex that was killed left its half-built copies, each as large as an index.
	dropped, err := core.Search.DropRebuilds(ctx)
	if err != nil {
		return fmt.Errorf("reindex: remove copies left by an earlier reindex: %w", err)
	}
	if len(dropped) > 0 {
		fmt.Fprintf(stdout, "removed %d index copies left by an earlier reindex: %v\n", len(dropped), dropped)
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
	if err := core.Indexer.RebuildRecords(ctx); err != nil {
		return fmt.Errorf("reindex courses and exhibitions: %w", err)
	}
	fmt.Fprintf(stdout, "reindexed in %v: %d published items, %d items in all, accounts, courses, exhibitions\n",
		time.Since(start).Round(time.Millisecond), last["items"], last["items_staff"])
	return nil
}

// runFixity re-reads every preserved file, reports each damaged one as it is found and goes
// on to the end; it records every object's result for the staff console. bad counts damaged
// files and objects that could not be checked.
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
	var (
		read                     int64
		damagedFiles, damagedObj int
		unchecked                []string
	)
	for i, id := range ids {
		if ctx.Err() != nil {
			return bad, ctx.Err()
		}
		res, err := core.Fixity.Check(ctx, id, func(n int64) {
			fmt.Fprintf(stdout, "\r[%d/%d] %s  %s read", i+1, len(ids), id, humanBytes(read+n))
		})
		read += res.Bytes
		if err != nil {
			fmt.Fprintf(stdout, "\nNOT CHECKED %s: %v\n", id, err)
			unchecked = append(unchecked, id)
			continue
		}
		for _, d := range res.Damaged {
			fmt.Fprintf(stdout, "\nDAMAGED object=%s version=%s path=%s %s=%s: %s\n", d.Object, d.Version, d.Path, d.DigestName(), d.Want, d)
		}
		if len(res.Damaged) > 0 {
			damagedObj++
			damagedFiles += len(res.Damaged)
		}
	}
	fmt.Fprintf(stdout, "\nchecked %d objects (%s read): %d damaged files in %d objects, %d objects not checked\n",
		len(ids)-len(unchecked), humanBytes(read), damagedFiles, damagedObj, len(unchecked))
	if len(unchecked) > 0 {
		fmt.Fprintf(stdout, "not checked: %v\n", unchecked)
	}
	return damagedFiles + len(unchecked), nil
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

type importArgs struct {
	csv, dir, as string
	workers      int
}

// runImport loads items from a CSV file; it exits 0 when every row went in (or was there
// already), 1 when some rows failed, 2 for wrong arguments.
func runImport(ctx context.Context, cfg *config.Config, a importArgs, stdout, stderr io.Writer) int {
	if a.csv == "" || a.dir == "" || a.as == "" {
		fmt.Fprintln(stderr, "import: --csv, --dir and --as are required")
		return 2
	}
	if a.workers < 1 || a.workers > 16 {
		fmt.Fprintln(stderr, "import: --workers must be 1 to 16")
		return 2
	}
	core, err := Connect(cfg, NewLogger(cfg.Log, stderr))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer core.Close()
	if err := core.Prepare(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	actor, err := core.Accounts.Store().Get(ctx, a.as)
	if err != nil || (actor.Role != accounts.Librarian && actor.Role != accounts.Admin) {
		fmt.Fprintf(stderr, "import: --as %s must name a librarian or admin account\n", a.as)
		return 2
	}
	report, err := importer.Run(ctx, importer.Deps{Library: core.Library, Docs: core.Docs}, importer.Options{
		CSV: a.csv, Dir: a.dir, Actor: actor, Stdout: stdout, Stderr: stderr, Workers: a.workers,
	})
	if err != nil {
		fmt.Fprintln(stderr, "import:", err)
		return 1
	}
	if len(report.Failed) > 0 {
		return 1
	}
	return 0
}
