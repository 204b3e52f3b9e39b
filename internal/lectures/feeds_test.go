package lectures_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/lectures"
)

const base = "https://wenhuayun.example.cn/"

// longText is a Chinese description long enough to fold many times, with every character
// that iCalendar escapes.
var longText = strings.Repeat("石嘴山因山石突出如嘴而得名，", 12) + "\n第二段；含有反斜杠\\和逗号,还有分号;。\r\n🏔️ 贺兰山"

func sample() []lectures.Lecture {
	start := time.Date(2026, 12, 1, 11, 30, 0, 0, time.UTC) // 19:30 Beijing time
	created := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	mk := func(id, title, desc string, state lectures.State, minutes int) lectures.Lecture {
		return lectures.Lecture{ID: id, State: state, CreatedAt: created, UpdatedAt: created.Add(time.Hour),
			Input: lectures.Input{Title: title, Description: desc, Start: start, Minutes: minutes, Unit: "dwk-library",
				Lecturer: lectures.Lecturer{Name: "张老师", Account: "zhang.lecturer"}, Visibility: lectures.Public}}
	}
	return []lectures.Lecture{
		mk("lec-aaaaaaaaaa", `<b>岩画</b> & "石嘴山", 第一讲; a\b`, longText, lectures.Scheduled, 90),
		mk("lec-bbbbbbbbbb", "夜谈黄河", "跨越午夜的讲座\x01。", lectures.Cancelled, 300),
	}
}

