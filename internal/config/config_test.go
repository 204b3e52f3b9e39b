package config

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/shizuishan/culturecloud/configs"
)

func validEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"CC_MINIO_SECRET_KEY":       "minio-secret-1",
		"CC_MEILISEARCH_MASTER_KEY": "meili-master-key-0123456789",
		"CC_AUTH_SESSION_SECRET":    strings.Repeat("s", 32),
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestDefaultsFileNamesEverySetting(t *testing.T) {
	var tree map[string]any
	if err := yaml.Unmarshal(configs.Defaults, &tree); err != nil {
		t.Fatal(err)
	}
	for _, key := range Keys() {
		node := any(tree)
		for _, part := range strings.Split(key, ".") {
			m, ok := node.(map[string]any)
			if !ok {
				t.Fatalf("%s: parent is not a mapping", key)
			}
			if node, ok = m[part]; !ok {
				t.Errorf("configs/culturecloud.yaml lacks %s", key)
				break
			}
		}
	}
	// Every key needs a comment: the line above it starts with '#'.
	lines := strings.Split(string(configs.Defaults), "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if i == 0 || trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasSuffix(trimmed, ":") {
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf("line %d %q has no comment above it", i+1, trimmed)
		}
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	c, err := Load("", validEnv(map[string]string{
		"CC_HTTP_ADDR":         "127.0.0.1:9999",
		"CC_REDIS_DB":          "3",
		"CC_MINIO_USE_TLS":     "true",
		"CC_AUTH_LOGIN_WINDOW": "2m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:9999" || c.Redis.DB != 3 || !c.MinIO.UseTLS || c.Auth.LoginWindow.Minutes() != 2 {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.Redis.KeyPrefix != "cc:" {
		t.Fatalf("default lost: key_prefix = %q", c.Redis.KeyPrefix)
	}
}

func TestInvalidValuesNameKeyValueAndAllowed(t *testing.T) {
	tests := []struct {
		env     string
		value   string
		wantKey string
	}{
		{"CC_HTTP_ADDR", "nonsense", "http.addr"},
		{"CC_HTTP_READ_TIMEOUT", "soon", "http.read_timeout"},
		{"CC_HTTP_READ_TIMEOUT", "1ms", "http.read_timeout"},
		{"CC_REDIS_DB", "sixteen", "redis.db"},
		{"CC_REDIS_DB", "16", "redis.db"},
		{"CC_MINIO_USE_TLS", "maybe", "minio.use_tls"},
		{"CC_LOG_LEVEL", "loud", "log.level"},
		{"CC_MEILISEARCH_URL", "ftp://x", "meilisearch.url"},
		{"CC_MINIO_BUCKET", "Bad_Bucket", "minio.bucket"},
		{"CC_HTTP_COOKIE_SECURE", "yes", "http.cookie_secure"},
		{"CC_HTTP_TRUSTED_PROXIES", "10.0.0.0/33", "http.trusted_proxies"},
		{"CC_AUTH_SESSION_SECRET", "short", "auth.session_secret"},
		{"CC_LIVE_ALLOWED_ORIGINS", "https://www.example.org/", "live.allowed_origins"},
		{"CC_LIVE_ALLOWED_ORIGINS", "https://a.example.org,*", "live.allowed_origins"},
		{"CC_LIVE_ALLOWED_ORIGINS", "www.example.org", "live.allowed_origins"},
		{"CC_LIVE_EMBED_ORIGINS", "https://www.example.org/page", "live.embed_origins"},
		{"CC_LIVE_EMBED_ORIGINS", "https://WWW.example.org", "live.embed_origins"},
		{"CC_LIVE_ENDED_SESSION_MEMORY", "-1s", "live.ended_session_memory"},
		{"CC_LIVE_ENDED_SESSIONS_MAX", "-1", "live.ended_sessions_max"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			c, err := Load("", validEnv(map[string]string{tt.env: tt.value}))
			if err == nil {
				err = c.Validate()
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("want InvalidError, got %v", err)
			}
			if inv.Key != tt.wantKey {
				t.Fatalf("key = %s, want %s", inv.Key, tt.wantKey)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.env) || inv.Allowed == "" {
				t.Fatalf("message should be one line naming %s and what is allowed: %q", tt.env, msg)
			}
			if strings.Contains(tt.env, "SECRET") && strings.Contains(msg, tt.value) {
				t.Fatalf("secret value leaked into %q", msg)
			}
		})
	}
}

func TestMissingSecretsAreRefused(t *testing.T) {
	c, err := Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("want an error about a missing secret, got %v", err)
	}
}

func TestFileOverlayRejectsUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	empty := filepath.Join(dir, "empty.yaml")
	must(t, os.WriteFile(good, []byte("http:\n  addr: 127.0.0.1:7000\n"), 0o600))
	must(t, os.WriteFile(bad, []byte("http:\n  listen: 127.0.0.1:7000\n"), 0o600))
	must(t, os.WriteFile(empty, nil, 0o600))
	c, err := Load(good, validEnv(nil))
	if err != nil || c.HTTP.Addr != "127.0.0.1:7000" {
		t.Fatalf("good file: %v %v", err, c)
	}
	if _, err := Load(bad, validEnv(nil)); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("unknown key should be named, got %v", err)
	}
	if _, err := Load(empty, validEnv(nil)); err != nil {
		t.Fatalf("empty file: %v", err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	s := Secret("hunter2-hunter2")
	for _, out := range []string{s.String(), hidden(s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	b, _ := s.MarshalJSON()
	if strings.Contains(string(b), "hunter2") {
		t.Fatal("secret in JSON")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSecretsNeverReachLogs(t *testing.T) {
	c, err := Load("", validEnv(map[string]string{"CC_REDIS_PASSWORD": "redis-password-9"}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c, "minio", c.MinIO, "key", c.Meilisearch.MasterKey)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "config", c, "auth", c.Auth)
	for _, secret := range []string{"minio-secret-1", "meili-master-key-0123456789", strings.Repeat("s", 32), "redis-password-9"} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("a secret reached the log:\n%s", buf.String())
		}
	}
}
