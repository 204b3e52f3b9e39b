package liveroom_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/internal/validate"
)

const lec = "lec-chat000000"

var (
	citizen = liveroom.Author{ID: "a:citizen", Name: "王大爷"}
	other   = liveroom.Author{ID: "c:cookie-0000000000000009", Name: "游客"}
	mod     = "a:li.librarian"
)

func post(t *testing.T, r *liveroom.Room, a liveroom.Author, kind liveroom.Kind, text string) liveroom.Message {
	t.Helper()
	m, err := r.Post(t.Context(), lec, a, kind, text)
	if err != nil {
		t.Fatalf("Post(%q): %v", text, err)
	}
	return m
}

func history(t *testing.T, r *liveroom.Room, n int) ([]liveroom.Message, string) {
	t.Helper()
	msgs, cursor, err := r.History(t.Context(), lec, n)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return msgs, cursor
}

func texts(msgs []liveroom.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

func subscribe(t *testing.T, r *liveroom.Room, lastID string) <-chan liveroom.Event {
	t.Helper()
	ch, err := r.Subscribe(t.Context(), lec, lastID)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", lastID, err)
	}
	return ch
}

// codes lists the field problems of a validation error as "field:code".
func codes(err error) []string {
	var errs validate.Errors
	if !errors.As(err, &errs) {
		return nil
	}
	var out []string
	for _, p := range errs {
		out = append(out, p.Field+":"+p.Code)
	}
	return out
}

func TestHistoryForLateJoiners(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n"})
	if msgs, cursor := history(t, r, 50); len(msgs) != 0 || cursor != "0-0" {
		t.Fatalf("empty room: History = %v, %q; want nothing, 0-0", msgs, cursor)
	}
	m1 := post(t, r, citizen, liveroom.Chat, "老师好")
	m2 := post(t, r, other, liveroom.Question, "贺兰山岩画有多少年历史？")
	m3 := post(t, r, citizen, liveroom.Chat, "谢谢")
	msgs, cursor := history(t, r, 50)
	if want := []liveroom.Message{m1, m2, m3}; !slices.EqualFunc(msgs, want, func(a, b liveroom.Message) bool {
		return a.ID == b.ID && a.Text == b.Text && a.Kind == b.Kind && a.Author == b.Author && a.At.Equal(b.At)
	}) {
		t.Errorf("History = %+v\nwant %+v", msgs, want)
	}
	if cursor != m3.ID {
		t.Errorf("cursor = %q, want the last id %q", cursor, m3.ID)
	}
	if msgs, _ := history(t, r, 2); !slices.Equal(texts(msgs), []string{m2.Text, m3.Text}) {
		t.Errorf("History(2) = %q, want the two newest", texts(msgs))
	}
	if m1.At.IsZero() || time.Since(m1.At) > time.Hour || m1.Author.Name != "王大爷" {
		t.Errorf("message = %+v, want a time from the stream id and the author's name", m1)
	}
}

