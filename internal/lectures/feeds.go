package lectures

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// Feeds of lectures: RSS 2.0 and Atom 1.0 for feed readers, iCalendar (RFC 5545) for
// calendar apps. Each takes the lectures to show, in the order to show them, the public base
// URL of the site (e.g. "https://wenhuayun.example.cn") and the language. Pages of lectures
// are baseURL + "/lectures/" + id (see PageURL).

// feedWords are the fixed words of the feeds in one language.
type feedWords struct {
	title, description, publisher, calendar, prodID string
	speaker, when, beijing                          string
	cancelled, live, replay                         string
	dayLayout, timeLayout                           string
}

var feedLanguages = map[i18n.Lang]feedWords{
	i18n.ZH: {
		title: "石嘴山数字文化云 · 公益大讲堂", description: "云讲座的预告、直播与回放",
		publisher: "石嘴山数字文化云", calendar: "石嘴山公益大讲堂", prodID: "-//Shizuishan Culture Cloud//Lectures//ZH",
		speaker: "主讲：", when: "时间：", beijing: "（北京时间）",
		cancelled: "【已取消】", live: "【直播中】", replay: "【回放】",
		dayLayout: "2006年1月2日 15:04", timeLayout: "15:04",
	},
	i18n.EN: {
		title: "Shizuishan Culture Cloud · Public Lecture Hall", description: "Live lectures: announcements, live streams and replays",
		publisher: "Shizuishan Culture Cloud", calendar: "Shizuishan Public Lecture Hall", prodID: "-//Shizuishan Culture Cloud//Lectures//EN",
		speaker: "Speaker: ", when: "Time: ", beijing: " (Beijing time)",
		cancelled: "[Cancelled] ", live: "[Live] ", replay: "[Replay] ",
		dayLayout: "Mon 2 Jan 2006 15:04", timeLayout: "15:04",
	},
}

func wordsFor(lang i18n.Lang) feedWords {
	if w, ok := feedLanguages[lang]; ok {
		return w
	}
	return feedLanguages[i18n.ZH]
}

// beijing is the time zone of the city, for times written in words.
var beijing = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// PageURL is the address of a lecture's page.
func PageURL(baseURL, id string) string { return strings.TrimRight(baseURL, "/") + "/lectures/" + id }

func listURL(baseURL string) string { return strings.TrimRight(baseURL, "/") + "/lectures" }

// feedTitle is the lecture's title with its state, when that is news to a reader.
func feedTitle(l Lecture, w feedWords) string {
	switch l.State {
	case Cancelled:
		return w.cancelled + l.Title
	case Live:
		return w.live + l.Title
	case ReplayReady:
		return w.replay + l.Title
	}
	return l.Title
}

// summary is the plain text of a lecture: speaker, time, description.
func summary(l Lecture, w feedWords) string {
	start, end := l.Start.In(beijing), l.End().In(beijing)
	endLayout := w.timeLayout
	if start.Format("20060102") != end.Format("20060102") {
		endLayout = w.dayLayout
	}
	var b strings.Builder
	b.WriteString(w.speaker + l.Lecturer.Name + "\n")
	b.WriteString(w.when + start.Format(w.dayLayout) + "–" + end.Format(endLayout) + w.beijing)
	if l.Description != "" {
		b.WriteString("\n\n" + strings.ReplaceAll(l.Description, "\r\n", "\n"))
	}
	return b.String()
}

// latest is the newest UpdatedAt of lectures, or now when there are none.
func latest(lectures []Lecture) time.Time {
	var t time.Time
	for _, l := range lectures {
		if l.UpdatedAt.After(t) {
			t = l.UpdatedAt
		}
	}
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC()
}

