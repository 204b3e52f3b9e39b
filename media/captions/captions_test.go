package captions_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/media/captions"
)

const limit = 2 << 20

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestParseGood(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []captions.Cue
	}{
		{"header only", "WEBVTT\n", nil},
		{"short timestamps", "WEBVTT\n\n00:01.000 --> 00:04.500\n欢迎来到石嘴山\n",
			[]captions.Cue{{Start: ms(1000), End: ms(4500), Text: "欢迎来到石嘴山"}}},
		{"hours, id, settings, two lines", "WEBVTT - 剪纸课\n\nintro\n01:02:03.004 --> 01:02:05.000 align:start  line:90%\n第一行\n第二行\n",
			[]captions.Cue{{ID: "intro", Start: time.Hour + 2*time.Minute + 3*time.Second + ms(4), End: time.Hour + 2*time.Minute + 5*time.Second,
				Settings: "align:start line:90%", Text: "第一行\n第二行"}}},
		{"BOM, CRLF, header lines, note, style, region", "\uFEFFWEBVTT\r\nKind: captions\r\nLanguage: zh\r\n\r\nNOTE made by hand\r\nsecond line\r\n\r\n" +
			"STYLE\r\n::cue { color: red }\r\n\r\nREGION\r\nid:r1\r\n\r\n00:00.000 --> 00:01.000 region:r1\r\na\r\n\r\n\r\nNOTE between\r\n\r\n00:00.500 --> 00:02.000\rb\r",
			[]captions.Cue{{Start: 0, End: ms(1000), Text: "a"}, {Start: ms(500), End: ms(2000), Text: "b"}}},
		{"allowed tags kept, others dropped", "WEBVTT\n\n00:01.000 --> 00:02.000\n<v.loud  Li   Ming>你好</v> <b>粗</b><i>斜</i><u>下</u><c.yellow.bad!>色</c>\n" +
			"<script>alert(1)</script><img src=x onerror=alert(1)><ruby>字<rt>zi</rt></ruby><00:01.500>ok\n",
			[]captions.Cue{{Start: ms(1000), End: ms(2000), Text: "<v.loud Li Ming>你好</v> <b>粗</b><i>斜</i><u>下</u><c.yellow>色</c>\nalert(1)字ziok"}}},
		{"unbalanced tags closed, stray end tags dropped", "WEBVTT\n\n00:01.000 --> 00:02.000\n</i><b>a<i>b</b>\n",
			[]captions.Cue{{Start: ms(1000), End: ms(2000), Text: "<b>a<i>b</i></b>"}}},
		{"entities decoded and escaped", "WEBVTT\n\n00:01.000 --> 00:02.000\na &amp; b &lt;c&gt; --&gt; &#65;&#x4e2d;&#10;&copy; x>y\n",
			[]captions.Cue{{Start: ms(1000), End: ms(2000), Text: "a &amp; b &lt;c&gt; --&gt; A中&amp;copy; x&gt;y"}}},
		{"trailing blanks and emptied lines removed", "WEBVTT\n\n00:01.000 --> 00:02.000\nfirst  \n<script>\n   \nlast\n",
			[]captions.Cue{{Start: ms(1000), End: ms(2000), Text: "first\nlast"}}},
		{"same start is in order", "WEBVTT\n\n00:01.000 --> 00:02.000\na\n\n00:01.000 --> 00:03.000\nb\n",
			[]captions.Cue{{Start: ms(1000), End: ms(2000), Text: "a"}, {Start: ms(1000), End: ms(3000), Text: "b"}}},
		{"id named NOTE is a cue", "WEBVTT\n\nNOTE\n00:01.000 --> 00:02.000\na\n",
			[]captions.Cue{{ID: "NOTE", Start: ms(1000), End: ms(2000), Text: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := captions.Parse(strings.NewReader(tt.in), limit)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(f.Cues, tt.want) {
				t.Fatalf("cues\n got %#v\nwant %#v", f.Cues, tt.want)
			}
			roundTrip(t, f)
		})
	}
}