func TestPostText(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n", RateLimit: 100})
	tests := []struct {
		name, text, want string
		kind             liveroom.Kind
		codes            []string
	}{
		{"empty", "", "", liveroom.Chat, []string{"text:required"}},
		{"white space", "  \n\t\u3000 ", "", liveroom.Chat, []string{"text:required"}},
		{"invisible only", "\u200b\u202e", "", liveroom.Chat, []string{"text:required"}},
		{"500 characters", strings.Repeat("字", 500), strings.Repeat("字", 500), liveroom.Question, nil},
		{"501 characters", strings.Repeat("字", 501), "", liveroom.Chat, []string{"text:too_long"}},
		{"markup stays raw", "  <b>你好</b> & \"引号\" <script>x</script> ", `<b>你好</b> & "引号" <script>x</script>`, liveroom.Chat, nil},
		{"controls and overrides dropped", "a\x00b\x07c\u202ed\r\ne\tf", "abcd\ne f", liveroom.Chat, nil},
		{"emoji sequences kept", "👨\u200d👩\u200d👧 好", "👨\u200d👩\u200d👧 好", liveroom.Chat, nil},
		{"invalid UTF-8 replaced", "a\xffb", "a\uFFFDb", liveroom.Chat, nil},
		{"unknown kind", "hi", "", "shout", []string{"kind:vocabulary"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := r.Post(t.Context(), lec, citizen, tc.kind, tc.text)
			if got := codes(err); !slices.Equal(got, tc.codes) || err != nil && tc.codes == nil {
				t.Fatalf("Post = %v, want problems %v", err, tc.codes)
			}
			if tc.codes != nil {
				return
			}
			if m.Text != tc.want {
				t.Errorf("stored %q, want %q", m.Text, tc.want)
			}
			msgs, _ := history(t, r, 1)
			if len(msgs) != 1 || msgs[0].Text != tc.want {
				t.Errorf("History = %q, want %q", texts(msgs), tc.want)
			}
		})
	}
	if _, err := r.Post(t.Context(), lec, liveroom.Author{ID: "a b"}, liveroom.Chat, "hi"); !isInvalid(err) {
		t.Errorf("author id with a space: %v, want ErrInvalid", err)
	}
	long := post(t, r, liveroom.Author{ID: "a:x", Name: " 一个\n名字" + strings.Repeat("长", 50)}, liveroom.Chat, "hi")
	if name := long.Author.Name; strings.ContainsRune(name, '\n') || len([]rune(name)) != 40 || !strings.HasPrefix(name, "一个 名字") {
		t.Errorf("author name %q, want one line of 40 characters", name)
	}
}

func TestRateLimitAcrossNodes(t *testing.T) {
	e := newEnv(t)
	o := liveroom.Options{RateLimit: 5, RateWindow: 3 * time.Second}
	o.Node = "node-a"
	a := e.room(t, o)
	o.Node = "node-b"
	b := e.room(t, o)
	for i := range 5 {
		post(t, a, citizen, liveroom.Chat, fmt.Sprintf("消息 %d", i))
	}
	var retry *liveroom.RetryError
	var refused time.Time
	for _, r := range []*liveroom.Room{a, b} {
		_, err := r.Post(t.Context(), lec, citizen, liveroom.Chat, "第六条")
		if !errors.Is(err, liveroom.ErrRateLimited) || !errors.As(err, &retry) {
			t.Fatalf("sixth post on %s: %v, want ErrRateLimited", r.Node(), err)
		}
		refused = e.redisNow(t)
		if retry.After <= 0 || retry.After > 3*time.Second {
			t.Errorf("retry after %s, want within the 3s window", retry.After)
		}
	}
	// Other authors are not limited by this one.
	post(t, b, other, liveroom.Chat, "我还能说话")
	e.waitRedisPast(t, "the oldest post leaves the window", refused.Add(retry.After))
	post(t, b, citizen, liveroom.Chat, "又可以说话了")
	if msgs, _ := history(t, a, 50); len(msgs) != 7 {
		t.Errorf("History has %d messages, want 7 (refused posts are not stored)", len(msgs))
	}
}

func TestMute(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n"})
	if err := r.Mute(t.Context(), lec, citizen.ID, time.Minute, mod); err != nil {
		t.Fatal(err)
	}
	_, err := r.Post(t.Context(), lec, citizen, liveroom.Chat, "广告")
	var retry *liveroom.RetryError
	if !errors.Is(err, liveroom.ErrMuted) || !errors.As(err, &retry) || retry.After <= 50*time.Second || retry.After > time.Minute {
		t.Fatalf("muted post: %v, want ErrMuted for about a minute", err)
	}
	if d, err := r.MutedFor(t.Context(), lec, citizen.ID); err != nil || d <= 50*time.Second {
		t.Errorf("MutedFor = %s, %v; want about a minute", d, err)
	}
	// Muting is per lecture, and per author.
	if _, err := r.Post(t.Context(), "lec-other00000", citizen, liveroom.Chat, "别的讲座"); err != nil {
		t.Errorf("post in another lecture: %v", err)
	}
	post(t, r, other, liveroom.Chat, "我没被禁言")
	if err := r.Unmute(t.Context(), lec, citizen.ID); err != nil {
		t.Fatal(err)
	}
	post(t, r, citizen, liveroom.Chat, "解除禁言了")
	if d, _ := r.MutedFor(t.Context(), lec, citizen.ID); d != 0 {
		t.Errorf("MutedFor after Unmute = %s, want 0", d)
	}
	// A mute ends by itself.
	if err := r.Mute(t.Context(), lec, citizen.ID, 300*time.Millisecond, mod); err != nil {
		t.Fatal(err)
	}
	testwait.UntilState(t, "a short mute ends", func() (bool, string) {
		_, err := r.Post(t.Context(), lec, citizen, liveroom.Chat, "又来了")
		return err == nil, fmt.Sprint(err)
	})
	for _, d := range []time.Duration{0, -time.Second, liveroom.MaxMute + time.Second} {
		if err := r.Mute(t.Context(), lec, citizen.ID, d, mod); !slices.Equal(codes(err), []string{"duration:range_any"}) {
			t.Errorf("Mute for %s: %v, want a duration problem", d, err)
		}
	}
}

