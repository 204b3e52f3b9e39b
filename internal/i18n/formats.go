package i18n

import "strings"

// formatNames are the names citizens read for the file formats (MIME types) of the
// library, in the format facet and its filter: "图片 PNG" says more than image/png.
var formatNames = map[string]text{
	"image/png":            {"图片 PNG", "PNG image"},
	"image/jpeg":           {"图片 JPEG", "JPEG image"},
	"image/gif":            {"图片 GIF", "GIF image"},
	"image/webp":           {"图片 WebP", "WebP image"},
	"image/tiff":           {"图片 TIFF", "TIFF image"},
	"image/svg+xml":        {"图片 SVG", "SVG image"},
	"image/jp2":            {"图片 JPEG 2000", "JPEG 2000 image"},
	"image/bmp":            {"图片 BMP", "BMP image"},
	"video/mp4":            {"视频 MP4", "MP4 video"},
	"video/webm":           {"视频 WebM", "WebM video"},
	"video/quicktime":      {"视频 MOV", "MOV video"},
	"video/x-matroska":     {"视频 MKV", "MKV video"},
	"video/mpeg":           {"视频 MPEG", "MPEG video"},
	"video/x-msvideo":      {"视频 AVI", "AVI video"},
	"audio/mpeg":           {"音频 MP3", "MP3 audio"},
	"audio/mp4":            {"音频 M4A", "M4A audio"},
	"audio/aac":            {"音频 AAC", "AAC audio"},
	"audio/wav":            {"音频 WAV", "WAV audio"},
	"audio/x-wav":          {"音频 WAV", "WAV audio"},
	"audio/wave":           {"音频 WAV", "WAV audio"},
	"audio/flac":           {"音频 FLAC", "FLAC audio"},
	"audio/ogg":            {"音频 Ogg", "Ogg audio"},
	"application/pdf":      {"PDF 文档", "PDF document"},
	"application/epub+zip": {"EPUB 电子书", "EPUB e-book"},
	"application/msword":   {"Word 文档", "Word document"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"Word 文档", "Word document"},
	"application/vnd.ms-excel": {"Excel 表格", "Excel spreadsheet"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"Excel 表格", "Excel spreadsheet"},
	"application/zip":  {"ZIP 压缩包", "ZIP archive"},
	"text/plain":       {"纯文本", "Plain text"},
	"text/csv":         {"CSV 表格", "CSV table"},
	"text/html":        {"网页 HTML", "HTML page"},
	"application/json": {"JSON 数据", "JSON data"},
	"application/xml":  {"XML 数据", "XML data"},
}

// FormatName names a file format for people: the known formats in lang, any other media
// type by its subtype in upper case ("application/x-blender" is "BLENDER"), and a value that
// is not a media type as it is.
func FormatName(lang Lang, mime string) string {
	essence, _, _ := strings.Cut(mime, ";")
	essence = strings.ToLower(strings.TrimSpace(essence))
	if name, ok := formatNames[essence]; ok {
		if lang == EN {
			return name.en
		}
		return name.zh
	}
	_, sub, ok := strings.Cut(essence, "/")
	if !ok || sub == "" {
		return mime
	}
	for _, tree := range []string{"x-", "vnd.", "prs."} {
		sub = strings.TrimPrefix(sub, tree)
	}
	return strings.ToUpper(sub)
}
