// Package importer loads many library items at once from a CSV file and a folder of files,
// for `culturecloud import`. Each row becomes one item; a row is validated completely before
// anything is written, and a row already imported (same files, or for rows without files the
// same fields) is skipped, so that an interrupted import can simply be run again.
package importer

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/units"
)

// KeyPrefix is where the import index lives: one document per imported row,
// KeyPrefix+"<sha256 hex>.json" → {"item": "<id>"}.
const KeyPrefix = "records/import/keys/"

// maxRows bounds one CSV file, which is read whole (its text only; files are streamed).
const maxRows = 100_000

// Options say what to import and where to report.
type Options struct {
	CSV, Dir string           // the CSV file and the folder its "files" paths are relative to
	Actor    accounts.Account // who imports: a librarian or an admin
	Stderr   io.Writer        // progress
	Stdout   io.Writer        // the summary
	Workers  int              // rows handled at once; 2 when 0
}

// Report is the outcome of a run.
type Report struct {
	Imported, Skipped int
	// AwaitingReview counts the imported rows that asked for published but stay in review:
	// an import is one person's submission, and a reviewer approves it (先审后发) unless the
	// unit's review policy is none.
	AwaitingReview int
	Failed         []RowError
}

// RowError is a row that did not go in. Item is set when an item was created but not
// completed: staff fix it by hand (the row's key is not recorded, so a re-run makes a new item).
type RowError struct {
	Row    int // 1-based; the header is row 1
	Item   string
	Reason string
}

func (e RowError) String() string {
	if e.Item != "" {
		return fmt.Sprintf("row %d: %s (item %s was created; complete it by hand)", e.Row, e.Reason, e.Item)
	}
	return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
}

// Deps are the services an import writes through.
type Deps struct {
	Library *library.Service
	Docs    *docstore.Store
}

// keyDoc is the index document of an imported row.
type keyDoc struct {
	Item string `json:"item"`
}

// checked is a row that passed every check, with its files hashed.
type checked struct {
	row   row
	files []localFile
	key   string
}

// Run imports o.CSV. The error is only for what stops everything: an unreadable CSV, a bad
// header, an actor who may not import, MinIO not answering. The report is valid either way
// (rows done before a stop are counted); Run prints its summary to o.Stdout.
func Run(ctx context.Context, d Deps, o Options) (Report, error) {
	if o.Actor.Role != accounts.Librarian && o.Actor.Role != accounts.Admin || o.Actor.Disabled {
		return Report{}, fmt.Errorf("import: %s is not an active librarian or admin", o.Actor.Name)
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	h, records, err := readCSV(o.CSV)
	if err != nil {
		return Report{}, err
	}
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return Report{}, fmt.Errorf("import: folder %s: %w", o.Dir, err)
	}
	defer func() { _ = root.Close() }()
	if err := d.Docs.Check(ctx); err != nil {
		return Report{}, fmt.Errorf("import: %w", err)
	}
	tree, _, err := units.NewDocStore(d.Docs).LoadUnits(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("import: load units: %w", err)
	}
	p := &parser{h: h, vocab: d.Library.Vocabulary(), tree: &tree, actor: o.Actor, now: time.Now()}
	im := &importer{d: d, actor: o.Actor, lang: h.lang,
		stage: &stager{objects: d.Docs.Objects(), root: root}}
	prog := newProgress(o.Stderr)

	var rep Report
	ready, failed := im.check(ctx, p, root, records, o.Workers, prog)
	rep.Failed = failed
	err = ctx.Err()
	if err == nil {
		err = im.load(ctx, ready, o.Workers, prog, &rep)
	}
	sort.Slice(rep.Failed, func(i, j int) bool { return rep.Failed[i].Row < rep.Failed[j].Row })
	printSummary(o.Stdout, rep)
	return rep, err
}

// readCSV reads the header and every record; an empty row (all cells blank) is left out but
// keeps its number.
func readCSV(name string) (*header, map[int][]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	cells, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("import: %s is empty", name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("import: %s: %w", name, err)
	}
	h, err := parseHeader(cells)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %s: %w", name, err)
	}
	records := map[int][]string{}
	for num := 2; ; num++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("import: %s row %d: %w", name, num, err)
		}
		if num > maxRows+1 {
			return nil, nil, fmt.Errorf("import: %s has more than %d rows; split it", name, maxRows)
		}
		if strings.TrimSpace(strings.Join(rec, "")) != "" {
			records[num] = rec
		}
	}
	return h, records, nil
}

