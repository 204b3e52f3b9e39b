package upload_test

import (
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/media/upload"
)

// ebmlHeader builds a minimal EBML header with the given DocType.
func ebmlHeader(docType string) string {
	body := "\x42\x86\x81\x01" + "\x42\xF7\x81\x01" + "\x42\xF2\x81\x04" + "\x42\xF3\x81\x08" +
		"\x42\x82" + string([]byte{byte(0x80 | len(docType))}) + docType + "\x42\x87\x81\x04" + "\x42\x85\x81\x02"
	return "\x1A\x45\xDF\xA3" + string([]byte{byte(0x80 | len(body))}) + body
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, head     string
		mediaType, ext string
		ok             bool
	}{
		// Allowed.
		{"jpeg", "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", "image/jpeg", ".jpg", true},
		{"png", "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR", "image/png", ".png", true},
		{"tiff little endian", "II*\x00\x08\x00\x00\x00", "image/tiff", ".tif", true},
		{"tiff big endian", "MM\x00*\x00\x00\x00\x08", "image/tiff", ".tif", true},
		{"webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp", ".webp", true},
		{"pdf", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "application/pdf", ".pdf", true},
		{"mp3 id3", "ID3\x04\x00\x00\x00\x00\x00\x23", "audio/mpeg", ".mp3", true},
		{"mp3 frame fffb", "\xFF\xFB\x90\x64\x00", "audio/mpeg", ".mp3", true},
		{"mp3 frame fff3", "\xFF\xF3\x90\x64\x00", "audio/mpeg", ".mp3", true},
		{"mp3 frame fff2", "\xFF\xF2\x90\x64\x00", "audio/mpeg", ".mp3", true},
		{"mp3 frame fffa", "\xFF\xFA\x90\x64\x00", "audio/mpeg", ".mp3", true},
		{"wav", "RIFF\x24\x08\x00\x00WAVEfmt ", "audio/wav", ".wav", true},
		{"flac", "fLaC\x00\x00\x00\x22", "audio/flac", ".flac", true},
		{"m4a", "\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00", "audio/mp4", ".m4a", true},
		{"m4b", "\x00\x00\x00\x18ftypM4B \x00\x00\x00\x00M4B isom", "audio/mp4", ".m4a", true},
		{"mp4 isom", "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video/mp4", ".mp4", true},
		{"mp4 mp42", "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42mp41", "video/mp4", ".mp4", true},
		{"mp4 avc1", "\x00\x00\x00\x14ftypavc1\x00\x00\x00\x00avc1", "video/mp4", ".mp4", true},
		{"mp4 dash", "\x00\x00\x00\x18ftypdash\x00\x00\x00\x00iso6mp41", "video/mp4", ".mp4", true},
		{"mp4 by compatible brand", "\x00\x00\x00\x1CftypXYZW\x00\x00\x00\x00XYZWmp42iso2", "video/mp4", ".mp4", true},
		{"mov", "\x00\x00\x00\x14ftypqt  \x20\x05\x03\x00qt  ", "video/quicktime", ".mov", true},
		{"webm", ebmlHeader("webm"), "video/webm", ".webm", true},
		{"mkv", ebmlHeader("matroska"), "video/x-matroska", ".mkv", true},
		{"text", "石嘴山老照片说明\nHello, world.\tTab\r\n", "text/plain", ".txt", true},
		{"text cut inside a rune", "说明文字" + string([]byte("石")[:2]), "text/plain", ".txt", true},
		// Refused.
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00", "application/zip", ".zip", false},
		{"docx is zip", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "application/zip", ".zip", false},
		{"elf", "\x7FELF\x02\x01\x01\x00\x00\x00\x00\x00", "application/x-elf", "", false},
		{"exe", "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF", "application/x-msdownload", ".exe", false},
		{"gzip", "\x1F\x8B\x08\x00\x00\x00\x00\x00", "application/gzip", ".gz", false},
		{"gif", "GIF89a\x01\x00\x01\x00\x80\x00\x00", "image/gif", ".gif", false},
		{"html", "<!DOCTYPE html><html><body>hi", "text/html", "", false},
		{"html after bom and spaces", "\xEF\xBB\xBF\n  <html><script>alert(1)</script>", "text/html", "", false},
		{"svg", "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script/>", "image/svg+xml", "", false},
		{"xml", "<?xml version=\"1.0\"?><root/>", "text/xml", "", false},
		{"avi", "RIFF\x24\x00\x00\x00AVI LIST", "application/x-riff", "", false},
		{"3gp", "\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00", "application/x-iso-bmff; brand=3gp4", "", false},
		{"ebml without doctype", "\x1A\x45\xDF\xA3\x84\x42\x86\x81\x01", "application/x-ebml", "", false},
		{"text with nul", "hello\x00world", "application/octet-stream", "", false},
		{"utf-16", "\xFF\xFEh\x00i\x00", "application/octet-stream", "", false},
		{"invalid utf-8", "abc\xC3\x28def", "application/octet-stream", "", false},
		{"control characters", "a\x01\x02\x03\x04\x05\x06b", "application/octet-stream", "", false},
		{"empty", "", "application/octet-stream", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, ext, ok := upload.Detect([]byte(tt.head))
			if mt != tt.mediaType || ext != tt.ext || ok != tt.ok {
				t.Errorf("Detect(%q) = %q, %q, %v; want %q, %q, %v", tt.head, mt, ext, ok, tt.mediaType, tt.ext, tt.ok)
			}
		})
	}
}

func TestTypeErrorMessage(t *testing.T) {
	msg := (&upload.TypeError{Detected: "application/zip"}).Error()
	for _, want := range []string{"application/zip", "image/jpeg", "video/mp4", "text/plain"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"\xFF\xD8\xFF", "\x89PNG\r\n\x1A\n", "RIFF\x00\x00\x00\x00WEBP", "\x00\x00\x00\x18ftypisom",
		ebmlHeader("webm"), "\x1A\x45\xDF\xA3\x42\x82\xFF", "<html>", "plain text", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		mt, ext, ok := upload.Detect(head)
		if mt == "" {
			t.Fatalf("Detect(%q): empty media type", head)
		}
		if ok && (ext == "" || !strings.HasPrefix(ext, ".")) {
			t.Fatalf("Detect(%q) = %q, %q: allowed type without extension", head, mt, ext)
		}
		if ok && (strings.Contains(mt, "html") || strings.Contains(mt, "xml")) {
			t.Fatalf("Detect(%q) allowed markup %q", head, mt)
		}
	})
}