func TestRSS(t *testing.T) {
	data, err := lectures.RSS(sample(), base, i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(xml.Header)) || !utf8.Valid(data) {
		t.Fatalf("not a UTF-8 XML document:\n%s", data)
	}
	var doc struct {
		XMLName xml.Name `xml:"rss"`
		Version string   `xml:"version,attr"`
		Items   []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Creator     string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			GUID        struct {
				PermaLink string `xml:"isPermaLink,attr"`
				Value     string `xml:",chardata"`
			} `xml:"guid"`
			PubDate string `xml:"pubDate"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	var channel struct {
		Title         string `xml:"channel>title"`
		Link          string `xml:"channel>link"`
		Language      string `xml:"channel>language"`
		LastBuildDate string `xml:"channel>lastBuildDate"`
	}
	if err := xml.Unmarshal(data, &channel); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.0" || channel.Title != "石嘴山数字文化云 · 公益大讲堂" || channel.Link != "https://wenhuayun.example.cn/lectures" || channel.Language != "zh-CN" {
		t.Errorf("channel %+v, version %q", channel, doc.Version)
	}
	if _, err := time.Parse(time.RFC1123Z, channel.LastBuildDate); err != nil {
		t.Errorf("lastBuildDate: %v", err)
	}
	if len(doc.Items) != 2 {
		t.Fatalf("%d items, want 2", len(doc.Items))
	}
	first := doc.Items[0]
	if first.Title != `<b>岩画</b> & "石嘴山", 第一讲; a\b` || first.Link != "https://wenhuayun.example.cn/lectures/lec-aaaaaaaaaa" ||
		first.GUID.Value != first.Link || first.GUID.PermaLink != "true" || first.Creator != "张老师" {
		t.Errorf("item %+v", first)
	}
	want := "主讲：张老师\n时间：2026年12月1日 19:30–21:00（北京时间）\n\n" + longText
	if want = strings.ReplaceAll(want, "\r\n", "\n"); first.Description != want {
		t.Errorf("description\n%q\nwant\n%q", first.Description, want)
	}
	if pub, err := time.Parse(time.RFC1123Z, first.PubDate); err != nil || !pub.Equal(sample()[0].CreatedAt) {
		t.Errorf("pubDate %q: %v", first.PubDate, err)
	}
	if !strings.HasPrefix(doc.Items[1].Title, "【已取消】") || !strings.Contains(doc.Items[1].Description, "2026年12月2日 00:30") {
		t.Errorf("cancelled item %+v, want its state in the title and the end date spelled out", doc.Items[1])
	}
	if strings.Contains(string(data), "\x01") {
		t.Error("a control character reached the XML")
	}
}

func TestAtom(t *testing.T) {
	data, err := lectures.Atom(sample(), base, i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Lang    string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Author  string   `xml:"author>name"`
		Entries []struct {
			ID        string `xml:"id"`
			Title     string `xml:"title"`
			Updated   string `xml:"updated"`
			Published string `xml:"published"`
			Link      struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Author  string `xml:"author>name"`
			Summary struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"summary"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(data, &feed); err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	if feed.Lang != "en" || feed.ID != "https://wenhuayun.example.cn/lectures" || feed.Title != "Shizuishan Culture Cloud · Public Lecture Hall" ||
		feed.Author != "Shizuishan Culture Cloud" {
		t.Errorf("feed %+v", feed)
	}
	if u, err := time.Parse(time.RFC3339, feed.Updated); err != nil || !u.Equal(sample()[0].UpdatedAt) {
		t.Errorf("updated %q: %v, want the newest lecture's", feed.Updated, err)
	}
	if len(feed.Entries) != 2 {
		t.Fatalf("%d entries, want 2", len(feed.Entries))
	}
	e := feed.Entries[0]
	if e.ID != "https://wenhuayun.example.cn/lectures/lec-aaaaaaaaaa" || e.Link.Href != e.ID || e.Link.Rel != "alternate" ||
		e.Author != "张老师" || e.Summary.Type != "text" || !strings.HasPrefix(e.Summary.Text, "Speaker: 张老师\nTime: Tue 1 Dec 2026 19:30–21:00 (Beijing time)") {
		t.Errorf("entry %+v", e)
	}
	for _, v := range []string{e.Updated, e.Published} {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			t.Errorf("date %q: %v", v, err)
		}
	}
	if feed.Entries[1].Title != "[Cancelled] 夜谈黄河" {
		t.Errorf("cancelled entry title %q", feed.Entries[1].Title)
	}
	empty, err := lectures.Atom(nil, base, i18n.ZH)
	var none struct {
		Updated string     `xml:"updated"`
		Entries []struct{} `xml:"entry"`
	}
	if err != nil || xml.Unmarshal(empty, &none) != nil || none.Updated == "" || len(none.Entries) != 0 {
		t.Errorf("empty feed: %v\n%s", err, empty)
	}
}

// unfold joins folded iCalendar lines (RFC 5545 §3.1).
func unfold(s string) []string {
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n ", ""), "\r\n"), "\r\n")
}

// unescape reverses TEXT escaping.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == 'n' || s[i] == 'N' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestICalendar(t *testing.T) {
	data := string(lectures.ICalendar(sample(), base, i18n.ZH))
	if !strings.HasSuffix(data, "\r\n") {
		t.Error("does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(data, "\r\n"), "\r\n")
	folded := 0
	for i, line := range physical {
		if len(line) > 75 {
			t.Errorf("line %d has %d octets: %q", i, len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("line %d breaks a UTF-8 sequence: %q", i, line)
		}
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d holds a bare line break: %q", i, line)
		}
		if strings.HasPrefix(line, " ") {
			folded++
		}
	}
	if folded < 10 {
		t.Errorf("%d continuation lines, want the long description folded many times", folded)
	}
	props := map[string][]string{}
	for _, line := range unfold(data) {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("content line without a value: %q", line)
		}
		props[name] = append(props[name], value)
	}
	for name, want := range map[string][]string{
		"BEGIN":   {"VCALENDAR", "VEVENT", "VEVENT"},
		"END":     {"VEVENT", "VEVENT", "VCALENDAR"},
		"VERSION": {"2.0"},
		"UID":     {"lec-aaaaaaaaaa@wenhuayun.example.cn", "lec-bbbbbbbbbb@wenhuayun.example.cn"},
		"DTSTAMP": {"20261120T030000Z", "20261120T030000Z"},
		"DTSTART": {"20261201T113000Z", "20261201T113000Z"},
		"DTEND":   {"20261201T130000Z", "20261201T163000Z"},
		"URL":     {"https://wenhuayun.example.cn/lectures/lec-aaaaaaaaaa", "https://wenhuayun.example.cn/lectures/lec-bbbbbbbbbb"},
		"STATUS":  {"CONFIRMED", "CANCELLED"},
		"SUMMARY": {`<b>岩画</b> & "石嘴山"\, 第一讲\; a\\b`, `【已取消】夜谈黄河`},
	} {
		if got := props[name]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if len(props["PRODID"]) != 1 {
		t.Errorf("PRODID = %q", props["PRODID"])
	}
	desc := props["DESCRIPTION"]
	if len(desc) != 2 {
		t.Fatalf("DESCRIPTION = %q", desc)
	}
	want := "主讲：张老师\n时间：2026年12月1日 19:30–21:00（北京时间）\n\n" + strings.ReplaceAll(longText, "\r\n", "\n")
	if got := unescape(desc[0]); got != want {
		t.Errorf("DESCRIPTION unescaped\n%q\nwant\n%q", got, want)
	}
	// Escaped: no raw separator is left in the value.
	for _, c := range []string{";", ","} {
		if strings.Count(desc[0], c) != strings.Count(desc[0], `\`+c) {
			t.Errorf("DESCRIPTION holds an unescaped %q: %q", c, desc[0])
		}
	}
	if strings.Contains(desc[1], "\x01") {
		t.Errorf("a control character reached the calendar: %q", desc[1])
	}
}

// TestICalendarFolding folds lines of every width of character at every offset.
func TestICalendarFolding(t *testing.T) {
	for _, unit := range []string{"a", "é", "石", "🏔"} {
		for n := range 120 {
			l := sample()[0]
			l.Title = strings.Repeat("x", n%7) + strings.Repeat(unit, n)
			data := string(lectures.ICalendar([]lectures.Lecture{l}, base, i18n.EN))
			for _, line := range strings.Split(data, "\r\n") {
				if len(line) > 75 || !utf8.ValidString(line) {
					t.Fatalf("title of %d×%q: bad line %q", n, unit, line)
				}
			}
			for _, line := range unfold(data) {
				if v, ok := strings.CutPrefix(line, "SUMMARY:"); ok && v != l.Title {
					t.Fatalf("title of %d×%q comes back as %q", n, unit, v)
				}
			}
		}
	}
}
