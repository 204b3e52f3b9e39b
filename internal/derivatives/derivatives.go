// Package derivatives runs the derivative job of the library's files and keeps its results:
// for each file of an item, the pictures media/derive makes (thumbnails, poster, waveform),
// stored in MinIO, and a record per item saying what was made or why it failed.
//
// Keys (in the docs bucket):
//
//	records/derivatives/<item>.json        the Record
//	derivatives/<item>/<sha256>/<name>     one output ("thumb-480.jpg", "poster.jpg", ...)
//
// Outputs are keyed by the content's SHA-256, so a re-run writes the same keys and a page may
// cache an output for good.
package derivatives

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/media/derive"
	"github.com/shizuishan/culturecloud/storage"
)

const (
	// Group is the outbox consumer group of the derivative workers.
	Group = "derivatives"
	// Kind is the outbox event kind Handle takes ("derive", ID item, Ref file path).
	Kind = "derive"
	// Timeout bounds the tools' work on one file.
	Timeout = 10 * time.Minute

	recordPrefix = "records/derivatives/"
	objectPrefix = "derivatives/"

	maxErrorLen = 2000 // bytes of a tool's complaint kept in the record
	saveTries   = 5    // read-modify-write attempts on a busy record
)

// The states of a file's derivatives.
const (
	Done   = "done"
	Failed = "failed"
)

// ErrNotFound means no such item, file content or output.
var ErrNotFound = errors.New("derivative not found")

// Status is the outcome of the job for one file.
type Status struct {
	Path    string          `json:"path"`
	SHA256  string          `json:"sha256"`
	State   string          `json:"state"`
	Error   string          `json:"error,omitempty"`
	Outputs []derive.Output `json:"outputs"` // Path is the object key
	Updated time.Time       `json:"updated"`
}

// Record holds the statuses of an item's files, by file path.
type Record struct {
	Item  string            `json:"item"`
	Files map[string]Status `json:"files"`
}

// Service makes, stores and serves derivatives.
type Service struct {
	docs    *docstore.Store
	items   *library.Service
	log     *slog.Logger
	timeout time.Duration
	tmpDir  string // "" for the system's
	now     func() time.Time
}

// New wires a Service.
func New(docs *docstore.Store, items *library.Service, log *slog.Logger) *Service {
	return &Service{docs: docs, items: items, log: log, timeout: Timeout, now: time.Now}
}

var (
	idRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func recordKey(item string) string { return recordPrefix + item + ".json" }

// ObjectKey is where an output of a file's content is stored.
func ObjectKey(item, sha256, name string) string {
	return objectPrefix + item + "/" + sha256 + "/" + name
}

// Get returns the item's record; an item without one gives an empty Record.
func (s *Service) Get(ctx context.Context, item string) (Record, error) {
	rec, _, err := s.load(ctx, item)
	return rec, err
}

func (s *Service) load(ctx context.Context, item string) (Record, string, error) {
	empty := Record{Item: item, Files: map[string]Status{}}
	if !idRe.MatchString(item) {
		return empty, "", nil
	}
	var rec Record
	etag, err := s.docs.Get(ctx, recordKey(item), &rec)
	if errors.Is(err, docstore.ErrNotFound) {
		return empty, "", nil
	}
	if err != nil {
		return Record{}, "", err
	}
	if rec.Files == nil {
		rec.Files = map[string]Status{}
	}
	return rec, etag, nil
}

// Open streams an output named in the item's record, with its media type. The caller decides
// who may see it: derivatives of an unpublished item are as private as the item.
func (s *Service) Open(ctx context.Context, item, sha256, name string) (*storage.Object, string, error) {
	if !sha256Re.MatchString(sha256) {
		return nil, "", ErrNotFound
	}
	rec, _, err := s.load(ctx, item)
	if err != nil {
		return nil, "", err
	}
	for _, st := range rec.Files {
		if st.SHA256 != sha256 || st.State != Done {
			continue
		}
		for _, o := range st.Outputs {
			if o.Name != name {
				continue
			}
			obj, err := s.docs.Objects().Open(ctx, o.Path, storage.GetOptions{})
			if err != nil {
				return nil, "", storageErr(err)
			}
			if _, err := obj.Stat(); err != nil {
				obj.Close()
				return nil, "", storageErr(err)
			}
			return obj, o.MediaType, nil
		}
	}
	return nil, "", ErrNotFound
}

func storageErr(err error) error { return storage.NotFoundAs(err, ErrNotFound) }

// save records st in the item's record (read-modify-write on the ETag) and returns what it
// replaced. A newer outcome for other content at the same path, recorded since started, wins.
func (s *Service) save(ctx context.Context, item string, st Status, started time.Time) (Status, Record, error) {
	for range saveTries {
		rec, etag, err := s.load(ctx, item)
		if err != nil {
			return Status{}, Record{}, err
		}
		prev := rec.Files[st.Path]
		if prev.SHA256 != st.SHA256 && prev.Updated.After(started) {
			return Status{}, rec, nil
		}
		rec.Files[st.Path] = st
		cond := docstore.Match(etag)
		if etag == "" {
			cond = docstore.Create()
		}
		_, err = s.docs.Put(ctx, recordKey(item), rec, cond)
		if errors.Is(err, docstore.ErrPrecondition) {
			continue // another file of the item was recorded meanwhile
		}
		return prev, rec, err
	}
	return Status{}, Record{}, fmt.Errorf("record of %s kept changing: %w", item, docstore.ErrPrecondition)
}

// Handle is the outbox handler for Kind: it makes the derivatives of the file ev.Ref of item
// ev.ID and records the outcome. A file the tools cannot read is recorded as failed and the
// event acknowledged (a re-upload or a retry queues it again); a storage outage, a full local
// disk or a worker shutting down returns an error wrapping outbox.ErrRetry.
func (s *Service) Handle(ctx context.Context, ev outbox.Event) error {
	if ev.Kind != Kind {
		return nil
	}
	err := s.handle(ctx, ev.ID, ev.Ref)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil, dep.IsUnavailable(err), errors.Is(err, errLocal),
		errors.Is(err, docstore.ErrPrecondition):
		return fmt.Errorf("%w: derivatives of %s %s: %w", outbox.ErrRetry, ev.ID, ev.Ref, err)
	}
	return fmt.Errorf("derivatives of %s %s: %w", ev.ID, ev.Ref, err)
}

