package live

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/replays"
	"github.com/shizuishan/culturecloud/media/record"
	"github.com/shizuishan/culturecloud/media/sfu"
	"github.com/shizuishan/culturecloud/storage"
)

// Replays records lectures with media/record and makes each recording a published library
// item (so it is transcoded, preserved and searchable like any upload), attached to the
// lecture as its replay.
type Replays struct {
	st       record.Storage
	lib      *library.Service
	lectures *lectures.Service
	kept     *replays.Store       // the chat kept beside the replay; nil keeps none
	keyframe func(lecture string) // asks the lecture's publisher for a keyframe
	log      *slog.Logger

	mu      sync.Mutex
	recs    map[string]*record.Recorder // lecture → recording in progress
	earlier map[string][]*finishing     // lecture → sessions of publishers that left and came back
}

// finishing is an earlier session of a lecture, finished in the background when its
// publisher came back; its recording is part of the replay.
type finishing struct {
	done chan struct{}
	res  record.Result
	err  error
}

// NewReplays wires a Replays; keyframe may be nil until the SFU exists (SetKeyframe).
func NewReplays(st record.Storage, lib *library.Service, lec *lectures.Service, kept *replays.Store, log *slog.Logger) *Replays {
	return &Replays{st: st, lib: lib, lectures: lec, kept: kept, log: log, recs: map[string]*record.Recorder{},
		earlier: map[string][]*finishing{}}
}

// SetKeyframe gives the recorder a way to ask publishers for keyframes.
func (r *Replays) SetKeyframe(fn func(lecture string)) { r.keyframe = fn }

// Start begins a recording of the lecture's current publishing session.
func (r *Replays) Start(ctx context.Context, l lectures.Lecture) (sfu.Tap, error) {
	session := strconv.FormatInt(time.Now().UnixMilli(), 36)
	o := record.Options{Lecture: l.ID, Session: session, Logger: r.log}
	if r.keyframe != nil {
		id := l.ID
		o.RequestKeyframe = func() { r.keyframe(id) }
	}
	// The recording outlives the request or hook that started it: it ends with Finish.
	rec, err := record.New(context.WithoutCancel(ctx), r.st, o)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if old := r.recs[l.ID]; old != nil {
		// A publisher that came back: the earlier session is joined now, and Finish puts it
		// in the replay before this one. (Once joined it counts as finished in MinIO, so
		// the recovery of unfinished sessions would not pick it up.)
		f := &finishing{done: make(chan struct{})}
		r.earlier[l.ID] = append(r.earlier[l.ID], f)
		go func() {
			defer close(f.done)
			f.res, f.err = old.Finish(context.WithoutCancel(ctx))
		}()
	}
	r.recs[l.ID] = rec
	r.mu.Unlock()
	return sfu.TapFunc(func(t sfu.TrackInfo, h *rtp.Header, p []byte) { rec.WriteRTP(record.TrackInfo(t), h, p) }), nil
}

// Finish joins the recording (or, after a crash, what the segments in MinIO hold), adds it
// to a new library item, publishes the item and marks the lecture's replay ready.
func (r *Replays) Finish(ctx context.Context, l lectures.Lecture) error {
	r.mu.Lock()
	rec := r.recs[l.ID]
	delete(r.recs, l.ID)
	earlier := r.earlier[l.ID]
	delete(r.earlier, l.ID)
	r.mu.Unlock()
	var results []record.Result
	for _, f := range earlier {
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		switch {
		case f.err == nil:
			results = append(results, f.res)
		case !errors.Is(f.err, record.ErrNothingRecorded):
			// Its segments, if any, are recovered below.
			r.log.WarnContext(ctx, "live: earlier recording session", "lecture", l.ID, "err", f.err)
		}
	}
	if rec != nil {
		res, err := rec.Finish(ctx)
		if err != nil && !errors.Is(err, record.ErrNothingRecorded) {
			return err
		}
		if err == nil {
			results = append(results, res)
		}
	}
	// Sessions left unfinished by a crash (or by a publisher who reconnected) are joined
	// from their stored segments.
	sessions, err := record.Sessions(ctx, r.st, l.ID)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if s.Finished || s.Segments == 0 {
			continue
		}
		res, err := record.Recover(ctx, r.st, l.ID, s.Session)
		if err != nil {
			r.log.WarnContext(ctx, "live: recording session not recovered", "lecture", l.ID, "session", s.Session, "err", err)
			continue
		}
		results = append(results, res)
	}
	if len(results) == 0 {
		r.log.WarnContext(ctx, "live: lecture ended with nothing recorded", "lecture", l.ID)
		return nil
	}
	// In the order of the sessions (named by their start time), so the replay's files are
	// the lecture's parts in order.
	slices.SortFunc(results, func(a, b record.Result) int { return strings.Compare(a.Key, b.Key) })
	return r.makeReplay(ctx, l, results)
}

