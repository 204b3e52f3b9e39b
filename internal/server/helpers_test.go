package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// client is a browser-like API client: a cookie jar and the session's CSRF token.
type client struct {
	t      testing.TB
	base   string
	http   *http.Client
	csrf   string
	bearer string
	lang   string
	// reviewer approves what this client submits (先审后发 needs a second person).
	reviewer *client
	// malformed: the test sends broken requests on purpose, so only the answers are held
	// against /api/openapi.json.
	malformed bool
}

func newClient(t testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	hc := testenv.Client()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, base: base, http: hc}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r reply) problem(t testing.TB) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p map[string]any
	r.json(t, &p)
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := p[k]; !ok {
			t.Fatalf("problem lacks %q: %s", k, r.body)
		}
	}
	return p
}

func (c *client) do(method, path string, body any, headers ...string) reply {
	c.t.Helper()
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
	case []byte:
		sent = b
	default:
		sent, _ = json.Marshal(b)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" { // Go's client sends req.Host, not a Host header
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	checkContract(c.t, req, sent, c.malformed, resp.StatusCode, resp.Header, data)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

func (c *client) want(status int, method, path string, body any, headers ...string) reply {
	c.t.Helper()
	r := c.do(method, path, body, headers...)
	if r.status != status {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
	return r
}

func (c *client) login(name, password string) {
	c.t.Helper()
	r := c.want(http.StatusOK, "POST", "/api/v1/auth/login", map[string]string{"name": name, "password": password})
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	r.json(c.t, &s)
	if s.CSRF == "" {
		c.t.Fatal("login gave no csrf token")
	}
	c.csrf = s.CSRF
}

func startServer(t *testing.T) *testenv.Server {
	t.Helper()
	stack := testenv.Shared(t)
	return testenv.StartServer(t, testenv.Config(t, stack))
}