func (s *Service) handle(ctx context.Context, id, path string) error {
	it, err := s.items.Get(ctx, id)
	if errors.Is(err, library.ErrNotFound) {
		s.log.InfoContext(ctx, "derivatives skipped: item gone", "item", id, "path", path)
		return nil
	}
	if err != nil {
		return err
	}
	var file library.File
	for _, f := range it.Files {
		if f.Path == path {
			file = f
		}
	}
	if file.Path == "" {
		s.log.InfoContext(ctx, "derivatives skipped: file no longer in the item", "item", id, "path", path)
		return nil
	}
	rec, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if st, ok := rec.Files[path]; ok && st.State == Done && st.SHA256 == file.SHA256 {
		return nil // a repeated event: the outputs are there
	}
	started := s.now()
	st, err := s.make(ctx, id, file)
	if errors.Is(err, ErrNotFound) {
		s.log.InfoContext(ctx, "derivatives skipped: file content gone", "item", id, "path", path)
		return nil
	}
	if err != nil {
		return err
	}
	prev, rec, err := s.save(ctx, id, st, started)
	if err != nil {
		return err
	}
	if st.State == Failed {
		s.log.WarnContext(ctx, "derivatives failed", "item", id, "path", path, "type", file.MediaType, "err", st.Error)
	} else {
		s.log.InfoContext(ctx, "derivatives made", "item", id, "path", path, "outputs", len(st.Outputs))
	}
	s.dropUnused(ctx, rec, prev)
	return nil
}

// dropUnused removes the outputs of content that was replaced at its path, unless another
// file of the item has the same content. It is tidying: a failure is only logged.
func (s *Service) dropUnused(ctx context.Context, rec Record, prev Status) {
	if prev.SHA256 == "" {
		return
	}
	for _, st := range rec.Files {
		if st.SHA256 == prev.SHA256 {
			return
		}
	}
	for _, o := range prev.Outputs {
		if err := s.docs.Objects().Remove(ctx, o.Path, ""); err != nil {
			s.log.WarnContext(ctx, "old derivative not removed", "key", o.Path, "err", err)
		}
	}
}

// Thumb is the address of an item's search thumbnail (the 480-pixel one of its first file
// that has one, for the file's current bytes); "" when it has none yet.
func (s *Service) Thumb(ctx context.Context, it library.Item) string {
	rec, err := s.Get(ctx, it.ID)
	if err != nil {
		return ""
	}
	for _, f := range it.Files {
		st, ok := rec.Files[f.Path]
		if !ok || st.State != Done || st.SHA256 != f.SHA256 {
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
