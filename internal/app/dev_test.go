package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/lockedio"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var runningAt = regexp.MustCompile(`is running at (http://\S+)`)

// startDev runs `culturecloud dev` as make run does, and returns its URL and a stop function
// that ends it as Ctrl-C would and waits for it.
func startDev(t *testing.T, env map[string]string) (string, func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedio.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- app.Run(ctx, []string{"dev"}, func(k string) string { return env[k] }, strings.NewReader(""), out, testenv.LogWriter(t))
	}()
	deadline := time.After(2 * time.Minute)
	for {
		if m := runningAt.FindStringSubmatch(out.String()); m != nil {
			stop := func() time.Duration {
				start := time.Now()
				cancel()
				select {
				case code := <-done:
					if code != 0 {
						t.Errorf("dev exited with %d; output:\n%s", code, out)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("dev did not stop within 30s")
				}
				return time.Since(start)
			}
			return m[1], stop
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("dev exited early with %d:\n%s", code, out)
		case <-deadline:
			cancel()
			t.Fatalf("dev did not print its URL within 2 minutes:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestDevModeRunsAndReusesData is `make run` twice: everything starts with demo data, a
// change survives a restart, and stopping ends every service it started.
func TestDevModeRunsAndReusesData(t *testing.T) {
	if _, err := devservices.FindTools(""); err != nil {
		testenv.Unavailable(t, err)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"CC_DATA_DIR": dataDir, "CC_HTTP_ADDR": "127.0.0.1:0", "CC_LOG_LEVEL": "warn",
		"CC_AUTH_ARGON2_MEMORY_KIB": "8192", "CC_AUTH_ARGON2_TIME": "1", "CC_LIVE_UDP_PORT": "0", "CC_LIVE_TCP_PORT": "0"}
	for _, k := range []string{"CC_DEV_REDIS_PORT", "CC_DEV_MINIO_PORT", "CC_DEV_MINIO_CONSOLE_PORT", "CC_DEV_MEILISEARCH_PORT"} {
		p, err := devservices.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		env[k] = strconv.Itoa(p)
	}

	url, stop := startDev(t, env)
	client := testenv.Client()
	resp, err := client.Post(url+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"name":"wang.dwk","password":"`+demo.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("demo librarian cannot log in: %d", resp.StatusCode)
	}
	resp, err = client.Post(url+"/api/v1/auth/register", "application/json",
		strings.NewReader(`{"name":"returning.visitor","display_name":"回访市民","password":"Helan-Rock-Art-9"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	// The demo library is there to be found.
	var found struct {
		Total int `json:"total"`
	}
	// The demo is indexed in the background; on a loaded machine that has taken over 30 s.
	searchable := func(what, path string, want int) {
		testwait.UntilState(t, what, func() (bool, string) {
			found.Total = 0
			all, err := client.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			_ = json.NewDecoder(all.Body).Decode(&found)
			all.Body.Close()
			return found.Total == want, fmt.Sprintf("%d searchable, want %d", found.Total, want)
		})
	}
	// Eight pictures, the demo exhibition's audio guide and 720° hall, and the three lesson
	// videos of the demo course.
	searchable("the demo library", "/api/v1/items", 13)
	searchable("the demo course", "/api/v1/courses", 1)
	searchable("the demo exhibition", "/api/v1/exhibitions?open_now=true", 1)
	var upcoming struct {
		Lectures []struct {
			Title string `json:"title"`
		} `json:"lectures"`
	}
	resp, err = client.Get(url + "/api/v1/lectures")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&upcoming)
	resp.Body.Close()
	if len(upcoming.Lectures) != 3 {
		t.Fatalf("demo lectures: %d upcoming, want 3", len(upcoming.Lectures))
	}
	if took := stop(); took > 15*time.Second {
		t.Fatalf("stopping took %v, want at most 15s", took)
	}
	if out, err := exec.Command("pgrep", "-f", dataDir).Output(); err == nil {
		t.Fatalf("processes left running after stop:\n%s", out)
	}

	url, stop = startDev(t, env)
	defer stop()
	resp, err = client.Post(url+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"name":"returning.visitor","password":"Helan-Rock-Art-9"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the account made in the first run is gone after a restart: %d", resp.StatusCode)
	}
}
