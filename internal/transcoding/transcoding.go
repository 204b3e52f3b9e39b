// Package transcoding runs the transcoding job of the library's video and audio files: for
// each file, the HLS ladder, poster, preview sprite, download copy and waveform that
// media/transcode makes, stored in MinIO, and a record per item saying how far each file is.
//
// Jobs travel on a Redis stream read by a consumer group, one job per (item, content SHA-256):
//
//	<prefix>jobs:transcode                  the stream; fields job, item, path, sha256
//	<prefix>jobs:transcode:dead             jobs given up on (job, item, sha256, error)
//	<prefix>transcode:file:<item>:<sha256>  the id of the file's current job (7 days)
//	<prefix>transcode:due                   hash: job id → Unix ms before which a retry waits
//	<prefix>job:<id>                        the job itself (package jobs): state, percent, ETA
//
// Keys in the docs bucket:
//
//	records/media/<item>.json               the Record
//	media/<item>/<sha256>/<name>            one output ("master.m3u8", "poster.jpg", ...)
//
// Outputs are keyed by the content's SHA-256, so a re-run writes the same keys, and an attempt
// removes what an earlier one left that it did not make itself.
package transcoding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/transcode"
	"github.com/shizuishan/culturecloud/storage"
)

const (
	// Group is the consumer group of the transcoding workers.
	Group = "transcoders"
	// Kind is the kind of the jobs (package jobs) this package runs.
	Kind = "transcode"

	recordPrefix = "records/media/"
	objectPrefix = "media/"

	maxErrorLen = 2000 // bytes of ffmpeg's complaint kept in a job and a record
	saveTries   = 8    // read-modify-write attempts on a busy record
	jobTTL      = 7 * 24 * time.Hour
)

// The states of a file's media, as in package jobs.
const (
	Queued  = jobs.Queued
	Running = jobs.Running
	Done    = jobs.Done
	Failed  = jobs.Failed
)

// ErrNotFound means no such item, file content or output.
var ErrNotFound = errors.New("media not found")

// Options configure a Runner. Zero values take the defaults named.
type Options struct {
	KeyPrefix   string        // Redis key prefix, e.g. "cc:"
	Consumer    string        // this worker's name in the group; unique per running worker
	MinIdle     time.Duration // a job whose worker is silent this long is taken over (60s)
	Heartbeat   time.Duration // how often a running job says it is alive (MinIdle/4)
	MaxAttempts int           // attempts before a job is parked as dead (3)
	Backoff     time.Duration // wait before the first retry, doubled for each later one (30s)
	Transcode   transcode.Options
	Log         *slog.Logger
	TempDir     string // where sources and outputs are worked on ("" for the system's)
}

// ScratchPrefix names this package's temporary folders, which Run sweeps when they are orphaned.
const ScratchPrefix = "transcode"

// FileMedia is what is known of one file's media. Output names are relative to the file's
// media folder, "media/<item>/<sha256>/".
type FileMedia struct {
	Path      string           `json:"path"`
	SHA256    string           `json:"sha256"`
	State     string           `json:"state"` // queued, running, done, failed
	Job       string           `json:"job"`
	Percent   float64          `json:"percent,omitempty"` // while queued or running
	ETA       string           `json:"eta,omitempty"`     // while running, e.g. "1m30s"
	Error     string           `json:"error,omitempty"`   // failed: ffmpeg's own words; queued: why the last attempt failed
	Master    string           `json:"master,omitempty"`
	Poster    string           `json:"poster,omitempty"`
	Sprite    string           `json:"sprite,omitempty"`
	SpriteVTT string           `json:"sprite_vtt,omitempty"`
	Download  string           `json:"download,omitempty"`
	Waveform  string           `json:"waveform,omitempty"`
	Rungs     []transcode.Rung `json:"rungs,omitempty"`
	Duration  float64          `json:"duration,omitempty"` // seconds
	Files     []string         `json:"files,omitempty"`    // every output, the only names Open serves
	Updated   time.Time        `json:"updated"`
}

