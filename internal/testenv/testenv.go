// Package testenv gives tests real Redis, MinIO and Meilisearch servers, started on free
// loopback ports in temporary folders and stopped when the test binary ends. Each test gets
// its own bucket, index prefix and Redis key prefix, so tests never share state.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/devservices"
)

const (
	minioUser = "testuser"
	minioPass = "testpassword-0123"
	meiliKey  = "test-master-key-0123456789abcdef"
)

var (
	shared     *devservices.Stack
	sharedDir  string
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs the tests and then stops the shared services.
func Main(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	if sharedDir != "" {
		_ = os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// required says whether a missing service binary fails the test (make test, CI) or skips it.
func required() bool {
	return os.Getenv("CC_REQUIRE_SERVICES") != "" || os.Getenv("CI") != ""
}

// NewStack starts a private set of services for a test that stops or restarts them.
func NewStack(t testing.TB) *devservices.Stack {
	t.Helper()
	dir := t.TempDir()
	s, err := startStack(dir)
	if err != nil {
		Unavailable(t, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// startAttempts is how often a stack is tried on new ports before a test fails: on a loaded
// machine a port found free can be taken before the service binds it.
const startAttempts = 3

func startStack(dir string) (*devservices.Stack, error) {
	tools, err := devservices.FindTools("")
	if err != nil {
		return nil, err
	}
	// Restarts of a service that died are logged to stderr, which go test shows when the
	// package fails.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var errs []error
	for attempt := range startAttempts {
		ports := make([]int, 4)
		for i := range ports {
			if ports[i], err = devservices.FreePort(); err != nil {
				return nil, err
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		s, err := devservices.StartStack(ctx, tools, devservices.StackOptions{
			Dir: filepath.Join(dir, strconv.Itoa(attempt)), RedisPort: ports[0], MinIOPort: ports[1],
			MinIOConsolePort: ports[2], MeilisearchPort: ports[3],
			MinIOUser: minioUser, MinIOPassword: minioPass, MeiliMasterKey: meiliKey, Log: log,
		})
		cancel()
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt+1, err))
	}
	return nil, errors.Join(errs...)
}

// Unavailable fails the test under make test and CI, and skips it elsewhere.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if required() {
		t.Fatalf("real services could not be started: %v", err)
	}
	t.Skipf("real services not available (run make test): %v", err)
}

// Shared returns the services shared by the tests of this binary, starting them once.
func Shared(t testing.TB) *devservices.Stack {
	t.Helper()
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "cc-test-*")
		if sharedErr == nil {
			shared, sharedErr = startStack(sharedDir)
		}
	})
	if sharedErr != nil {
		Unavailable(t, sharedErr)
	}
	return shared
}

// Config returns a valid configuration pointing at stack, with a bucket, index prefix and
// key prefix of the test's own. The HTTP server listens on a free port.
func Config(t testing.TB, stack *devservices.Stack) *config.Config {
	t.Helper()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	id := uniqueID()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level = "warn"
	cfg.MinIO.Endpoint = stack.Addr("minio")
	cfg.MinIO.AccessKey = minioUser
	cfg.MinIO.SecretKey = minioPass
	cfg.MinIO.Bucket = "t-" + id
	// Generous bounds: with ffmpeg and -race on two cores a MinIO write can take seconds.
	// Outage tests do not wait on them: a stopped service refuses connections at once.
	cfg.MinIO.Timeout = 10 * time.Second
	cfg.Meilisearch.URL = "http://" + stack.Addr("meilisearch")
	cfg.Meilisearch.MasterKey = meiliKey
	cfg.Meilisearch.IndexPrefix = "t" + id + "_"
	cfg.Meilisearch.Timeout = 10 * time.Second
	cfg.Redis.Addr = stack.Addr("redis")
	cfg.Redis.KeyPrefix = "t" + id + ":"
	cfg.Redis.Timeout = time.Second
	cfg.Auth.SessionSecret = config.Secret(strings.Repeat("k", 32) + id)
	// Cheap hashing keeps -race runs quick; production cost is in configs/culturecloud.yaml.
	cfg.Auth.Argon2MemoryKiB = 8 * 1024
	cfg.Auth.Argon2Time = 1
	// Rollups and the popularity sync run often, so that tests see their effect.
	cfg.Library.MaintenanceEvery = 500 * time.Millisecond
	cfg.Library.TranscodePreset = "ultrafast"
	// Live media on free loopback ports, so that test binaries never share one.
	cfg.Live.UDPPort, cfg.Live.TCPPort, cfg.Live.ListenIP = 0, 0, "127.0.0.1"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the services' logs when the test failed:\n%s", stack.LogTails())
		}
	})
	return cfg
}

func uniqueID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// LogWriter sends server logs to the test log, so that they show only when a test fails.
func LogWriter(t testing.TB) io.Writer { return tlog{t} }

type tlog struct{ t testing.TB }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
