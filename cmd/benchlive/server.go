package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/lockedio"
)

// ownServer is `culturecloud dev` started by the harness: Redis, MinIO and Meilisearch as
// its children, the server (and so the SFU) in the process itself.
type ownServer struct {
	cmd  *exec.Cmd
	pid  int
	url  string
	out  *lockedio.Buffer
	done chan struct{}
	err  error // set before done is closed
}

// moduleRoot finds the folder of this module's go.mod at or above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.Contains(data, []byte("module github.com/shizuishan/culturecloud\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no culturecloud go.mod at or above %s: run from the repository or pass -server-bin", dir)
		}
	}
}

// buildServer builds cmd/culturecloud into dir.
func buildServer(ctx context.Context, root, dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("go not found in PATH (or pass -server-bin)")
	}
	bin := filepath.Join(dir, "culturecloud")
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/culturecloud")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/culturecloud: %w\n%s", err, out)
	}
	return bin, nil
}

var runningAt = regexp.MustCompile(`is running at (http://\S+)`)

// startOwnServer runs `culturecloud dev` on free ports with its data in dir, pinned to CPU
// 0 with taskset when pin is set. Demo data is off: loading it transcodes three lesson videos
// in the background, which would land in the measurement. The administrator is made at start
// instead (bootstrap_admin "admin" with the demo password).
func startOwnServer(ctx context.Context, bin, root, dir string, pin bool, logf func(string, ...any)) (*ownServer, error) {
	env := map[string]string{
		"CC_DATA_DIR":                      filepath.Join(dir, "data"),
		"CC_HTTP_ADDR":                     "127.0.0.1:0",
		"CC_LOG_LEVEL":                     "warn",
		"CC_DEV_DEMO_DATA":                 "false",
		"CC_AUTH_BOOTSTRAP_ADMIN":          adminName,
		"CC_AUTH_BOOTSTRAP_ADMIN_PASSWORD": demo.Password,
		// Cheap password hashing: one login, and no 64 MiB argon2 buffer in the baseline RSS.
		"CC_AUTH_ARGON2_MEMORY_KIB": "8192",
		"CC_AUTH_ARGON2_TIME":       "1",
		"CC_LIVE_UDP_PORT":          "0",
		"CC_LIVE_TCP_PORT":          "0",
		"CC_LIVE_LISTEN_IP":         "127.0.0.1",
		// If the harness dies, so does the server (and with it its services).
		"CC_EXIT_WITH_PARENT": "1",
	}
	for _, k := range []string{"CC_DEV_REDIS_PORT", "CC_DEV_MINIO_PORT", "CC_DEV_MINIO_CONSOLE_PORT", "CC_DEV_MEILISEARCH_PORT"} {
		p, err := devservices.FreePort()
		if err != nil {
			return nil, err
		}
		env[k] = strconv.Itoa(p)
	}
	var environ []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "CC_") || k == "CC_TOOLS_DIR" {
			environ = append(environ, kv)
		}
	}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	args := []string{bin, "dev"}
	if pin {
		// taskset execs the server: its pid is the server's.
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	// Not ended by ctx: stop ends it gracefully, so that it stops its services.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), args[0], args[1:]...)
	cmd.Dir = root
	cmd.Env = environ
	s := &ownServer{cmd: cmd, out: &lockedio.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", strings.Join(args, " "), err)
	}
	s.pid = cmd.Process.Pid
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	deadline := time.NewTimer(3 * time.Minute)
	defer deadline.Stop()
	for {
		if m := runningAt.FindStringSubmatch(s.out.String()); m != nil {
			s.url = m[1]
			logf("culturecloud dev (pid %d) serving at %s", s.pid, s.url)
			return s, nil
		}
		select {
		case <-s.done:
			err := s.err
			if err == nil {
				err = errors.New("exit status 0")
			}
			return nil, fmt.Errorf("culturecloud dev exited early (%w):\n%s", err, s.out.Tail(30))
		case <-deadline.C:
			s.stop(logf)
			return nil, fmt.Errorf("culturecloud dev did not print its URL within 3 minutes:\n%s", s.out.Tail(30))
		case <-ctx.Done():
			s.stop(logf)
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends the server as Ctrl-C would (it stops its services), by its pid; SIGKILL after
// 30 s.
func (s *ownServer) stop(logf func(string, ...any)) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		logf("culturecloud dev (pid %d) did not stop within 30s: killing it", s.pid)
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// ---- the lecture ------------------------------------------------------------------------

const (
	adminName    = "admin"
	lecturerName = "bench.lecturer"
	lecturerPass = "Bench-Lecturer-2026"
	lectureUnit  = "szs-culture-centre"
)

// apiClient is a signed-in API client: the session cookie and its CSRF token.
type apiClient struct {
	base string
	http *http.Client
	csrf string
}

func (c *apiClient) do(ctx context.Context, method, path string, body any, want ...int) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(out)))
}