func TestParseBroken(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		says string
	}{
		{"empty", "", 1, "WEBVTT"},
		{"missing header", "1\n00:01.000 --> 00:02.000\na\n", 1, "WEBVTT"},
		{"header glued to word", "WEBVTTX\n", 1, "WEBVTT"},
		{"binary junk", "\x89PNG\r\n\x1a\n\x00\x00", 1, "UTF-8"},
		{"latin-1 text", "WEBVTT\n\n00:01.000 --> 00:02.000\ncaf\xe9\n", 4, "UTF-8"},
		{"control character", "WEBVTT\n\n00:01.000 --> 00:02.000\na\x1bb\n", 4, "U+001B"},
		{"no blank after header", "WEBVTT\n00:01.000 --> 00:02.000\na\n", 2, "blank line"},
		{"end before start", "WEBVTT\n\n1\n00:05.000 --> 00:02.000\na\n", 4, "before it starts"},
		{"end equals start", "WEBVTT\n\n00:05.000 --> 00:05.000\na\n", 3, "ends when it starts"},
		{"comma milliseconds", "WEBVTT\n\n00:01,000 --> 00:02,000\na\n", 3, "milliseconds"},
		{"one digit minutes", "WEBVTT\n\n0:01.000 --> 00:02.000\na\n", 3, "start time"},
		{"seconds above 59", "WEBVTT\n\n00:00:61.000 --> 00:01:02.000\na\n", 3, "above 59"},
		{"too many hours", "WEBVTT\n\n123456:00:00.000 --> 123457:00:00.000\na\n", 3, "hours"},
		{"no arrow", "WEBVTT\n\n1\n00:01.000 00:02.000\na\n", 4, "timing line"},
		{"bad end", "WEBVTT\n\n00:01.000 --> soon\na\n", 3, "end time"},
		{"glued settings", "WEBVTT\n\n00:01.000 --> 00:02.000align:start\na\n", 3, "space after"},
		{"unknown setting", "WEBVTT\n\n00:01.000 --> 00:02.000 colour:red\na\n", 3, "unknown cue setting"},
		{"bad setting value", "WEBVTT\n\n00:01.000 --> 00:02.000 size:150%\na\n", 3, "size:150%"},
		{"twice", "WEBVTT\n\n00:01.000 --> 00:02.000 align:start align:end\na\n", 3, "twice"},
		{"no text", "WEBVTT\n\n00:01.000 --> 00:02.000\n\n00:03.000 --> 00:04.000\nb\n", 3, "no text"},
		{"only markup", "WEBVTT\n\n00:01.000 --> 00:02.000\n<script></script>\n", 4, "no text"},
		{"missing blank between cues", "WEBVTT\n\n00:01.000 --> 00:02.000\na\n00:03.000 --> 00:04.000\nb\n", 5, "blank line"},
		{"out of order", "WEBVTT\n\n00:05.000 --> 00:06.000\na\n\n00:01.000 --> 00:02.000\nb\n", 6, "time order"},
		{"identifier alone", "WEBVTT\n\n00:01.000 --> 00:02.000\na\n\nlonely\n", 6, "timing line"},
		{"text without timing", "WEBVTT\n\nhello\nworld\n", 4, "timing line"},
		{"arrow in note", "WEBVTT\n\nNOTE x\n00:01.000 -> 1\nlater --> here\n", 5, "NOTE"},
		{"style after cue", "WEBVTT\n\n00:01.000 --> 00:02.000\na\n\nSTYLE\n::cue {}\n", 6, "before the first cue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := captions.Parse(strings.NewReader(tt.in), limit)
			var pe *captions.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %+v, %v; want a *ParseError", f, err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Reason, tt.says) {
				t.Fatalf("error %q at line %d; want line %d saying %q", pe.Reason, pe.Line, tt.line, tt.says)
			}
			if !strings.Contains(pe.Error(), "line") {
				t.Fatalf("Error() %q names no line", pe.Error())
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	in := "WEBVTT\n\n00:01.000 --> 00:02.000\n" + strings.Repeat("字", 100) + "\n"
	if _, err := captions.Parse(strings.NewReader(in), int64(len(in))); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err := captions.Parse(strings.NewReader(in), int64(len(in)-1))
	var pe *captions.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, captions.ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}

func TestWriteTo(t *testing.T) {
	in := "WEBVTT header text\n\nNOTE dropped\n\nintro\n00:01.000 --> 00:04.500   align:start\n<b onclick=x>你好</b> &amp; <script>bye\n\n" +
		"1:00:00.000 --> 1:00:01.000\nend\n"
	f, err := captions.Parse(strings.NewReader(in), limit)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d", n, err, buf.Len())
	}
	want := "WEBVTT\n\nintro\n00:00:01.000 --> 00:00:04.500 align:start\n<b>你好</b> &amp; bye\n\n01:00:00.000 --> 01:00:01.000\nend\n"
	if buf.String() != want {
		t.Fatalf("WriteTo\n got %q\nwant %q", buf.String(), want)
	}
}

