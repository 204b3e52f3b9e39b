package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/replays"
	"github.com/shizuishan/culturecloud/internal/web"
)

// addReplay gives a lecture's replay item its link back to the lecture and the lecture's
// chat. An item that is no replay, or a record that cannot be read, leaves the page as it is.
func (s *Server) addReplay(ctx context.Context, l i18n.Lang, signedIn bool, it library.Item, d *web.ItemData) {
	if s.Replays == nil {
		return
	}
	rec, err := s.Replays.ForItem(ctx, it.ID)
	if errors.Is(err, replays.ErrNotFound) {
		return
	}
	if err != nil {
		s.log.WarnContext(ctx, "item page: replay record", "item", it.ID, "err", err)
		return
	}
	d.Replay = replayView(l, rec, signedIn)
	if d.Replay.ChatHidden {
		return // a tour for registered users: its track is theirs too
	}
	lec, err := s.Lectures.Get(ctx, rec.Lecture)
	if err != nil {
		s.log.WarnContext(ctx, "item page: replay's lecture", "lecture", rec.Lecture, "err", err)
		return
	}
	if d.Replay.Tour = s.tourWalk(ctx, lec.Exhibition); d.Replay.Tour != nil {
		d.Replay.Track = trackJSON(rec.Track)
	}
}

// replayTrack is the kept track of a tour's replay item as JSON, "" when there is none.
func (s *Server) replayTrack(ctx context.Context, item string) string {
	if s.Replays == nil {
		return ""
	}
	rec, err := s.Replays.ForItem(ctx, item)
	if err != nil {
		if !errors.Is(err, replays.ErrNotFound) {
			s.log.WarnContext(ctx, "embed: replay record", "item", item, "err", err)
		}
		return ""
	}
	return trackJSON(rec.Track)
}

// trackJSON is a track for a page's script; "" for none.
func trackJSON(track []replays.Stop) string {
	if len(track) == 0 {
		return ""
	}
	b, err := json.Marshal(track)
	if err != nil {
		return ""
	}
	return string(b)
}

func replayView(l i18n.Lang, rec replays.Record, signedIn bool) *web.ReplayView {
	v := &web.ReplayView{Lecture: rec.Lecture, LectureTitle: rec.Title, Held: web.LectureTime(l, rec.Start),
		ChatLost: rec.ChatLost, ChatHidden: rec.Registered && !signedIn}
	if v.ChatHidden {
		return v
	}
	for _, m := range rec.Messages {
		v.Messages = append(v.Messages, web.ReplayMessage{Question: m.Kind == liveroom.Question, Name: m.Name, Text: m.Text,
			Time: web.Beijing(m.At).Format("15:04"), DateTime: m.At.UTC().Format(time.RFC3339)})
	}
	return v
}
