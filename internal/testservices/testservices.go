// Package testservices gives tests real Redis, MinIO and Meilisearch servers, started on free
// loopback ports in temporary folders and stopped when the test binary ends. Each test gets
// its own bucket, index prefix and Redis key prefix (For), so tests never share state.
//
// It is a leaf: it links none of the product, so the libraries under media/ and search/ test
// against the real services without it. Tests of the whole product use internal/testenv,
// which builds the product's configuration and server on top of this package.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { testservices.Main(m) }
package testservices

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

	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/storage"
)

// The credentials of the test services: they run on loopback, for one test binary.
const (
	MinIOUser     = "testuser"
	MinIOPassword = "testpassword-0123"
	MeiliKey      = "test-master-key-0123456789abcdef"
)

var (
	shared     *devservices.Stack
	sharedDir  string
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs the tests and then stops the shared services.
func Main(m *testing.M) {
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
			MinIOUser: MinIOUser, MinIOPassword: MinIOPassword, MeiliMasterKey: MeiliKey, Log: log,
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

// Services are where one test's share of the services is: its own bucket (not yet made),
// index prefix and key prefix on the stack's servers.
type Services struct {
	MinIOEndpoint string // host:port
	Bucket        string
	MeiliURL      string
	IndexPrefix   string
	RedisAddr     string
	KeyPrefix     string
	ID            string // the test's unique id, also in the names above
}

// For gives the test its share of stack; when the test fails, its log shows the end of each
// service's log.
func For(t testing.TB, stack *devservices.Stack) Services {
	t.Helper()
	id := uniqueID()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the services' logs when the test failed:\n%s", stack.LogTails())
		}
	})
	return Services{
		MinIOEndpoint: stack.Addr("minio"), Bucket: "t-" + id,
		MeiliURL: "http://" + stack.Addr("meilisearch"), IndexPrefix: "t" + id + "_",
		RedisAddr: stack.Addr("redis"), KeyPrefix: "t" + id + ":", ID: id,
	}
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

// Objects connects to the test's own bucket on the stack's MinIO, made and versioned as the
// product makes its bucket.
func Objects(tb testing.TB, svc Services) *storage.Store {
	tb.Helper()
	objects, err := storage.Connect(storage.Options{Endpoint: svc.MinIOEndpoint, AccessKey: MinIOUser,
		SecretKey: MinIOPassword, Bucket: svc.Bucket, Timeout: 30 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := objects.Setup(ctx); err != nil {
		tb.Fatalf("make the test's bucket: %v", err)
	}
	return objects
}
