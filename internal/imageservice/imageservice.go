// Package imageservice is the IIIF Image API 3.0 service of the library's still images, both
// halves of it: the worker half makes each image file's tile pyramid once, at ingest (vips
// dzsave --layout iiif3), and stores it in MinIO; the request half answers info.json and image
// requests from those tiles: a request that is exactly a stored tile is streamed as it is,
// any other is cut (media/iiif.Cut) from the nearest level, never from the master.
//
// Keys (in the docs bucket), by the content's SHA-256 so that a re-run writes the same keys:
//
//	iiif/<item>/<sha256>/pyramid.json     the Record (layout, or why it failed)
//	iiif/<item>/<sha256>/tiles/<name>     one tile ("0,0,512,512/512,512/0/default.jpg")
package imageservice

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/iiif"
	"github.com/shizuishan/culturecloud/storage"
)

// The states of a file's pyramid.
const (
	Done   = "done"
	Failed = "failed"
)

const (
	keyPrefix   = "iiif/"
	maxErrorLen = 2000 // bytes of a tool's complaint kept in the record
	// recordCacheSize bounds the layouts kept in memory; a layout never changes for its content.
	recordCacheSize = 10_000
)

// ErrNotFound means no such image, or no pyramid for it yet.
var ErrNotFound = errors.New("image not found")

// Record is what the worker made of one file's content: its pyramid's layout, or why it failed.
type Record struct {
	Item         string `json:"item"`
	Path         string `json:"path"`
	SHA256       string `json:"sha256"`
	State        string `json:"state"`
	Error        string `json:"error,omitempty"`
	iiif.Pyramid        // the layout (State Done)
	// Sizes are the whole image at each level the limits allow, as info.json announces them.
	Sizes []iiif.SizeInfo `json:"sizes,omitempty"`
	// MakeSeconds is how long the worker took: the master from MinIO, vips, the tiles to MinIO
	// (not the removal of its temporary folder afterwards).
	MakeSeconds float64   `json:"make_seconds"`
	Updated     time.Time `json:"updated"`
}

// Options are the service's limits.
type Options struct {
	// Limits are the largest answer and the formats offered (they are what info.json says).
	Limits iiif.Limits
	// TileSize is the side of the pyramid's square tiles.
	TileSize int
	// MaxCuts and MaxCutsPerClient bound the cuts (decode, scale, encode) running at once on
	// this node, in all and for one client address.
	MaxCuts, MaxCutsPerClient int
	// CutWait is how long a cut waits for a place before it is refused.
	CutWait time.Duration
	// MaxMasterPixels: an image without its pyramid yet is cut from its master only up to
	// this many pixels; a larger one waits for the worker (ErrNotFound until then).
	MaxMasterPixels int64
	// TileCacheBytes bounds the tiles kept in memory.
	TileCacheBytes int64
	// Timeout bounds making one pyramid.
	Timeout time.Duration
	// Uploaders is how many tiles are stored at once.
	Uploaders int
	TmpDir    string // "" for the system's
	Now       func() time.Time
}

// Service makes pyramids and answers image requests.
type Service struct {
	docs  *docstore.Store
	items *library.Service
	log   *slog.Logger
	o     Options
	gate  *gate
	tiles *tileCache

	mu    sync.Mutex
	cache map[string]Record // Done records, by item~sha256
}

// New wires a Service.
func New(docs *docstore.Store, items *library.Service, log *slog.Logger, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Uploaders <= 0 {
		o.Uploaders = 32 // small PUTs: mostly waiting on MinIO
	}
	return &Service{docs: docs, items: items, log: log, o: o, gate: newGate(o.MaxCuts, o.MaxCutsPerClient, o.CutWait),
		tiles: newTileCache(o.TileCacheBytes), cache: map[string]Record{}}
}

var (
	itemRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Identifier is the IIIF identifier of the image file with content sha256 in item: the last
// segment of its image service's URL ({http.public_url}/iiif/3/{identifier}).
func Identifier(item, sha256 string) string { return item + "~" + sha256 }

// ParseIdentifier splits an identifier into item and content digest; ok is false for anything
// Identifier could not have made.
func ParseIdentifier(id string) (item, sha256 string, ok bool) {
	item, sha256, ok = strings.Cut(id, "~")
	if !ok || !itemRe.MatchString(item) || !sha256Re.MatchString(sha256) {
		return "", "", false
	}
	return item, sha256, true
}

func base(item, sha256 string) string { return keyPrefix + item + "/" + sha256 + "/" }

// RecordKey is where the file's Record is stored.
func RecordKey(item, sha256 string) string { return base(item, sha256) + "pyramid.json" }

// TileKey is where a tile of the file's pyramid is stored.
func TileKey(item, sha256, name string) string { return base(item, sha256) + "tiles/" + name }

// Get returns the file's record, ErrNotFound when the worker has not made one yet.
func (s *Service) Get(ctx context.Context, item, sha256 string) (Record, error) {
	if !itemRe.MatchString(item) || !sha256Re.MatchString(sha256) {
		return Record{}, ErrNotFound
	}
	id := Identifier(item, sha256)
	s.mu.Lock()
	rec, ok := s.cache[id]
	s.mu.Unlock()
	if ok {
		return rec, nil
	}
	_, err := s.docs.Get(ctx, RecordKey(item, sha256), &rec)
	if errors.Is(err, docstore.ErrNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, err
	}
	if rec.State == Done {
		s.remember(id, rec)
	}
	return rec, nil
}

func (s *Service) remember(id string, rec Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= recordCacheSize {
		for k := range s.cache { // any one: a miss costs one read
			delete(s.cache, k)
			break
		}
	}
	s.cache[id] = rec
}

// Dimensions are the width and height of an image file, from its pyramid: ErrNotFound until the
// worker has made it (or when it could not).
func (s *Service) Dimensions(ctx context.Context, item, sha256 string) (width, height int, err error) {
	rec, err := s.ready(ctx, item, sha256)
	if err != nil {
		return 0, 0, err
	}
	return rec.Width, rec.Height, nil
}

// ready is the file's record when its pyramid is made.
func (s *Service) ready(ctx context.Context, item, sha256 string) (Record, error) {
	rec, err := s.Get(ctx, item, sha256)
	if err != nil {
		return Record{}, err
	}
	if rec.State != Done {
		return Record{}, ErrNotFound
	}
	return rec, nil
}

func storageErr(err error) error { return storage.NotFoundAs(err, ErrNotFound) }
