package app_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// envOf turns a configuration into the CC_* variables that would produce it.
func envOf(cfg *config.Config) map[string]string {
	return map[string]string{
		"CC_MINIO_ENDPOINT": cfg.MinIO.Endpoint, "CC_MINIO_ACCESS_KEY": cfg.MinIO.AccessKey,
		"CC_MINIO_SECRET_KEY": cfg.MinIO.SecretKey.Reveal(), "CC_MINIO_BUCKET": cfg.MinIO.Bucket,
		"CC_MEILISEARCH_URL": cfg.Meilisearch.URL, "CC_MEILISEARCH_MASTER_KEY": cfg.Meilisearch.MasterKey.Reveal(),
		"CC_MEILISEARCH_INDEX_PREFIX": cfg.Meilisearch.IndexPrefix, "CC_REDIS_ADDR": cfg.Redis.Addr,
		"CC_REDIS_KEY_PREFIX": cfg.Redis.KeyPrefix, "CC_AUTH_SESSION_SECRET": cfg.Auth.SessionSecret.Reveal(),
		"CC_AUTH_ARGON2_MEMORY_KIB": strconv.Itoa(cfg.Auth.Argon2MemoryKiB), "CC_AUTH_ARGON2_TIME": "1",
		"CC_LOG_LEVEL": "warn",
	}
}

func TestAdminCreateCommand(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	env := envOf(cfg)
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := app.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	tests := []struct {
		name     string
		password string
		args     []string
		code     int
		says     string
	}{
		{"no name", "Helan-Shan-2026", []string{"admin", "create"}, 1, "--name is required"},
		{"no password", "", []string{"admin", "create", "--name", "root"}, 1, "no password"},
		{"weak password", "1234567890", []string{"admin", "create", "--name", "root"}, 1, "common_password"},
		{"created", "Helan-Shan-2026", []string{"admin", "create", "--name", "root"}, 0, "administrator root created"},
		{"exists", "Helan-Shan-2026", []string{"admin", "create", "--name", "root"}, 1, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env["CC_NEW_ADMIN_PASSWORD"] = tt.password
			code, out := run(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.says) {
				t.Fatalf("exit %d, output %q; want exit %d saying %q", code, out, tt.code, tt.says)
			}
		})
	}
	// The new administrator can sign in.
	cfg.Auth.BootstrapAdmin = ""
	srv := testenv.StartServer(t, cfg)
	resp, err := testenv.Client().Post(srv.URL+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"name":"root","password":"Helan-Shan-2026"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("root cannot sign in: %d", resp.StatusCode)
	}
}

func TestInvalidSettingStopsStartup(t *testing.T) {
	var out bytes.Buffer
	env := map[string]string{"CC_HTTP_ADDR": "not-an-address", "CC_MINIO_SECRET_KEY": "minio-secret-1",
		"CC_MEILISEARCH_MASTER_KEY": "meili-master-key-0123456789", "CC_AUTH_SESSION_SECRET": strings.Repeat("s", 32)}
	code := app.Run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "CC_HTTP_ADDR") || !strings.Contains(lines[0], "not-an-address") {
		t.Fatalf("exit %d, output %q: want one line naming the key and value", code, out.String())
	}
}

// TestShutdownFinishesInFlightRequests sends half a request on a raw connection, stops the
// server, sends the rest, and wants the request answered rather than cut off. The request asks
// for "100 Continue", which the server sends once the handler starts reading the body: the
// signal that the request is in flight.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"admin","password":"` + testenv.AdminPassword + `"}`
	head := "POST /api/v1/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
		"Expect: 100-continue\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	answers := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(answers, nil); err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("the handler did not start reading the body: %v %v", resp, err)
	}
	if _, err := conn.Write([]byte(body[:10])); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		srv.Stop(t)
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("the server stopped while a request was still in flight")
	case <-time.After(500 * time.Millisecond):
	}
	if _, err := conn.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(answers, nil)
	if err != nil {
		t.Fatalf("in-flight request was cut off: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight login answered %d", resp.StatusCode)
	}
	<-stopped
}
