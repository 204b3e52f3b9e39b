package live

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/pion/rtp"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/media/record"
	"github.com/shizuishan/culturecloud/media/sfu"
)

// Replays records lectures with media/record and makes each recording a published library
// item (so it is transcoded, preserved and searchable like any upload), attached to the
// lecture as its replay.
type Replays struct {
	st       record.Storage
	lib      *library.Service
	lectures *lectures.Service
	keyframe func(lecture string) // asks the lecture's publisher for a keyframe
	log      *slog.Logger

	mu   sync.Mutex
	recs map[string]*record.Recorder // lecture → recording in progress
}

// NewReplays wires a Replays; keyframe may be nil until the SFU exists (SetKeyframe).
func NewReplays(st record.Storage, lib *library.Service, lec *lectures.Service, log *slog.Logger) *Replays {
	return &Replays{st: st, lib: lib, lectures: lec, log: log, recs: map[string]*record.Recorder{}}
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
		// A publisher that came back: the earlier session's segments stay in MinIO and are
		// recovered into the replay by Finish.
		go func() {
			if _, err := old.Finish(context.WithoutCancel(ctx)); err != nil {
				r.log.Warn("live: earlier recording session", "lecture", l.ID, "err", err)
			}
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
	r.mu.Unlock()
	var results []record.Result
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
	return r.makeReplay(ctx, l, results)
}

// system is the actor of the replay writes.
var system = accounts.Account{Name: "live-recorder", Role: accounts.Admin}

func (r *Replays) makeReplay(ctx context.Context, l lectures.Lecture, results []record.Result) error {
	it, err := r.lib.Create(ctx, system, library.Fields{
		Title: l.Title + "（讲座回放）", Type: "MovingImage", Theme: "history", Unit: l.Unit, Licence: "in-copyright",
		Language: "zh", Creator: []string{l.Lecturer.Name}, Subject: []string{"公益讲座", "云讲座"},
		Date: l.Start.Format("2006-01-02"), Description: l.Description, Tags: []string{"讲座回放"},
	})
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
	for _, st := range []library.Status{library.InReview, library.Published} {
		if _, err := r.lib.Move(ctx, system, it.ID, "", st); err != nil {
			return fmt.Errorf("publish replay: %w", err)
		}
	}
	if _, err := r.lectures.MarkReplayReady(ctx, l.ID, system.Name, it.ID); err != nil {
		return fmt.Errorf("replay ready: %w", err)
	}
	// The item holds its own copy now; the recording's objects go.
	for _, res := range results {
		if err := record.RemoveSegments(ctx, r.st, append(res.Segments, res.Key)); err != nil {
			r.log.WarnContext(ctx, "live: recording objects left", "lecture", l.ID, "err", err)
		}
	}
	return nil
}

// sha512 reads an object once for the OCFL digest.
func (r *Replays) sha512(ctx context.Context, key string) (string, error) {
	obj, err := r.st.Client.GetObject(ctx, r.st.Bucket, key, minio.GetObjectOptions{})
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