func TestWriteToCleansHandMadeCues(t *testing.T) {
	f := &captions.File{Cues: []captions.Cue{{Start: 0, End: time.Second, Text: "<script>x</script>\n\n-->"}}}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if want := "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nx\n--&gt;\n"; buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
	for _, bad := range []captions.Cue{
		{Start: time.Second, End: time.Second, Text: "x"},
		{End: time.Second, ID: "a\nb", Text: "x"},
		{End: time.Second, ID: "a --> b", Text: "x"},
		{End: time.Second, Settings: "align:middle", Text: "x"},
		{End: time.Second, Text: "<script>\n  "},
	} {
		if _, err := (&captions.File{Cues: []captions.Cue{bad}}).WriteTo(&buf); err == nil {
			t.Errorf("WriteTo accepted %+v", bad)
		}
	}
}

// roundTrip checks that what WriteTo writes parses back to the same cues, and is written
// again byte for byte the same.
func roundTrip(t *testing.T, f *captions.File) {
	t.Helper()
	var first bytes.Buffer
	if _, err := f.WriteTo(&first); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	again, err := captions.Parse(bytes.NewReader(first.Bytes()), 1<<30)
	if err != nil {
		t.Fatalf("written file does not parse: %v\n%s", err, first.Bytes())
	}
	if !reflect.DeepEqual(again.Cues, f.Cues) {
		t.Fatalf("re-parsed cues differ\n got %#v\nwant %#v", again.Cues, f.Cues)
	}
	var second bytes.Buffer
	if _, err := again.WriteTo(&second); err != nil || !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("second write differs (%v):\n%q\n%q", err, first.Bytes(), second.Bytes())
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"WEBVTT\n\n00:01.000 --> 00:02.000\na\n",
		"\uFEFFWEBVTT x\r\n\r\nid\r\n01:00:00.000 --> 01:00:01.000 align:end line:-1,start\r\n<v Bob &amp; Al>hi</v>\r\n",
		"WEBVTT\n\nNOTE c\n\nSTYLE\n::cue{}\n\n00:00.000 --> 00:00.001 position:50%,line-left size:10.5%\n<c.a.b>&#x3c;x&gt;</c><ruby>r<rt>t</rt></ruby>\n",
		"WEBVTT\n\n00:01.000 --> 00:00.000\na\n",
		"WEBVTT\n\n00:01.000 --> 00:02.000\n<b>&#10;&nbsp;\n   \n<i>x\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := captions.Parse(bytes.NewReader(data), 1<<20)
		if err != nil {
			var pe *captions.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		roundTrip(t, file)
	})
}

func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("WEBVTT\n")
	for i := range 2000 {
		fmt.Fprintf(&buf, "\n%d\n00:%02d:%02d.000 --> 00:%02d:%02d.500 align:start\n<v 讲师>第 %d 句：剪纸要先对折，再用 <b>剪刀</b> 沿线剪开 &amp; 展开。</v>\n",
			i, i/60%60, i%60, i/60%60, i%60, i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := captions.Parse(bytes.NewReader(data), limit); err != nil {
			b.Fatal(err)
		}
	}
}