// system is the actor of the replay writes.
var system = accounts.Account{Name: "live-recorder", Role: accounts.Admin}

func (r *Replays) makeReplay(ctx context.Context, l lectures.Lecture, results []record.Result) error {
	// The chat is read first: a failure to read it (Redis down) costs the chat, not the
	// replay, and leaves nothing half made.
	var chat []replays.Message
	var track []replays.Stop
	chatLost := false
	if r.kept != nil {
		var err error
		if chat, err = r.kept.Chat(ctx, l.ID); err != nil {
			r.log.WarnContext(ctx, "live: the replay keeps no chat", "lecture", l.ID, "err", err)
			chatLost = true
		}
		if track, err = r.kept.Track(ctx, l); err != nil {
			r.log.WarnContext(ctx, "live: the replay keeps no guide's track", "lecture", l.ID, "err", err)
		}
	}
	it, err := r.lib.Create(ctx, system, replays.ItemFields(l))
	if err != nil {
		return fmt.Errorf("replay item: %w", err)
	}
	for i, res := range results {
		sum, err := r.sha512(ctx, res.Key)
		if err != nil {
			return err
		}
		ext := ".mp4"
		if res.ContentType == "video/webm" {
			ext = ".webm"
		}
		name := fmt.Sprintf("%s-%d%s", l.ID, i+1, ext)
		if _, _, err := r.lib.AddFile(ctx, system, it.ID, "", library.Upload{Key: res.Key, Name: l.Title + ext, SafeName: name,
			MediaType: res.ContentType, Size: res.Size, SHA256: res.SHA256, SHA512: sum}); err != nil {
			return fmt.Errorf("replay file: %w", err)
		}
	}
	// The public watched this lecture as it happened: its recording is published without a
	// second review (decision 0026), and its history says so.
	if _, err := r.lib.PublishBroadcast(ctx, system, it.ID); err != nil {
		return fmt.Errorf("publish replay: %w", err)
	}
	if r.kept != nil {
		// Before the lecture says its replay is ready, so that the replay page has its
		// chat from the start.
		if _, err := r.kept.Put(ctx, it.ID, l, chat, chatLost, track); err != nil {
			r.log.WarnContext(ctx, "live: replay record not kept", "lecture", l.ID, "item", it.ID, "err", err)
		}
	}
	if _, err := r.lectures.MarkReplayReady(ctx, l.ID, system.Name, it.ID); err != nil {
		return fmt.Errorf("replay ready: %w", err)
	}
	// The item holds its own copy now; the recording's objects go.
	for _, res := range results {
		if err := r.removeSession(ctx, res.Key); err != nil {
			r.log.WarnContext(ctx, "live: recording objects left", "lecture", l.ID, "err", err)
		}
	}
	return nil
}

// removeSession deletes every object of the recording session that key belongs to (its
// segments and the joined recording), every version of each: the bucket is versioned, and
// a plain delete would only hide a lecture's worth of video twice over behind delete
// markers. (record.RemoveSegments deletes segments only, and only their current version.)
func (r *Replays) removeSession(ctx context.Context, key string) error {
	dir := path.Dir(key)
	if parts := strings.Split(dir, "/"); len(parts) != 4 || parts[0] != "live" || parts[2] != "rec" {
		return fmt.Errorf("not a recording: %q", key)
	}
	var versions []storage.Info
	for o, err := range r.st.Objects.List(ctx, dir+"/", storage.ListOptions{Recursive: true, Versions: true}) {
		if err != nil {
			return err
		}
		versions = append(versions, o)
	}
	return r.st.Objects.RemoveMany(ctx, versions)
}

// sha512 reads an object once for the OCFL digest.
func (r *Replays) sha512(ctx context.Context, key string) (string, error) {
	obj, _, err := r.st.Objects.Get(ctx, key, storage.GetOptions{})
	if err != nil {
		return "", err
	}
	defer obj.Close()
	h := sha512.New()
	if _, err := io.Copy(h, obj); err != nil {
		return "", fmt.Errorf("read recording %s: %w", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
