package replays

import (
	"slices"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/liveroom"
)

// TestItemFieldsAreDatedInBeijing: the replay is dated by the day the lecture was held in
// the city, which is not the UTC day for a lecture before 08:00.
func TestItemFieldsAreDatedInBeijing(t *testing.T) {
	tests := []struct {
		name, start, date, title string
	}{
		{"morning in Beijing, the day before in UTC", "2026-12-06T23:30:00Z", "2026-12-07", "岩画（2026年12月7日讲座回放）"},
		{"evening in Beijing, the same day in UTC", "2026-12-07T11:30:00Z", "2026-12-07", "岩画（2026年12月7日讲座回放）"},
		{"midnight in Beijing", "2026-12-31T16:00:00Z", "2027-01-01", "岩画（2027年1月1日讲座回放）"},
		{"a second before midnight in Beijing", "2026-12-31T15:59:59Z", "2026-12-31", "岩画（2026年12月31日讲座回放）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, err := time.Parse(time.RFC3339, tt.start)
			if err != nil {
				t.Fatal(err)
			}
			var l lectures.Lecture
			l.ID, l.Title, l.Start, l.Unit = "lec1", "岩画", start, "dwk"
			f := ItemFields(l)
			if f.Date != tt.date || f.Title != tt.title || f.Relation != "/lectures/lec1" || f.Unit != "dwk" {
				t.Fatalf("fields %+v, want date %s, title %s", f, tt.date, tt.title)
			}
		})
	}
}

// TestKept: the replay keeps the chat and the answered questions, without the authors' ids.
func TestKept(t *testing.T) {
	at := time.Unix(1_800_000_000, 0).UTC()
	msg := func(id string, kind liveroom.Kind, answered bool) liveroom.Message {
		return liveroom.Message{ID: id, Kind: kind, Author: liveroom.Author{ID: "a:xiao.hong", Name: "小红"}, Text: id, At: at,
			Answered: answered}
	}
	tests := []struct {
		name    string
		history []liveroom.Message
		want    []string
	}{
		{"empty", nil, nil},
		{"chat kept", []liveroom.Message{msg("c1", liveroom.Chat, false), msg("c2", liveroom.Chat, false)}, []string{"c1", "c2"}},
		{"answered questions kept, others not", []liveroom.Message{msg("q1", liveroom.Question, true),
			msg("q2", liveroom.Question, false), msg("c1", liveroom.Chat, false)}, []string{"q1", "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Kept(tt.history)
			if got == nil {
				t.Fatal("nil: the record would say null, not an empty list")
			}
			var texts []string
			for _, m := range got {
				texts = append(texts, m.Text)
				if m.Name != "小红" || !m.At.Equal(at) {
					t.Fatalf("kept %+v", m)
				}
			}
			if !slices.Equal(texts, tt.want) {
				t.Fatalf("kept %v, want %v", texts, tt.want)
			}
		})
	}
}