// lecture is what the harness needs to publish and watch.
type lecture struct {
	whip, whep, key string
}

// createLecture signs in as the administrator, makes a lecturer account (the lecturer of a
// lecture must be staff of a unit), and creates a public lecture starting now. Its stream
// key is in the answer, shown this once.
func createLecture(ctx context.Context, base string) (lecture, error) {
	jar, _ := cookiejar.New(nil)
	c := &apiClient{base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	out, err := c.do(ctx, http.MethodPost, "/api/v1/auth/login", map[string]string{"name": adminName, "password": demo.Password}, http.StatusOK)
	if err != nil {
		return lecture{}, fmt.Errorf("sign in as %s: %w", adminName, err)
	}
	var session struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(out, &session); err != nil || session.CSRF == "" {
		return lecture{}, fmt.Errorf("sign in: no CSRF token in %s", out)
	}
	c.csrf = session.CSRF
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/accounts", map[string]string{"name": lecturerName,
		"display_name": "基准测试讲师", "password": lecturerPass, "role": "lecturer", "unit": lectureUnit},
		http.StatusCreated, http.StatusConflict); err != nil {
		return lecture{}, fmt.Errorf("lecturer account: %w", err)
	}
	out, err = c.do(ctx, http.MethodPost, "/api/v1/lectures", map[string]any{
		"title": "直播分发基准测试", "lecturer": map[string]string{"account": lecturerName}, "unit": lectureUnit,
		"start": time.Now().UTC().Format(time.RFC3339), "duration_minutes": 120, "visibility": "public",
		"description": "cmd/benchlive",
	}, http.StatusCreated)
	if err != nil {
		return lecture{}, fmt.Errorf("create lecture: %w", err)
	}
	var l struct {
		ID        string `json:"id"`
		StreamKey string `json:"stream_key"`
		WHIP      string `json:"whip_url"`
		WHEP      string `json:"whep_url"`
	}
	if err := json.Unmarshal(out, &l); err != nil {
		return lecture{}, err
	}
	if l.StreamKey == "" || l.WHIP == "" || l.WHEP == "" {
		return lecture{}, fmt.Errorf("create lecture: no stream key or URLs in %s", out)
	}
	return lecture{whip: base + l.WHIP, whep: base + l.WHEP, key: l.StreamKey}, nil
}

// ---- server counters --------------------------------------------------------------------

// Counters of our SFU on /metrics (internal/live/metrics.go).
const (
	metricForwarded = "culturecloud_sfu_packets_forwarded_total"
	metricDropped   = "culturecloud_sfu_packets_dropped_total"
	metricViewers   = "culturecloud_sfu_viewers"
	metricSlowEnded = "culturecloud_sfu_slow_viewers_ended_total"
)

// scrapeMetrics reads the named counters from a Prometheus text endpoint.
func scrapeMetrics(ctx context.Context, endpoint string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", endpoint, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		for _, n := range names {
			if name == n {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err == nil {
					out[n] = v
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("%s has no %s", endpoint, n)
		}
	}
	return out, nil
}