// Record holds the media of an item's files, by file path.
type Record struct {
	Item  string               `json:"item"`
	Files map[string]FileMedia `json:"files"`
}

// Runner queues, runs, stores and serves transcoding jobs.
type Runner struct {
	rdb   *redis.Client
	docs  *docstore.Store
	items *library.Service
	jobs  *jobs.Store
	o     Options
	log   *slog.Logger

	stream, dead, due, filePrefix string

	// beforeAttempt, when set (by tests), runs at the start of every attempt; an error it
	// returns fails the attempt as a transcoding failure would.
	beforeAttempt func(ctx context.Context, j jobs.Job) error
	now           func() time.Time

	// outputs remembers the output names of finished folders: a player fetches hundreds of
	// segments of one folder, and a done folder's names do not change.
	outputs outputCache
}

type outputCache struct {
	mu sync.Mutex
	m  map[string]outputEntry
}

type outputEntry struct {
	names map[string]bool
	until time.Time
}

const outputTTL = 5 * time.Minute

func (c *outputCache) lookup(folder, name string) (found, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[folder]
	if !ok || time.Now().After(e.until) {
		return false, false
	}
	return e.names[name], true
}

func (c *outputCache) store(folder string, names []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = map[string]outputEntry{}
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	c.m[folder] = outputEntry{names: set, until: time.Now().Add(outputTTL)}
}

