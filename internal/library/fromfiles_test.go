package library

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTitleFromFileName(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"IMG_0012_大武口老街.jpg", "IMG 0012 大武口老街"},
		{"惠农花儿--录音.mp3", "惠农花儿 录音"},
		{`C:\扫描\石炭井矿区 地图.tif`, "石炭井矿区 地图"},
		{"/home/li/1958年支宁合影.JPEG", "1958年支宁合影"},
		{"archive.tar.gz", "archive.tar"},
		{"没有扩展名", "没有扩展名"},
		{".hidden", ".hidden"},
		{"  ", ""},
	} {
		if got := TitleFromFileName(tc.name); got != tc.want {
			t.Errorf("TitleFromFileName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTypeForFile(t *testing.T) {
	for _, tc := range []struct{ mediaType, name, want string }{
		{"image/jpeg", "a.jpg", "StillImage"},
		{"video/mp4", "a.mp4", "MovingImage"},
		{"audio/mpeg", "a.mp3", "Sound"},
		{"application/pdf", "a.pdf", "Text"},
		{"text/plain; charset=utf-8", "a.txt", "Text"},
		{"", "扫描.TIF", "StillImage"},
		{"application/octet-stream", "口述史.wav", "Sound"},
		{"application/zip", "a.zip", ""},
		{"", "无类型", ""},
	} {
		if got := TypeForFile(tc.mediaType, tc.name); got != tc.want {
			t.Errorf("TypeForFile(%q, %q) = %q, want %q", tc.mediaType, tc.name, got, tc.want)
		}
	}
}

// The format follows the files unless someone wrote another; a guessed type follows the
// first file, a chosen one stays.
func TestTypeAndFormatFollowFiles(t *testing.T) {
	jpg := File{Path: "files/a.jpg", Name: "a.jpg", MediaType: "image/jpeg"}
	mp4 := File{Path: "files/b.mp4", Name: "b.mp4", MediaType: "video/mp4"}
	png := File{Path: "files/c.png", Name: "c.png", MediaType: "image/png"}
	for _, tc := range []struct {
		name               string
		item               Item
		files              []File
		wantType, wantForm string
	}{
		{"first file of a guessed draft", Item{Fields: Fields{Type: "StillImage"}, TypeGuessed: true}, []File{mp4}, "MovingImage", "video/mp4"},
		{"second file adds its format", Item{Fields: Fields{Type: "StillImage", Format: "image/jpeg"}, Files: []File{jpg}, TypeGuessed: true},
			[]File{jpg, mp4, png}, "StillImage", "image/jpeg, video/mp4, image/png"},
		{"first file removed", Item{Fields: Fields{Type: "StillImage", Format: "image/jpeg, video/mp4"}, Files: []File{jpg, mp4}, TypeGuessed: true},
			[]File{mp4}, "MovingImage", "video/mp4"},
		{"type chosen by hand stays", Item{Fields: Fields{Type: "Text", Format: "image/jpeg, video/mp4"}, Files: []File{jpg, mp4}},
			[]File{mp4}, "Text", "video/mp4"},
		{"format written by hand stays", Item{Fields: Fields{Type: "StillImage", Format: "35 mm 胶片扫描"}, Files: []File{jpg}},
			[]File{jpg, png}, "StillImage", "35 mm 胶片扫描"},
		{"last file removed", Item{Fields: Fields{Type: "Sound", Format: "audio/mpeg"}, Files: []File{{MediaType: "audio/mpeg"}}, TypeGuessed: true},
			[]File{}, "Sound", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := tc.item
			before := it.Files
			it.Files = tc.files
			it.followFiles(before)
			if it.Type != tc.wantType || it.Format != tc.wantForm {
				t.Fatalf("type %q, format %q; want %q, %q", it.Type, it.Format, tc.wantType, tc.wantForm)
			}
		})
	}
}

// FuzzTitleFromFileName: any name a browser sends makes a title that fits the field and
// holds no folder.
func FuzzTitleFromFileName(f *testing.F) {
	for _, seed := range []string{"IMG_0012_大武口老街.jpg", `C:\a\b.tif`, "../../etc/passwd", "....", strings.Repeat("长", 300) + ".png", "\x00.png"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		title := TitleFromFileName(name)
		if utf8.RuneCountInString(title) > maxTitle || strings.ContainsAny(title, `/\`) || strings.TrimSpace(title) != title {
			t.Fatalf("TitleFromFileName(%q) = %q", name, title)
		}
		if utf8.ValidString(name) && !utf8.ValidString(title) {
			t.Fatalf("TitleFromFileName(%q) = %q is not UTF-8", name, title)
		}
	})
}