type importer struct {
	d     Deps
	actor accounts.Account
	lang  i18n.Lang
	stage *stager
}

func (im *importer) msg(zh, en string) string {
	if im.lang == i18n.ZH {
		return zh
	}
	return en
}

// each runs fn on every row number with n workers and hands the results, in the order they
// come, to collect (on the calling goroutine). It stops handing out rows when ctx ends.
func each[T any](ctx context.Context, nums []int, n int, fn func(num int) T, collect func(T)) {
	jobs := make(chan int)
	results := make(chan T)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for num := range jobs {
				results <- fn(num)
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, num := range nums {
			select {
			case jobs <- num:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	for r := range results {
		collect(r)
	}
}

// check parses and validates every row and hashes its files, writing nothing. Rows that
// repeat an earlier row of the file (same key) fail, naming it.
func (im *importer) check(ctx context.Context, p *parser, root *os.Root, records map[int][]string, workers int,
	prog *progress) ([]checked, []RowError) {
	nums := make([]int, 0, len(records))
	for num := range records {
		nums = append(nums, num)
	}
	sort.Ints(nums)
	type result struct {
		c   checked
		err *RowError
	}
	var ok []checked
	var failed []RowError
	prog.start(im.msg("检查", "checking"), len(nums))
	each(ctx, nums, workers, func(num int) result {
		r, err := p.parse(num, records[num])
		if err != nil {
			return result{err: &RowError{Row: num, Reason: err.Error()}}
		}
		c := checked{row: r}
		var problems []string
		for _, rel := range r.Files {
			lf, err := inspect(root, rel, p.h.lang)
			if err != nil {
				problems = append(problems, p.h.name("files")+": "+err.Error())
				continue
			}
			c.files = append(c.files, lf)
		}
		if len(problems) > 0 {
			return result{err: &RowError{Row: num, Reason: strings.Join(problems, "; ")}}
		}
		c.key = rowKey(c)
		return result{c: c}
	}, func(r result) {
		if r.err != nil {
			failed = append(failed, *r.err)
		} else {
			ok = append(ok, r.c)
		}
		prog.step("")
	})
	prog.finish()
	sort.Slice(ok, func(i, j int) bool { return ok[i].row.Num < ok[j].row.Num })
	first := map[string]int{}
	ready := ok[:0]
	for _, c := range ok {
		if n, dup := first[c.key]; dup {
			reason := p.h.name("files") + ": " + im.msg(fmt.Sprintf("与第 %d 行的文件相同", n), fmt.Sprintf("same files as row %d", n))
			if len(c.files) == 0 {
				reason = p.h.name("title") + ": " + im.msg(fmt.Sprintf("与第 %d 行的内容相同", n), fmt.Sprintf("same content as row %d", n))
			}
			failed = append(failed, RowError{Row: c.row.Num, Reason: reason})
			continue
		}
		first[c.key] = c.row.Num
		ready = append(ready, c)
	}
	return ready, failed
}

// rowKey identifies a row: for one file its SHA-256, for several the SHA-256 of their sorted
// SHA-256s (one per line), and for none the SHA-256 of the normalised fields.
func rowKey(c checked) string {
	switch len(c.files) {
	case 0:
		return contentKey(c.row.Fields)
	case 1:
		return c.files[0].SHA256
	}
	sums := make([]string, len(c.files))
	for i, f := range c.files {
		sums[i] = f.SHA256 + "\n"
	}
	sort.Strings(sums)
	return sha256Hex([]byte(strings.Join(sums, "")))
}

// outcome of loading one row.
type outcome int

const (
	imported outcome = iota
	awaitingReview
	skipped
	failed
)

// load writes the checked rows. A MinIO failure stops the run after the rows in flight.
func (im *importer) load(ctx context.Context, ready []checked, workers int, prog *progress, rep *Report) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	byNum := map[int]checked{}
	nums := make([]int, len(ready))
	for i, c := range ready {
		byNum[c.row.Num], nums[i] = c, c.row.Num
	}
	type result struct {
		out    outcome
		rowErr RowError
		fatal  error
	}
	var stop error
	prog.start(im.msg("导入", "importing"), len(nums))
	each(ctx, nums, workers, func(num int) result {
		out, rowErr, fatal := im.loadRow(ctx, byNum[num])
		return result{out, rowErr, fatal}
	}, func(r result) {
		switch r.out {
		case imported:
			rep.Imported++
		case awaitingReview:
			rep.Imported++
			rep.AwaitingReview++
		case skipped:
			rep.Skipped++
		case failed:
			rep.Failed = append(rep.Failed, r.rowErr)
		}
		if r.fatal != nil && stop == nil {
			stop = r.fatal
			cancel()
		}
		prog.step(fmt.Sprintf("imported %d, skipped %d, failed %d", rep.Imported, rep.Skipped, len(rep.Failed)))
	})
	prog.finish()
	if stop != nil {
		return fmt.Errorf("import stopped: %w", stop)
	}
	return nil
}

// loadRow stages the files, creates the item, adds the files, moves it to the wanted status
// and records its key, in that order: the key is written last, so a row that failed half
// way is tried again by the next run. Staging objects are removed in every case. fatal is
// set when MinIO failed, which stops the run.
func (im *importer) loadRow(ctx context.Context, c checked) (out outcome, rowErr RowError, fatal error) {
	num := c.row.Num
	fail := func(item string, err error) (outcome, RowError, error) {
		var f error
		if dep.IsUnavailable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			f = err
		}
		return failed, RowError{Row: num, Item: item, Reason: err.Error()}, f
	}
	key := KeyPrefix + c.key + ".json"
	var have keyDoc
	_, err := im.d.Docs.Get(ctx, key, &have)
	switch {
	case err == nil:
		return skipped, RowError{}, nil
	case !errors.Is(err, docstore.ErrNotFound):
		return fail("", err)
	}

	var staged []string
	defer func() {
		for _, k := range staged {
			if err := im.stage.purge(context.WithoutCancel(ctx), k); err != nil && fatal == nil {
				fatal = dep.Unavailable(dep.MinIO, err)
			}
		}
	}()
	ups := make([]library.Upload, 0, len(c.files))
	for _, lf := range c.files {
		up, k, err := im.stage.stage(ctx, lf)
		staged = append(staged, k)
		if err != nil {
			return fail("", fmt.Errorf("%s: %w", im.msg("文件", "files"), err))
		}
		ups = append(ups, up)
	}

	it, err := im.d.Library.Create(ctx, im.actor, c.row.Fields)
	if err != nil {
		return fail("", err)
	}
	for _, up := range ups {
		if _, _, err := im.d.Library.AddFile(ctx, im.actor, it.ID, "", up); err != nil {
			return fail(it.ID, fmt.Errorf("%s %q: %w", im.msg("添加文件失败", "adding file"), up.Name, err))
		}
	}
	var path []library.Status
	switch c.row.Status {
	case library.InReview:
		path = []library.Status{library.InReview}
	case library.Published:
		path = []library.Status{library.InReview, library.Published}
	}
	out = imported
	for _, st := range path {
		_, err := im.d.Library.Move(ctx, im.actor, it.ID, "", st)
		if errors.Is(err, review.ErrRequired) {
			out = awaitingReview
			break
		}
		if err != nil {
			return fail(it.ID, fmt.Errorf("%s %s: %w", im.msg("无法改为", "moving to"), st, err))
		}
	}
	if _, err := im.d.Docs.Put(ctx, key, keyDoc{Item: it.ID}, docstore.Create()); err != nil {
		if errors.Is(err, docstore.ErrPrecondition) {
			_, _ = im.d.Docs.Get(ctx, key, &have)
			return fail(it.ID, fmt.Errorf("%s %s", im.msg("另一次导入同时导入了此行，为条目", "another import took this row at the same time, as item"), have.Item))
		}
		return fail(it.ID, err)
	}
	return out, RowError{}, nil
}

// printSummary writes the counts and one line per failed row.
func printSummary(w io.Writer, rep Report) {
	fmt.Fprintf(w, "imported %d, skipped %d, failed %d\n", rep.Imported, rep.Skipped, len(rep.Failed))
	if rep.AwaitingReview > 0 {
		fmt.Fprintf(w, "%d imported rows asked for published and wait in review: another member of staff approves them (review queue)\n",
			rep.AwaitingReview)
	}
	for _, f := range rep.Failed {
		fmt.Fprintln(w, f.String())
	}
}