type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	Description string  `xml:"description"`
	Author      string  `xml:"http://purl.org/dc/elements/1.1/ creator,omitempty"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// RSS renders lectures as an RSS 2.0 feed. Each item's date is when the lecture was
// announced; its description holds the speaker and the time in Beijing time.
func RSS(lectures []Lecture, baseURL string, lang i18n.Lang) ([]byte, error) {
	w := wordsFor(lang)
	f := rssFeed{Version: "2.0", Channel: rssChannel{
		Title: w.title, Link: listURL(baseURL), Description: w.description, Language: lang.HTMLLang(),
		LastBuildDate: latest(lectures).Format(time.RFC1123Z), Items: []rssItem{},
	}}
	for _, l := range lectures {
		link := PageURL(baseURL, l.ID)
		f.Channel.Items = append(f.Channel.Items, rssItem{
			Title: feedTitle(l, w), Link: link, Description: summary(l, w), Author: l.Lecturer.Name,
			GUID: rssGUID{IsPermaLink: true, Value: link}, PubDate: l.CreatedAt.UTC().Format(time.RFC1123Z),
		})
	}
	return marshalXML(f)
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID        string       `xml:"id"`
	Title     string       `xml:"title"`
	Updated   string       `xml:"updated"`
	Published string       `xml:"published"`
	Links     []atomLink   `xml:"link"`
	Authors   []atomPerson `xml:"author"`
	Summary   atomText     `xml:"summary"`
}

// Atom renders lectures as an Atom 1.0 feed (RFC 4287).
func Atom(lectures []Lecture, baseURL string, lang i18n.Lang) ([]byte, error) {
	w := wordsFor(lang)
	f := atomFeed{Lang: lang.HTMLLang(), ID: listURL(baseURL), Title: w.title, Updated: latest(lectures).Format(time.RFC3339),
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: listURL(baseURL)}}, Author: atomPerson{Name: w.publisher}}
	for _, l := range lectures {
		e := atomEntry{ID: PageURL(baseURL, l.ID), Title: feedTitle(l, w), Updated: l.UpdatedAt.UTC().Format(time.RFC3339),
			Published: l.CreatedAt.UTC().Format(time.RFC3339), Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: PageURL(baseURL, l.ID)}},
			Summary: atomText{Type: "text", Text: summary(l, w)}}
		if l.Lecturer.Name != "" {
			e.Authors = []atomPerson{{Name: l.Lecturer.Name}}
		}
		f.Entries = append(f.Entries, e)
	}
	return marshalXML(f)
}

// marshalXML writes v as an indented UTF-8 XML document. encoding/xml escapes markup and
// replaces characters that XML 1.0 forbids (controls, invalid UTF-8) with U+FFFD.
func marshalXML(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// icalTime is a UTC DATE-TIME of RFC 5545, e.g. 20261201T113000Z.
func icalTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// ICalendar renders lectures as an iCalendar object (RFC 5545), one VEVENT each, with UTC
// times, escaped text, lines folded at 75 octets and CRLF line ends. A cancelled lecture
// stays in with STATUS:CANCELLED, so subscribed calendars drop it. DTSTAMP is when the
// lecture was last changed, so an unchanged lecture renders the same bytes every time.
func ICalendar(lectures []Lecture, baseURL string, lang i18n.Lang) []byte {
	w := wordsFor(lang)
	host := "culturecloud.invalid"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	var b strings.Builder
	line := func(name, value string) { foldLine(&b, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", w.prodID)
	line("CALSCALE", "GREGORIAN")
	line("X-WR-CALNAME", escapeText(w.calendar))
	for _, l := range lectures {
		status := "CONFIRMED"
		if l.State == Cancelled {
			status = "CANCELLED"
		}
		line("BEGIN", "VEVENT")
		line("UID", l.ID+"@"+host)
		line("DTSTAMP", icalTime(l.UpdatedAt))
		line("LAST-MODIFIED", icalTime(l.UpdatedAt))
		line("DTSTART", icalTime(l.Start))
		line("DTEND", icalTime(l.End()))
		line("SUMMARY", escapeText(feedTitle(l, w)))
		line("DESCRIPTION", escapeText(summary(l, w)))
		line("URL", stripControls(PageURL(baseURL, l.ID)))
		line("STATUS", status)
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return []byte(b.String())
}

// escapeText escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line
// breaks; other control characters, which TEXT does not allow, are dropped.
func escapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s { // invalid UTF-8 comes out as U+FFFD
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r == '\t' || !unicode.IsControl(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func stripControls(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == ' ' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// foldLine writes one content line, folded so that no line is longer than 75 octets
// (continuation lines start with a space, which counts), never inside a UTF-8 sequence.
func foldLine(b *strings.Builder, s string) {
	const limit = 75
	n := 0
	for len(s) > 0 {
		_, size := utf8.DecodeRuneInString(s)
		if n+size > limit {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteString(s[:size])
		n += size
		s = s[size:]
	}
	b.WriteString("\r\n")
}
