package web

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// TestPageTitles: the pages about one thing name it in <title> (for tabs, bookmarks and
// screen readers), escaped, and the site name comes last.
func TestPageTitles(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	const odd = `<b>"煤" & 'ore'</b>` // must be escaped, never markup
	const oddEscaped = `&lt;b&gt;&#34;煤&#34; &amp; &#39;ore&#39;&lt;/b&gt;`
	item := sampleItem(false)
	item.Title = odd
	course := sampleCourse()
	course.Title = "书法入门"
	lecture := &LectureData{LectureCard: sampleLecture()}
	cases := []struct {
		lang i18n.Lang
		d    PageData
		want string
	}{
		{i18n.ZH, PageData{Page: "memory_item", Data: item}, oddEscaped + " · 石嘴山记忆 · 石嘴山数字文化云"},
		{i18n.EN, PageData{Page: "memory_item", Data: item}, oddEscaped + " · Shizuishan Memory · Shizuishan Culture Cloud"},
		{i18n.ZH, PageData{Page: "memory_collection", Data: &CollectionData{ID: "col-1", Title: "工业遗产"}}, "工业遗产 · 石嘴山记忆 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "memory_collection", Data: &CollectionData{ID: "col-1"}}, "专题合集 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "course_page", Data: &course}, "书法入门 · 线上艺术课堂 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "lesson", Data: &LessonData{Course: course, N: 1, Title: "永字八法", PrevN: 0, NextN: -1}},
			"第 2 课：永字八法 · 书法入门 · 石嘴山数字文化云"},
		{i18n.EN, PageData{Page: "lesson", Data: &LessonData{Course: course, N: 0, Title: "第一课：执笔", PrevN: -1, NextN: -1}},
			"第一课：执笔 · 书法入门 · Shizuishan Culture Cloud"},
		{i18n.ZH, PageData{Page: "lecture", Data: lecture}, "石炭井的煤与人 · 云讲座 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "certificate", Data: &CertificateData{CourseID: "crs-1", CourseTitle: odd, Lessons: 2}},
			"结业证书 · " + oddEscaped + " · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "memory_search", Data: &SearchData{Q: "煤矿"}}, "煤矿 · 石嘴山记忆资源库 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "memory_search", Data: &SearchData{}}, "石嘴山记忆资源库 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "login"}, "登录 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "memory_item"}, "资源详情 · 石嘴山数字文化云"},
		{i18n.ZH, PageData{Page: "lesson"}, "课时 · 石嘴山数字文化云"},
	}
	title := regexp.MustCompile(`<title>([^<]*)</title>`)
	for _, c := range cases {
		t.Run(c.d.Page+"/"+string(c.lang), func(t *testing.T) {
			d := c.d
			d.Lang = c.lang
			var buf bytes.Buffer
			if err := r.Render(&buf, d); err != nil {
				t.Fatal(err)
			}
			m := title.FindStringSubmatch(buf.String())
			if m == nil {
				t.Fatal("no <title>, or markup inside it")
			}
			if m[1] != c.want {
				t.Errorf("<title> is %q, want %q", m[1], c.want)
			}
		})
	}
}
