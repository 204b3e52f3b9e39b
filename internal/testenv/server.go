package testenv

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/config"
)

// AdminName and AdminPassword are the bootstrap administrator of every test server.
const (
	AdminName     = "admin"
	AdminPassword = "Test-Root-Passw0rd"
)

// Server is the product serving on a free port for one test.
type Server struct {
	URL    string
	Config *config.Config
	stop   context.CancelFunc
	done   chan error
}

// StartServer runs the whole product (HTTP server and indexer) on cfg until the test ends.
func StartServer(t testing.TB, cfg *config.Config) *Server {
	t.Helper()
	return StartServerLog(t, cfg, LogWriter(t))
}

// StartServerLog is StartServer writing the product's log to w, for tests of what it logs.
func StartServerLog(t testing.TB, cfg *config.Config, w io.Writer) *Server {
	t.Helper()
	if cfg.Auth.BootstrapAdmin == "" {
		cfg.Auth.BootstrapAdmin = AdminName
		cfg.Auth.BootstrapAdminPassword = AdminPassword
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Config: cfg, stop: cancel, done: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		s.done <- app.Serve(ctx, cfg, w, func(url string) { urls <- url })
	}()
	select {
	case s.URL = <-urls:
	case err := <-s.done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start within 60s")
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop shuts the server down and waits for it (idempotent).
func (s *Server) Stop(t testing.TB) {
	s.stop()
	if s.done == nil {
		return
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server stopped with: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("server did not stop within 30s")
	}
	s.done = nil
}

// Client is an HTTP client with a timeout, so that no test hangs.
func Client() *http.Client { return &http.Client{Timeout: 15 * time.Second} }
