package liveroom

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/validate"
)

// Kind of a message.
type Kind string

const (
	Chat     Kind = "chat"
	Question Kind = "question"
)

// EventType says what an event of the stream does.
type EventType string

const (
	// Posted is a new message.
	Posted EventType = "message"
	// Deleted removes the message Target: subscribers take it off the screen.
	Deleted EventType = "delete"
	// Answered marks the question Target as answered.
	Answered EventType = "answered"
)

// Author is who posted: ID identifies them for muting and rate limits ("a:" and the account
// name, as the handler chooses), Name is shown.
type Author struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Event is one entry of a lecture's stream. ID is the stream id, increasing, suitable as
// the SSE event id: Subscribe(ctx, lecture, id) resumes right after it.
type Event struct {
	ID   string    `json:"id"`
	Type EventType `json:"type"`
	At   time.Time `json:"at"`
	// Kind, Author and Text are set for Posted. Text is raw: whoever shows it escapes it
	// (html/template on pages, textContent in the browser), as for every user text.
	Kind   Kind   `json:"kind,omitempty"`
	Author Author `json:"author,omitzero"`
	Text   string `json:"text,omitempty"`
	// Target and By are set for Deleted and Answered: the message, and the moderator.
	Target string `json:"target,omitempty"`
	By     string `json:"by,omitempty"`
	// Position is set for Moved: where the guide is.
	Position *Position `json:"position,omitempty"`
}

// Message is a posted message as History shows it: not deleted, with its answered state.
type Message struct {
	ID       string    `json:"id"`
	Kind     Kind      `json:"kind"`
	Author   Author    `json:"author"`
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
	Answered bool      `json:"answered,omitempty"`
}

var streamIDPattern = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// ValidID reports whether id looks like an event id (a Redis stream id).
func ValidID(id string) bool { return streamIDPattern.MatchString(id) }

// parseID splits a stream id; ok is false for anything ValidID rejects.
func parseID(id string) (ms, seq uint64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}

// after reports whether stream id a comes after b.
func after(a, b string) bool {
	am, as, _ := parseID(a)
	bm, bs, _ := parseID(b)
	return am > bm || am == bm && as > bs
}

func decode(m redis.XMessage) Event {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	ev := Event{ID: m.ID, Type: EventType(str("type")), Kind: Kind(str("kind")),
		Author: Author{ID: str("author"), Name: str("name")}, Text: str("text"), Target: str("target"), By: str("by")}
	if ms, _, ok := parseID(m.ID); ok {
		ev.At = time.UnixMilli(int64(ms)).UTC()
	}
	if pos := str("pos"); pos != "" {
		var p Position
		if json.Unmarshal([]byte(pos), &p) == nil {
			ev.Position = &p
		}
	}
	return ev
}

func (e Event) message() Message {
	return Message{ID: e.ID, Kind: e.Kind, Author: e.Author, Text: e.Text, At: e.At}
}

// dropped reports whether r is removed from posted text: control characters (line breaks
// excepted) and invisible format characters, among them the bidirectional overrides that
// make text read backwards. Zero-width joiners and tag characters stay: emoji need them.
func dropped(r rune) bool {
	switch {
	case r == '\n':
		return false
	case unicode.IsControl(r):
		return true
	case r == 0x200C || r == 0x200D || r >= 0xE0020 && r <= 0xE007F:
		return false
	}
	return unicode.Is(unicode.Cf, r)
}

// cleanText makes posted text fit to store: valid UTF-8, "\n" line breaks, no control or
// invisible format characters, no surrounding white space. It does not escape anything.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\t", " ").Replace(s)
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if dropped(r) {
			return -1
		}
		return r
	}, s))
}

// cleanName is a display name on one line of at most 40 characters.
func cleanName(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(cleanText(s), "\n", " "))
	if utf8.RuneCountInString(s) > maxName {
		s = strings.TrimSpace(string([]rune(s)[:maxName]))
	}
	return s
}

