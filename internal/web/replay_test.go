package web

import (
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/i18n"
)

// TestReplaySidebar: a replay item's page links to its lecture and shows the lecture's chat
// read-only beside the player, in both languages.
func TestReplaySidebar(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	chat := []ReplayMessage{
		{Name: "小红", Text: "老师好！<b>", Time: "19:32", DateTime: "2026-12-07T11:32:00Z"},
		{Question: true, Name: "老王", Text: "洗煤厂是哪一年建的？", Time: "19:40", DateTime: "2026-12-07T11:40:00Z"},
	}
	replay := func(v ReplayView) *ItemData {
		d := sampleItem(false)
		d.Staff, d.History, d.Status = false, nil, "published"
		v.Lecture, v.LectureTitle, v.Held = "lec1", "石嘴山的煤与城", "2026年12月7日（周一）19:30"
		d.Replay = &v
		return d
	}
	tests := []struct {
		name         string
		d            *ItemData
		want, reject []string
	}{
		{"chat", replay(ReplayView{Messages: chat}), []string{
			`<a href="/lectures/lec1" id="replay-lecture-link">石嘴山的煤与城</a>`,
			`<aside class="panel replay-chat" id="replay-chat" aria-labelledby="replay-chat-title">`, `class="replay-layout"`,
			`老师好！&lt;b&gt;`, `<time class="chat-time" datetime="2026-12-07T11:40:00Z">19:40</time>`, `class="chat-message question is-answered"`,
			`tabindex="0"`, `live.css`}, []string{`<form`, `chat-form`}},
		{"no chat", replay(ReplayView{}), []string{`id="replay-chat"`}, []string{`id="replay-chat-list"`}},
		{"registered only", replay(ReplayView{Messages: chat, ChatHidden: true}), []string{`id="replay-lecture-link"`}, []string{"老师好"}},
		{"chat lost", replay(ReplayView{ChatLost: true}), []string{`id="replay-chat"`}, []string{`id="replay-chat-list"`}},
		{"not a replay", sampleItem(false), nil, []string{`replay-chat`, `replay-of`, `replay-layout`}},
	}
	texts := map[string]map[i18n.Lang]string{
		"chat":            {i18n.ZH: "讲座留言与已回答的提问", i18n.EN: "Chat and answered questions"},
		"no chat":         {i18n.ZH: "这场讲座没有留言。", i18n.EN: "No one wrote in the chat of this lecture."},
		"registered only": {i18n.ZH: "登录后可阅读留言记录", i18n.EN: "sign in to read its chat"},
		"chat lost":       {i18n.ZH: "未能保存留言记录", i18n.EN: "The chat could not be kept"},
	}
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		for _, tt := range tests {
			t.Run(tt.name+"/"+string(lang), func(t *testing.T) {
				out := render(t, r, PageData{Page: "memory_item", Lang: lang, Nonce: "n", Path: "/x", Data: tt.d})
				want := tt.want
				if s := texts[tt.name][lang]; s != "" {
					want = append(want, s)
				}
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("page lacks %s", w)
					}
				}
				for _, w := range tt.reject {
					if strings.Contains(out, w) {
						t.Errorf("page holds %s", w)
					}
				}
			})
		}
	}
}
