package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"sync"
	"time"
)

// apiClient talks to the product's JSON API as the admin, with a personal access token.
type apiClient struct {
	base  string
	http  *http.Client
	token string
	// reviewer approves what this client submits.
	reviewer *apiClient
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Transport: newTransport(64), Timeout: 5 * time.Minute}}
}

// statusError is an answer with an unexpected status.
type statusError struct {
	method, path string
	code         int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.method, e.path, e.code, e.body)
}

// do sends body as JSON (when not nil) and decodes a JSON answer into out (when not nil).
// want is the expected status.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any, want int, header ...string) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return &statusError{method: method, path: path, code: resp.StatusCode, body: string(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// waitReady polls /readyz until the product says its dependencies are ready.
func (c *apiClient) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := c.do(ctx, http.MethodGet, "/readyz", nil, nil, http.StatusOK)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("product not ready: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// signIn logs in with a cookie session and trades it for a personal access token, which
// needs no CSRF header afterwards.
func (c *apiClient) signIn(ctx context.Context, name, password string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	session := &apiClient{base: c.base, http: &http.Client{Jar: jar, Timeout: time.Minute}}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	if err := session.do(ctx, http.MethodPost, "/api/v1/auth/login", map[string]string{"name": name, "password": password},
		&login, http.StatusOK); err != nil {
		return err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := session.do(ctx, http.MethodPost, "/api/v1/me/tokens", map[string]any{"label": "bench", "expires_in_days": 1},
		&tok, http.StatusCreated, "X-CSRF-Token", login.CSRF); err != nil {
		return err
	}
	if tok.Token == "" {
		return errors.New("no token in the answer to POST /api/v1/me/tokens")
	}
	c.token = tok.Token
	return nil
}

type item struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Status  string `json:"status"`
}

// createItem makes a draft item of the city library.
func (c *apiClient) createItem(ctx context.Context, title string) (item, error) {
	var it item
	err := c.do(ctx, http.MethodPost, "/api/v1/items", map[string]any{
		"title": title, "type": "StillImage", "theme": "history", "unit": "szs-library", "licence": "cc-by-4.0",
		"description": "性能测试条目：" + title, "language": "zh",
	}, &it, http.StatusCreated)
	return it, err
}

// publish submits a draft for review and has the reviewer approve it.
func (c *apiClient) publish(ctx context.Context, it item) (item, error) {
	steps := []struct {
		by   *apiClient
		path string
		body map[string]string
	}{{c, "/status", map[string]string{"status": "in_review"}}, {c.reviewer, "/review", map[string]string{"decision": "approve"}}}
	for _, st := range steps {
		var next item
		if err := st.by.do(ctx, http.MethodPost, "/api/v1/items/"+it.ID+st.path, st.body,
			&next, http.StatusOK, "If-Match", strconv.Quote(it.Version)); err != nil {
			return it, err
		}
		it = next
	}
	return it, nil
}

// addReviewer creates a librarian of the city, who approves what the benchmark submits
// (先审后发 needs a second person).
func (c *apiClient) addReviewer(ctx context.Context) error {
	const name, password = "bench.reviewer", "Bench-Reviewer-Passw0rd"
	if err := c.do(ctx, http.MethodPost, "/api/v1/accounts", map[string]string{"name": name, "display_name": "性能测试审核员",
		"password": password, "role": "librarian", "unit": "szs"}, nil, http.StatusCreated); err != nil {
		return err
	}
	c.reviewer = newAPIClient(c.base)
	return c.reviewer.signIn(ctx, name, password)
}

// publishedItems creates and publishes n items, eight at a time.
func (c *apiClient) publishedItems(ctx context.Context, n int) ([]item, error) {
	items := make([]item, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(8, n) {
		wg.Go(func() {
			for i := range next {
				it, err := c.createItem(ctx, fmt.Sprintf("浏览计数测试 %d", i+1))
				if err == nil {
					it, err = c.publish(ctx, it)
				}
				items[i], errs[i] = it, err
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return items, errors.Join(errs...)
}
