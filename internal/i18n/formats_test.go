package i18n

import "testing"

func TestFormatName(t *testing.T) {
	for _, c := range []struct {
		lang       Lang
		mime, want string
	}{
		{ZH, "image/png", "图片 PNG"},
		{EN, "image/png", "PNG image"},
		{ZH, "image/jpeg", "图片 JPEG"},
		{ZH, "video/mp4", "视频 MP4"},
		{EN, "video/mp4", "MP4 video"},
		{ZH, "audio/mpeg", "音频 MP3"},
		{ZH, "application/pdf", "PDF 文档"},
		{EN, "application/pdf", "PDF document"},
		{ZH, "Image/PNG", "图片 PNG"},                  // types are case-insensitive
		{ZH, "audio/mpeg; codecs=mp3", "音频 MP3"},     // parameters do not matter
		{ZH, "application/x-blender", "BLENDER"},     // unknown: the subtype, upper case
		{EN, "model/vnd.collada+xml", "COLLADA+XML"}, // without the vendor tree
		{ZH, "chemical/x-pdb", "PDB"},
		{ZH, "nonsense", "nonsense"}, // not a media type: as it is
		{EN, "", ""},
	} {
		if got := FormatName(c.lang, c.mime); got != c.want {
			t.Errorf("FormatName(%s, %q) = %q, want %q", c.lang, c.mime, got, c.want)
		}
	}
}

// TestFormatNamesBothLanguages: every known format has a Chinese and an English name.
func TestFormatNamesBothLanguages(t *testing.T) {
	for mime, name := range formatNames {
		if name.zh == "" || name.en == "" {
			t.Errorf("%s lacks a name: %+v", mime, name)
		}
	}
}
