package upload_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shizuishan/culturecloud/media/upload"
)

var safePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("长", 300) + ".jpg"
	tests := []struct {
		name, in, safe, display string
	}{
		{"plain", "photo.jpg", "photo.jpg", "photo.jpg"},
		{"traversal", "../../etc/passwd", "etc_passwd", ".._.._etc_passwd"},
		{"backslash", "a\\b.jpg", "a_b.jpg", "a_b.jpg"},
		{"rtl override", "\u202Egnp.exe", "gnp.exe", "gnp.exe"},
		{"zero width", "pho\u200Bto\uFEFF.png", "photo.png", "photo.png"},
		{"empty", "", "file", ""},
		{"dot", ".", "file", "."},
		{"dot dot", "..", "file", ".."},
		{"nul", "con\x00trol.png", "control.png", "control.png"},
		{"hidden file", ".bashrc", "bashrc", ".bashrc"},
		{"spaces", "  my   scan  01.TIF ", "my_scan_01.tif", "my scan 01.TIF"},
		{"unsafe extension", "a.p/g", "a.p_g", "a.p_g"},
		{"only an extension", ".jpg", "jpg", ".jpg"},
		{"invalid utf-8", "a\xFFb.pdf", "ab.pdf", "ab.pdf"},
		{"decomposed", "Cafe\u0301.txt", "Caf-", "Café.txt"}, // safe checked by prefix below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			safe, display := upload.SafeName(tt.in)
			if tt.name == "decomposed" {
				if !strings.HasPrefix(safe, "Caf-") || !strings.HasSuffix(safe, ".txt") {
					t.Errorf("safe = %q", safe)
				}
			} else if safe != tt.safe {
				t.Errorf("SafeName(%q) safe = %q, want %q", tt.in, safe, tt.safe)
			}
			if display != tt.display {
				t.Errorf("SafeName(%q) display = %q, want %q", tt.in, display, tt.display)
			}
			checkSafe(t, tt.in, safe, display)
		})
	}

	t.Run("chinese", func(t *testing.T) {
		safe, display := upload.SafeName("石嘴山老照片 1958.jpg")
		if display != "石嘴山老照片 1958.jpg" || !regexp.MustCompile(`^1958-[0-9a-f]{10}\.jpg$`).MatchString(safe) {
			t.Errorf("got %q, %q", safe, display)
		}
		other, _ := upload.SafeName("石嘴山新照片 1958.jpg")
		if other == safe {
			t.Errorf("two Chinese names share the safe name %q", safe)
		}
		only, _ := upload.SafeName("贺兰山.png")
		if !regexp.MustCompile(`^u[0-9a-f]{10}\.png$`).MatchString(only) {
			t.Errorf("only Chinese: %q", only)
		}
	})
	t.Run("long", func(t *testing.T) {
		safe, display := upload.SafeName(strings.Repeat("a", 500) + ".jpeg")
		if len(safe) != 100 || !strings.HasSuffix(safe, ".jpeg") {
			t.Errorf("safe = %q (%d bytes)", safe, len(safe))
		}
		if utf8.RuneCountInString(display) != 200 {
			t.Errorf("display has %d characters", utf8.RuneCountInString(display))
		}
		safe, display = upload.SafeName(long)
		checkSafe(t, long, safe, display)
		if utf8.RuneCountInString(display) != 200 {
			t.Errorf("display has %d characters", utf8.RuneCountInString(display))
		}
	})
}

func checkSafe(t *testing.T, in, safe, display string) {
	t.Helper()
	if !safePattern.MatchString(safe) || len(safe) > 100 || safe == "." || safe == ".." {
		t.Errorf("SafeName(%q) safe = %q: not a safe storage name", in, safe)
	}
	if !utf8.ValidString(display) || utf8.RuneCountInString(display) > 200 {
		t.Errorf("SafeName(%q) display = %q: invalid or too long", in, display)
	}
	if strings.ContainsAny(display, "/\\\x00\u202E\u200B") || display != strings.TrimSpace(display) {
		t.Errorf("SafeName(%q) display = %q keeps a dangerous character or spaces", in, display)
	}
	for _, r := range display {
		if r < 0x20 || r == 0x7F {
			t.Errorf("SafeName(%q) display = %q keeps a control character", in, display)
		}
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", "a\\b.jpg", "\u202Egnp.exe", "石嘴山老照片 1958.jpg", "", ".", "..",
		"con\x00trol.png", strings.Repeat("x", 300), "\xFF\xFE", ". . .jpg", "-_-.-_-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		safe, display := upload.SafeName(in)
		checkSafe(t, in, safe, display)
		if again, _ := upload.SafeName(display); again != safe {
			t.Errorf("SafeName(%q) = %q, but SafeName of its display %q = %q", in, safe, display, again)
		}
	})
}