// postScript posts a message unless the author is muted or over the rate limit. The rate
// window slides: a post counts for RateWindow after it was made, and refused posts do not
// count. KEYS: mute, rate, chat. ARGV: limit, window ms, history length, keep s, unique
// token, then the stream entry's field-value pairs.
// Returns {"ok", id}, {"muted", ms left} or {"limited", ms until a post is allowed}.
const postScript = redisNow + `
local muted = redis.call('PTTL', KEYS[1])
if muted ~= -2 then
  return {'muted', muted}
end
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[2]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'limited', tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[2], window)
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[3], ARGV[4])
return {'ok', id}
`

// Post adds a chat message or question by author to lecture's room, if the author is
// neither muted there nor over the rate limit (Options.RateLimit per RateWindow, over all
// rooms and nodes). The text is cleaned (see cleanText) but kept raw, not escaped; empty or
// longer than MaxText characters is a validation error of the field "text". Whether the
// lecture is live and the author may post are the caller's to check.
func (r *Room) Post(ctx context.Context, lecture string, author Author, kind Kind, text string) (Message, error) {
	if err := checkLecture(lecture); err != nil {
		return Message{}, err
	}
	if err := checkID("author", author.ID); err != nil {
		return Message{}, err
	}
	var errs validate.Errors
	if kind != Chat && kind != Question {
		errs.Add("kind", "vocabulary")
	}
	text = cleanText(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		errs.Add("text", "required")
	case n > r.opts.MaxText:
		errs.Add("text", "too_long", r.opts.MaxText)
	}
	if err := errs.Err(); err != nil {
		return Message{}, err
	}
	author.Name = cleanName(author.Name)
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	vals, err := r.post.Run(ctx, r.rdb, []string{r.muteKey(lecture, author.ID), r.rateKey(author.ID), r.chatKey(lecture)},
		r.opts.RateLimit, r.opts.RateWindow.Milliseconds(), r.opts.HistoryLen, int64(r.opts.Keep/time.Second), hex.EncodeToString(token),
		"type", string(Posted), "kind", string(kind), "author", author.ID, "name", author.Name, "text", text).Slice()
	if err != nil {
		return Message{}, redisErr("post", err)
	}
	status, _ := vals[0].(string)
	switch status {
	case "ok":
		id, _ := vals[1].(string)
		ev := decode(redis.XMessage{ID: id})
		return Message{ID: id, Kind: kind, Author: author, Text: text, At: ev.At}, nil
	case "muted", "limited":
		ms, _ := vals[1].(int64)
		reason := ErrMuted
		if status == "limited" {
			reason = ErrRateLimited
		}
		return Message{}, &RetryError{Err: reason, After: time.Duration(max(ms, 1)) * time.Millisecond}
	}
	return Message{}, fmt.Errorf("liveroom: post: unexpected reply %v", vals)
}

// moderateScript records a moderation event about a message still in the stream; a deletion
// also removes the message itself, so that nobody reading the stream later sees it.
// KEYS: chat. ARGV: event type, target id, by, history length, keep s.
// Returns {"ok", id}, {"missing"} or {"not_question"}.
const moderateScript = `
local m = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #m == 0 then
  return {'missing'}
end
local f, typ, kind = m[1][2], nil, nil
for i = 1, #f, 2 do
  if f[i] == 'type' then typ = f[i + 1] elseif f[i] == 'kind' then kind = f[i + 1] end
end
if typ ~= 'message' then
  return {'missing'}
end
if ARGV[1] == 'answered' and kind ~= 'question' then
  return {'not_question'}
end
if ARGV[1] == 'delete' then
  redis.call('XDEL', KEYS[1], ARGV[2])
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'type', ARGV[1], 'target', ARGV[2], 'by', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {'ok', id}
`

func (r *Room) moderateMessage(ctx context.Context, lecture string, typ EventType, id, by string) (Event, error) {
	if err := checkLecture(lecture); err != nil {
		return Event{}, err
	}
	if !ValidID(id) {
		return Event{}, ErrNotFound
	}
	vals, err := r.moderate.Run(ctx, r.rdb, []string{r.chatKey(lecture)},
		string(typ), id, by, r.opts.HistoryLen, int64(r.opts.Keep/time.Second)).Slice()
	if err != nil {
		return Event{}, redisErr(string(typ), err)
	}
	switch status, _ := vals[0].(string); status {
	case "ok":
		evID, _ := vals[1].(string)
		ev := decode(redis.XMessage{ID: evID})
		ev.Type, ev.Target, ev.By = typ, id, by
		return ev, nil
	case "not_question":
		return Event{}, ErrNotQuestion
	}
	return Event{}, ErrNotFound
}

