// Package replays keeps what a lecture leaves beside its replay: which lecture the replay
// item came from, and the chat and answered questions of the lecture, read-only. The live
// room's chat lives in a Redis stream that expires some weeks after the lecture and is
// trimmed to its newest messages; the record here is a document in MinIO, beside the
// lecture and the item, and lasts as long as they do.
//
// Documents, in the document store: replays/<item>.json, one per replay item.
package replays

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/liveroom"
)

// Stop is one position of a tour guide as the replay follows it: Offset seconds after the
// lecture went live, which is where the replay's video is at that moment.
type Stop struct {
	Offset   float64           `json:"offset"`
	Position liveroom.Position `json:"position"`
}

// ErrNotFound means the item is not a lecture's replay (or was made before replays kept a record).
var ErrNotFound = errors.New("replays: no replay record for this item")

// Message is a chat message or an answered question as the replay shows it: the name shown
// in the room, never the author's account or id.
type Message struct {
	Kind     liveroom.Kind `json:"kind"`
	Name     string        `json:"name"`
	Text     string        `json:"text"` // raw: whoever shows it escapes it
	At       time.Time     `json:"at"`
	Answered bool          `json:"answered,omitempty"`
}

// Record is the document beside a replay item.
type Record struct {
	Item       string    `json:"item"`
	Lecture    string    `json:"lecture"`
	Title      string    `json:"title"` // the lecture's
	Start      time.Time `json:"start"`
	Registered bool      `json:"registered"` // the lecture was for signed-in citizens only
	// Messages are the chat and the answered questions, oldest first. Questions never
	// answered and deleted messages are not kept.
	Messages []Message `json:"messages"`
	// ChatLost says that the chat could not be read when the lecture ended (Redis was
	// down), so Messages is empty although there may have been a chat.
	ChatLost bool `json:"chat_lost,omitempty"`
	// Track is a guided tour's positions, oldest first, for the replay page to follow.
	Track []Stop    `json:"track,omitempty"`
	Kept  time.Time `json:"kept"`
}

// Store reads and writes the records.
type Store struct {
	docs *docstore.Store
	room *liveroom.Room
	now  func() time.Time
}

// New makes a Store; now is the clock of Record.Kept (time.Now when nil).
func New(docs *docstore.Store, room *liveroom.Room, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{docs: docs, room: room, now: now}
}

func key(item string) string { return "replays/" + item + ".json" }

// Chat reads what the replay keeps of a lecture's chat, before the replay item is made: a
// Redis failure then costs the chat, not the replay.
func (s *Store) Chat(ctx context.Context, lecture string) ([]Message, error) {
	// History is bounded by the room's own history length, which is what the stream holds.
	msgs, _, err := s.room.History(ctx, lecture, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("replays: chat of %s: %w", lecture, err)
	}
	return Kept(msgs), nil
}

// Track reads a tour guide's positions, timed from when the lecture went live; nil for a
// lecture without a guide.
func (s *Store) Track(ctx context.Context, l lectures.Lecture) ([]Stop, error) {
	events, err := s.room.Track(ctx, l.ID)
	if err != nil {
		return nil, fmt.Errorf("replays: track of %s: %w", l.ID, err)
	}
	start := l.Start
	if l.WentLiveAt != nil {
		start = *l.WentLiveAt
	}
	var out []Stop
	for _, ev := range events {
		if ev.Position == nil {
			continue
		}
		out = append(out, Stop{Offset: max(0, ev.At.Sub(start).Seconds()), Position: *ev.Position})
	}
	return out, nil
}

// Kept is what a replay keeps of a chat history: the chat messages and the answered
// questions, without their authors' ids.
func Kept(history []liveroom.Message) []Message {
	out := []Message{}
	for _, m := range history {
		if m.Kind == liveroom.Question && !m.Answered {
			continue
		}
		out = append(out, Message{Kind: m.Kind, Name: m.Author.Name, Text: m.Text, At: m.At, Answered: m.Answered})
	}
	return out
}

// Put writes the record of a replay item; chat is what Chat returned, nil with chatLost
// when it failed, and track what Track returned.
func (s *Store) Put(ctx context.Context, item string, l lectures.Lecture, chat []Message, chatLost bool, track []Stop) (Record, error) {
	if chat == nil {
		chat = []Message{}
	}
	r := Record{Item: item, Lecture: l.ID, Title: l.Title, Start: l.Start, Registered: l.Visibility == lectures.Registered,
		Messages: chat, ChatLost: chatLost, Track: track, Kept: s.now().UTC()}
	if _, err := s.docs.Put(ctx, key(item), r, docstore.Always()); err != nil {
		return Record{}, fmt.Errorf("replays: %w", err)
	}
	return r, nil
}

// ForItem reads the record of a replay item; ErrNotFound when the item is none.
func (s *Store) ForItem(ctx context.Context, item string) (Record, error) {
	var r Record
	_, err := s.docs.Get(ctx, key(item), &r)
	if errors.Is(err, docstore.ErrNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("replays: %w", err)
	}
	return r, nil
}

// beijing is the city's time zone: a lecture's replay is dated by the day it was held
// there, not by the UTC day (a lecture at 07:30 is the day before in UTC).
var beijing = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// ItemFields are the catalogue fields of a lecture's replay item, its title and date by
// the Beijing day of the lecture. The item's texts are data in the library's language
// (zh), as every catalogue record is, not interface texts.
func ItemFields(l lectures.Lecture) library.Fields {
	day := l.Start.In(beijing)
	return library.Fields{
		Title: l.Title + "（" + day.Format("2006年1月2日") + "讲座回放）", Type: "MovingImage", Theme: "history", Unit: l.Unit,
		Licence: "in-copyright", Language: "zh", Creator: []string{l.Lecturer.Name}, Subject: []string{"公益讲座", "云讲座"},
		Date: day.Format("2006-01-02"), Description: l.Description, Tags: []string{"讲座回放"},
		Relation: "/lectures/" + l.ID,
	}
}
