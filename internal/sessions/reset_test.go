package sessions_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

// TestResetLinkWorksUntilForgotten: a link gives its account and epoch until it is forgotten;
// Redis keeps only a keyed hash of it; a used, unknown or expired link is refused.
func TestResetLinkWorksUntilForgotten(t *testing.T) {
	e := newEnv(t)
	resets := sessions.NewResets(e.rdb, e.prefix, []byte("reset-test-key-0123456789abcdef"), time.Hour)
	secret, err := resets.Issue(t.Context(), "wangxiulan", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range e.keys(t) {
		if strings.Contains(k, secret) {
			t.Fatalf("redis key %q holds the secret", k)
		}
		if v, _ := e.rdb.Get(t.Context(), k).Result(); strings.Contains(v, secret) {
			t.Fatalf("redis value of %q holds the secret", k)
		}
	}
	for range 2 {
		name, epoch, err := resets.Find(t.Context(), secret)
		if err != nil || name != "wangxiulan" || epoch != 3 {
			t.Fatalf("Find = %q, %d, %v", name, epoch, err)
		}
	}
	if err := resets.Forget(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	short := sessions.NewResets(e.rdb, e.prefix, []byte("reset-test-key-0123456789abcdef"), time.Millisecond)
	expired, err := short.Issue(t.Context(), "wangxiulan", 3)
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "Redis drops the expired reset link", func() bool {
		n, _ := e.rdb.Exists(t.Context(), e.keys(t)...).Result()
		return n == 0
	})
	tests := []struct{ name, secret string }{
		{"used", secret},
		{"expired", expired},
		{"unknown", "not-a-link"},
		{"empty", ""},
		{"too long", strings.Repeat("a", 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := resets.Find(t.Context(), tt.secret); !errors.Is(err, sessions.ErrResetInvalid) {
				t.Fatalf("Find(%.20q) = %v, want ErrResetInvalid", tt.secret, err)
			}
		})
	}
}