// Delete removes message id from lecture's chat: the message leaves the stream and History,
// and every subscriber gets a Deleted event to take it off the screen. by names the
// moderator; the caller checks that they may moderate (lectures.CanEdit).
func (r *Room) Delete(ctx context.Context, lecture, id, by string) (Event, error) {
	return r.moderateMessage(ctx, lecture, Deleted, id, by)
}

// MarkAnswered marks question id as answered, for History and, by an Answered event, for
// every subscriber.
func (r *Room) MarkAnswered(ctx context.Context, lecture, id, by string) (Event, error) {
	return r.moderateMessage(ctx, lecture, Answered, id, by)
}

// Mute stops author posting in lecture for d (at most MaxMute); by names the moderator.
func (r *Room) Mute(ctx context.Context, lecture, author string, d time.Duration, by string) error {
	if err := checkLecture(lecture); err != nil {
		return err
	}
	if err := checkID("author", author); err != nil {
		return err
	}
	if d < time.Millisecond || d > MaxMute {
		return validate.Errors{{Field: "duration", Code: "range_any"}}
	}
	return redisErr("mute", r.rdb.Set(ctx, r.muteKey(lecture, author), by, d).Err())
}

// Unmute lets author post in lecture again.
func (r *Room) Unmute(ctx context.Context, lecture, author string) error {
	if err := checkLecture(lecture); err != nil {
		return err
	}
	if err := checkID("author", author); err != nil {
		return err
	}
	return redisErr("unmute", r.rdb.Del(ctx, r.muteKey(lecture, author)).Err())
}

// MutedFor is how long author stays muted in lecture; 0 when not muted.
func (r *Room) MutedFor(ctx context.Context, lecture, author string) (time.Duration, error) {
	if err := checkLecture(lecture); err != nil {
		return 0, err
	}
	if err := checkID("author", author); err != nil {
		return 0, err
	}
	d, err := r.rdb.PTTL(ctx, r.muteKey(lecture, author)).Result()
	if err != nil {
		return 0, redisErr("muted", err)
	}
	return max(d, 0), nil
}

// History returns up to n of the newest messages of lecture, oldest first, without deleted
// ones and with answered questions marked, and the id to Subscribe from so that the events
// after this history arrive, none missed and none twice ("0-0" for an empty room).
func (r *Room) History(ctx context.Context, lecture string, n int) ([]Message, string, error) {
	if err := checkLecture(lecture); err != nil {
		return nil, "", err
	}
	n = min(n, int(r.opts.HistoryLen))
	if n <= 0 {
		tail, err := r.tail(ctx, r.chatKey(lecture))
		return nil, tail, err
	}
	page := int64(min(max(2*n, 50), 1000))
	deleted, answered := map[string]bool{}, map[string]bool{}
	var out []Message // newest first
	cursor, start := "0-0", "+"
	for first := true; len(out) < n; first = false {
		msgs, err := r.rdb.XRevRangeN(ctx, r.chatKey(lecture), start, "-", page).Result()
		if err != nil {
			return nil, "", redisErr("history", err)
		}
		if first && len(msgs) > 0 {
			cursor = msgs[0].ID
		}
		for _, m := range msgs {
			ev := decode(m)
			switch ev.Type {
			case Deleted:
				deleted[ev.Target] = true
			case Answered:
				answered[ev.Target] = true
			case Posted:
				if !deleted[ev.ID] && len(out) < n {
					msg := ev.message()
					msg.Answered = answered[ev.ID]
					out = append(out, msg)
				}
			}
		}
		if int64(len(msgs)) < page {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	slices.Reverse(out)
	return out, cursor, nil
}