func TestDeleteHidesAndNotifies(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n"})
	live := subscribe(t, r, "")
	m1 := post(t, r, citizen, liveroom.Chat, "不当言论")
	m2 := post(t, r, other, liveroom.Chat, "正常发言")
	del, err := r.Delete(t.Context(), lec, m1.ID, mod)
	if err != nil {
		t.Fatal(err)
	}
	if del.Type != liveroom.Deleted || del.Target != m1.ID || del.By != mod || !liveroom.ValidID(del.ID) {
		t.Errorf("Delete returned %+v", del)
	}
	// The deleted message reaches a subscriber only if its node read it before the deletion;
	// the tombstone always comes, after it.
	var got []string
	for len(got) == 0 || got[len(got)-1] != del.ID {
		ev := receive(t, live)
		got = append(got, ev.ID)
		switch ev.ID {
		case m1.ID, m2.ID:
			if ev.Type != liveroom.Posted {
				t.Errorf("event %+v, want a posted message", ev)
			}
		case del.ID:
			if ev.Type != liveroom.Deleted || ev.Target != m1.ID || ev.By != mod {
				t.Errorf("event %+v, want the deletion of %s", ev, m1.ID)
			}
		default:
			t.Errorf("unexpected event %+v", ev)
		}
	}
	if want := []string{m1.ID, m2.ID, del.ID}; !slices.Equal(got, want) && !slices.Equal(got, want[1:]) {
		t.Errorf("events %v, want %v with or without the first", got, want)
	}
	if msgs, _ := history(t, r, 50); !slices.Equal(texts(msgs), []string{m2.Text}) {
		t.Errorf("History = %q, want only the message left", texts(msgs))
	}
	// A later reader of the whole stream never sees the deleted text.
	late := subscribe(t, r, "0-0")
	if ev := receive(t, late); ev.ID != m2.ID {
		t.Errorf("late reader's first event %+v, want %s", ev, m2.ID)
	}
	if ev := receive(t, late); ev.Type != liveroom.Deleted {
		t.Errorf("late reader's second event %+v, want the tombstone", ev)
	}
	for _, id := range []string{m1.ID, del.ID, "1-1", "not-an-id"} {
		if _, err := r.Delete(t.Context(), lec, id, mod); !errors.Is(err, liveroom.ErrNotFound) {
			t.Errorf("Delete(%s) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestMarkAnswered(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n"})
	_, cursor := history(t, r, 50)
	q := post(t, r, citizen, liveroom.Question, "石嘴山的名字是怎么来的？")
	c := post(t, r, other, liveroom.Chat, "好问题")
	ans, err := r.MarkAnswered(t.Context(), lec, q.ID, mod)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.MarkAnswered(t.Context(), lec, c.ID, mod); !errors.Is(err, liveroom.ErrNotQuestion) {
		t.Errorf("answering a chat message: %v, want ErrNotQuestion", err)
	}
	msgs, _ := history(t, r, 50)
	if len(msgs) != 2 || !msgs[0].Answered || msgs[1].Answered {
		t.Errorf("History = %+v, want the question answered and the chat message not", msgs)
	}
	ch := subscribe(t, r, cursor)
	receive(t, ch)
	receive(t, ch)
	if ev := receive(t, ch); ev.ID != ans.ID || ev.Type != liveroom.Answered || ev.Target != q.ID {
		t.Errorf("event %+v, want answered %s", ev, q.ID)
	}
}

func TestSubscribeResumesAcrossNodes(t *testing.T) {
	e := newEnv(t)
	a := e.room(t, liveroom.Options{Node: "node-a"})
	b := e.room(t, liveroom.Options{Node: "node-b"})
	m1 := post(t, a, citizen, liveroom.Chat, "一")
	m2 := post(t, a, citizen, liveroom.Chat, "二")

	ctx, cancel := context.WithCancel(t.Context())
	ch, err := b.Subscribe(ctx, lec, m1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, ch); ev.ID != m2.ID {
		t.Fatalf("resumed after %s: got %+v, want %s", m1.ID, ev, m2.ID)
	}
	m3 := post(t, a, other, liveroom.Question, "三")
	if ev := receive(t, ch); ev.ID != m3.ID || ev.Kind != liveroom.Question || ev.Author != other {
		t.Fatalf("live event on the other node: %+v, want %+v", ev, m3)
	}
	quiet(t, ch)
	cancel()
	if _, ok := <-ch; ok {
		t.Error("subscription still open after its context ended")
	}

	// Reconnecting with Last-Event-ID = m2 gets m3 again, then what follows.
	ch = subscribe(t, b, m2.ID)
	fromNow := subscribe(t, a, "")
	m4 := post(t, b, citizen, liveroom.Chat, "四")
	for _, want := range []string{m3.ID, m4.ID} {
		if ev := receive(t, ch); ev.ID != want {
			t.Errorf("got %s, want %s", ev.ID, want)
		}
	}
	if ev := receive(t, fromNow); ev.ID != m4.ID {
		t.Errorf("subscriber from now got %s first, want %s", ev.ID, m4.ID)
	}
	if _, err := a.Subscribe(t.Context(), lec, "$"); !isInvalid(err) {
		t.Errorf("Subscribe from $: %v, want ErrInvalid", err)
	}
}

func TestSlowSubscriberIsDroppedAndResumes(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n", Buffer: 4, RateLimit: 1000})
	ch := subscribe(t, r, "")
	_, start := history(t, r, 0)
	var want []string
	for i := range 30 {
		want = append(want, post(t, r, citizen, liveroom.Chat, fmt.Sprint(i)).ID)
	}
	// Nobody read while 30 events came: the subscription fell behind and closes after what
	// it buffered. Resuming from the last id received loses nothing and repeats nothing.
	var got []string
	drops := 0
	for len(got) < len(want) {
		select {
		case ev, ok := <-ch:
			if ok {
				got = append(got, ev.ID)
				continue
			}
			if drops++; drops > 3 {
				t.Fatalf("dropped %d times while reading, got %d events", drops, len(got))
			}
			last := start
			if len(got) > 0 {
				last = got[len(got)-1]
			}
			ch = subscribe(t, r, last)
		case <-time.After(20 * time.Second):
			t.Fatalf("no event within 20s; got %d of %d", len(got), len(want))
		}
	}
	if drops == 0 {
		t.Error("the slow subscriber was not dropped")
	}
	if !slices.Equal(got, want) {
		t.Errorf("events across the drop:\n got %v\nwant %v", got, want)
	}
}

func TestStreamIsTrimmed(t *testing.T) {
	e := newEnv(t)
	r := e.room(t, liveroom.Options{Node: "n", HistoryLen: 50, RateLimit: 1000})
	for i := range 300 {
		post(t, r, citizen, liveroom.Chat, fmt.Sprint(i))
	}
	n, err := e.rdb.XLen(t.Context(), e.prefix+"live:chat:"+lec).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 || n > 150 {
		t.Errorf("stream holds %d entries, want about 50 (approximate trimming)", n)
	}
	msgs, _ := history(t, r, 1000)
	if int64(len(msgs)) > n || msgs[len(msgs)-1].Text != "299" {
		t.Errorf("History has %d messages ending %q, want at most %d ending with the newest", len(msgs), msgs[len(msgs)-1].Text, n)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	r := newEnv(t).room(t, liveroom.Options{Node: "n"})
	ch := subscribe(t, r, "")
	r.Close()
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("got an event, want the subscription closed")
		}
	case <-time.After(20 * time.Second):
		t.Error("subscription still open 20s after Close")
	}
}