// New wires a Runner.
func New(rdb *redis.Client, docs *docstore.Store, items *library.Service, jobsStore *jobs.Store, o Options) *Runner {
	if o.MinIdle <= 0 {
		o.MinIdle = 60 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = o.MinIdle / 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.Consumer == "" {
		o.Consumer = "transcoder"
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := o.KeyPrefix
	return &Runner{
		rdb: rdb, docs: docs, items: items, jobs: jobsStore, o: o, log: log,
		stream: p + "jobs:transcode", dead: p + "jobs:transcode:dead", due: p + "transcode:due",
		filePrefix: p + "transcode:file:", now: time.Now,
	}
}

var (
	idRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func recordKey(item string) string { return recordPrefix + item + ".json" }

// Folder is the object prefix of the outputs of one file content.
func Folder(item, sha256 string) string { return objectPrefix + item + "/" + sha256 + "/" }

// IsMedia says whether a media type is one this package transcodes.
func IsMedia(mediaType string) bool {
	return strings.HasPrefix(mediaType, "video/") || strings.HasPrefix(mediaType, "audio/")
}

// IsDownload says whether an output is a file's download copy (the whole work in one file),
// as opposed to what a player streams.
func IsDownload(name string) bool {
	return name == transcode.DownloadName || name == transcode.AudioName
}

// Get returns the item's record, with the live progress of its running jobs; an item without
// one gives an empty Record.
func (r *Runner) Get(ctx context.Context, item string) (Record, error) {
	rec, _, err := r.load(ctx, item)
	if err != nil {
		return Record{}, err
	}
	for p, fm := range rec.Files {
		if fm.State != Queued && fm.State != Running || fm.Job == "" {
			continue
		}
		j, err := r.jobs.Get(ctx, fm.Job)
		if errors.Is(err, jobs.ErrNotFound) {
			continue
		}
		if err != nil {
			return Record{}, err
		}
		rec.Files[p] = live(fm, j)
	}
	return rec, nil
}

// live overlays what the job says now on a file's not yet finished media.
func live(fm FileMedia, j jobs.Job) FileMedia {
	switch j.State {
	case jobs.Queued, jobs.Running:
		fm.State, fm.Percent, fm.Error = j.State, float64(j.Percent), j.Error
		if j.State == jobs.Running {
			if eta, ok := etaOf(j); ok {
				fm.ETA = eta.String()
			}
		}
	case jobs.Failed:
		fm.State, fm.Error = Failed, j.Error
	}
	// A done job whose record was not written yet stays as recorded until it is.
	return fm
}

func (r *Runner) load(ctx context.Context, item string) (Record, string, error) {
	empty := Record{Item: item, Files: map[string]FileMedia{}}
	if !idRe.MatchString(item) {
		return empty, "", nil
	}
	var rec Record
	etag, err := r.docs.Get(ctx, recordKey(item), &rec)
	if errors.Is(err, docstore.ErrNotFound) {
		return empty, "", nil
	}
	if err != nil {
		return Record{}, "", err
	}
	if rec.Files == nil {
		rec.Files = map[string]FileMedia{}
	}
	rec.Item = item
	return rec, etag, nil
}

// update changes the item's record with fn (read-modify-write on the ETag). fn reports
// whether it changed anything; nothing is written when it did not.
func (r *Runner) update(ctx context.Context, item string, fn func(files map[string]FileMedia) bool) error {
	for range saveTries {
		rec, etag, err := r.load(ctx, item)
		if err != nil {
			return err
		}
		if !fn(rec.Files) {
			return nil
		}
		cond := docstore.Match(etag)
		if etag == "" {
			cond = docstore.Create()
		}
		_, err = r.docs.Put(ctx, recordKey(item), rec, cond)
		if errors.Is(err, docstore.ErrPrecondition) {
			continue // another file of the item was recorded meanwhile
		}
		return err
	}
	return fmt.Errorf("media record of %s kept changing: %w", item, docstore.ErrPrecondition)
}

// Open streams a done output of the item's file content, with its media type. The caller
// decides who may see it: the media of an unpublished item are as private as the item.
func (r *Runner) Open(ctx context.Context, item, sha256, name string) (*storage.Object, string, error) {
	if !sha256Re.MatchString(sha256) || name == "" || path.Clean(name) != name || strings.HasPrefix(name, "/") ||
		strings.HasPrefix(name, "../") || name == ".." {
		return nil, "", ErrNotFound
	}
	folder := Folder(item, sha256)
	found, known := r.outputs.lookup(folder, name)
	if !known {
		rec, _, err := r.load(ctx, item)
		if err != nil {
			return nil, "", err
		}
		for _, fm := range rec.Files {
			if fm.SHA256 == sha256 && fm.State == Done {
				r.outputs.store(folder, fm.Files)
				found, _ = r.outputs.lookup(folder, name)
			}
		}
	}
	if !found {
		return nil, "", ErrNotFound
	}
	// No Stat here: it would cost a HEAD before the GET. A missing object shows at the first
	// Read, as storage.ErrNotFound.
	obj, err := r.docs.Objects().Open(ctx, folder+name, storage.GetOptions{})
	if err != nil {
		return nil, "", storageErr(err)
	}
	return obj, transcode.ContentType(name), nil
}

// Presign returns a short-lived URL from which MinIO serves an output of a finished folder
// itself, with the given Cache-Control; ErrNotFound for names that are not outputs.
func (r *Runner) Presign(ctx context.Context, item, sha256, name, cacheControl string, expiry time.Duration) (*url.URL, error) {
	if !sha256Re.MatchString(sha256) || name == "" || path.Clean(name) != name || strings.HasPrefix(name, "/") ||
		strings.HasPrefix(name, "../") || name == ".." {
		return nil, ErrNotFound
	}
	folder := Folder(item, sha256)
	found, known := r.outputs.lookup(folder, name)
	if !known {
		rec, _, err := r.load(ctx, item)
		if err != nil {
			return nil, err
		}
		for _, fm := range rec.Files {
			if fm.SHA256 == sha256 && fm.State == Done {
				r.outputs.store(folder, fm.Files)
				found, _ = r.outputs.lookup(folder, name)
			}
		}
	}
	if !found {
		return nil, ErrNotFound
	}
	params := url.Values{}
	params.Set("response-cache-control", cacheControl)
	params.Set("response-content-type", transcode.ContentType(name))
	u, err := r.docs.Objects().PresignGet(ctx, folder+name, expiry, params)
	if err != nil {
		return nil, storageErr(err)
	}
	return u, nil
}

func storageErr(err error) error { return storage.NotFoundAs(err, ErrNotFound) }

func clip(msg string) string {
	if len(msg) > maxErrorLen {
		return strings.ToValidUTF8(msg[:maxErrorLen], "") + "…"
	}
	return msg
}
