// Package testenv runs the whole product for tests: its configuration pointed at real
// services (internal/testservices) and its HTTP server. Each test gets its own bucket, index
// prefix and Redis key prefix, so tests never share state.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/testservices"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/storage"
)

// Main runs the tests and then stops the shared services.
func Main(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	testservices.Main(m)
}

// NewStack starts a private set of services for a test that stops or restarts them.
func NewStack(t testing.TB) *devservices.Stack { t.Helper(); return testservices.NewStack(t) }

// Unavailable fails the test under make test and CI, and skips it elsewhere.
func Unavailable(t testing.TB, err error) { t.Helper(); testservices.Unavailable(t, err) }

// Shared returns the services shared by the tests of this binary, starting them once.
func Shared(t testing.TB) *devservices.Stack { t.Helper(); return testservices.Shared(t) }

// Config returns a valid configuration pointing at stack, with a bucket, index prefix and
// key prefix of the test's own. The HTTP server listens on a free port.
func Config(t testing.TB, stack *devservices.Stack) *config.Config {
	t.Helper()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	svc := testservices.For(t, stack)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level = "warn"
	cfg.MinIO.Endpoint = svc.MinIOEndpoint
	cfg.MinIO.AccessKey = testservices.MinIOUser
	cfg.MinIO.SecretKey = testservices.MinIOPassword
	cfg.MinIO.Bucket = svc.Bucket
	// Generous bounds: with ffmpeg and -race on two cores a MinIO write can take seconds.
	// Outage tests do not wait on them: a stopped service refuses connections at once.
	cfg.MinIO.Timeout = 10 * time.Second
	cfg.Meilisearch.URL = svc.MeiliURL
	cfg.Meilisearch.MasterKey = testservices.MeiliKey
	cfg.Meilisearch.IndexPrefix = svc.IndexPrefix
	cfg.Meilisearch.Timeout = 10 * time.Second
	cfg.Redis.Addr = svc.RedisAddr
	cfg.Redis.KeyPrefix = svc.KeyPrefix
	cfg.Redis.Timeout = time.Second
	cfg.Auth.SessionSecret = config.Secret(strings.Repeat("k", 32) + svc.ID)
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
	return cfg
}

// LogWriter sends server logs to the test log, so that they show only when a test fails.
func LogWriter(t testing.TB) io.Writer { return tlog{t} }

type tlog struct{ t testing.TB }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Docs connects to cfg's MinIO as the product's record store and sets its bucket up.
func Docs(t testing.TB, cfg *config.Config) *docstore.Store {
	t.Helper()
	docs, err := docstore.Connect(docstore.Options{Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey,
		SecretKey: cfg.MinIO.SecretKey.Reveal(), Bucket: cfg.MinIO.Bucket, Timeout: cfg.MinIO.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	SetupDocs(t, docs)
	return docs
}

// SetupDocs runs Setup, waiting out MinIO's start-up: its health endpoints, which the stack
// waits for, answer 200 while the S3 API may still say "Server not initialized yet" for a
// moment (longer on a loaded machine).
func SetupDocs(t testing.TB, docs *docstore.Store) {
	t.Helper()
	testwait.UntilState(t, "the record store set up", func() (bool, string) {
		err := docs.Setup(t.Context())
		return err == nil, fmt.Sprint(err)
	})
}

// Objects reaches the bucket of cfg directly, for tests that look at (or damage) what the
// product stored.
func Objects(t testing.TB, cfg *config.Config) *storage.Store {
	t.Helper()
	objects, err := storage.Connect(storage.Options{Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey,
		SecretKey: cfg.MinIO.SecretKey.Reveal(), Bucket: cfg.MinIO.Bucket, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return objects.Long()
}
