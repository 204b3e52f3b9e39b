package imageservice

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFinishedTiles: only whole JPEG files are stored before vips ends, and a tile whose file
// changed after it was stored is stored again.
func TestFinishedTiles(t *testing.T) {
	out := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	whole := []byte{0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9}
	write("0,0,512,512/512,512/0/default.jpg", whole)
	write("512,0,512,512/512,512/0/default.jpg", whole[:5]) // still being written
	write("info.json", []byte("{}"))
	got := finishedTiles(out, map[string]int64{})
	if len(got) != 1 || got["0,0,512,512/512,512/0/default.jpg"] != int64(len(whole)) {
		t.Fatalf("finished %v", got)
	}
	if again := finishedTiles(out, got); len(again) != 0 {
		t.Fatalf("taken twice: %v", again)
	}
	write("512,0,512,512/512,512/0/default.jpg", whole)
	all := []string{"0,0,512,512/512,512/0/default.jpg", "512,0,512,512/512,512/0/default.jpg"}
	if rest := unsent(out, all, got); !slices.Equal(rest, all[1:]) {
		t.Fatalf("unsent %v", rest)
	}
	write("0,0,512,512/512,512/0/default.jpg", append(whole, whole...)) // changed after it was stored
	if rest := unsent(out, all, got); !slices.Equal(rest, all) {
		t.Fatalf("unsent %v", rest)
	}
}
