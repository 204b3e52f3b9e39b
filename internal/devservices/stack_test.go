package devservices

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// syncBuffer is a log destination safe for the supervisor's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func redisStack(t *testing.T) (*Stack, *syncBuffer) {
	t.Helper()
	tools, err := FindTools("")
	if err != nil {
		if os.Getenv("CC_REQUIRE_SERVICES") != "" || os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := startSpecs(ctx, map[string]Spec{"redis": Redis(tools.Redis, dir, port)}, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, logs
}

func ready(s *Stack, name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.specs[name].Ready(ctx) == nil
}

// TestStackRestartsAServiceThatDied: a service killed from outside (a crash, the OOM killer)
// is started again on its port and the log says so; one ended by Kill stays down.
func TestStackRestartsAServiceThatDied(t *testing.T) {
	s, logs := redisStack(t)
	first := s.Pid("redis")
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "restarted", func() bool { return s.Restarts("redis") == 1 && ready(s, "redis") })
	if pid := s.Pid("redis"); pid == 0 || pid == first {
		t.Fatalf("pid after the restart = %d (was %d)", pid, first)
	}
	for _, want := range []string{"a service died", "a service was started again", "service=redis"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}

	s.Kill("redis")
	// The stack's only service is redis, so once its watcher has ended nothing is left that
	// could start it again: the check below is final, not a guess at how long to wait.
	watched := make(chan struct{})
	go func() {
		s.watchers.Wait()
		close(watched)
	}()
	testwait.Until(t, "the killed service's watcher ends", func() bool {
		select {
		case <-watched:
			return true
		default:
			return false
		}
	})
	if s.Restarts("redis") != 1 || s.Pid("redis") != 0 || ready(s, "redis") {
		t.Fatalf("a killed service came back: restarts %d, pid %d", s.Restarts("redis"), s.Pid("redis"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx, "redis"); err != nil {
		t.Fatal(err)
	}
	if !ready(s, "redis") {
		t.Fatal("not ready after Start")
	}
}

// TestStartQuotesTheLog: a service that cannot start fails with the end of its log.
func TestStartQuotesTheLog(t *testing.T) {
	tools, err := FindTools("")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	spec := Redis(tools.Redis, dir, 1) // port 1 needs privileges a test does not have, or is refused
	spec.Args = append(spec.Args, "--no-such-option", "yes")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = Start(ctx, spec)
	if err == nil {
		t.Fatal("a redis-server with an unknown option started")
	}
	if !strings.Contains(err.Error(), "end of "+filepath.Join(dir, "redis.log")) || !strings.Contains(err.Error(), "no-such-option") {
		t.Fatalf("error does not quote the log: %v", err)
	}
}
