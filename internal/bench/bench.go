// Package bench measures the Shizuishan Memory library against the services it stands on:
// uploads against minio-go PutObject, search through the API against the same query sent
// straight to Meilisearch, and views recorded through the API against redis-benchmark. It
// starts its own Redis, MinIO and Meilisearch and the whole product on free loopback ports,
// measures each product figure in the same run as its baseline, and prints a Markdown table.
//
// Speed is measured, not asserted by a timer: Run reports figures and whether each meets its
// goal; it fails only when something does not work.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/lockedio"
	"github.com/shizuishan/culturecloud/storage"
)

// Options size the run. Zero values take the defaults of Defaults.
type Options struct {
	UploadMiB      int // size of the uploaded file, MiB
	Records        int // generated documents in the items index
	Queries        int // timed queries on each side (product and direct)
	ViewRequests   int // POST /api/v1/items/{id}/views requests
	ViewItems      int // published items the views are spread over
	ViewClients    int // concurrent clients, for the API and for redis-benchmark
	VideoSeconds   int // length of the generated 1080p clip for the transcoding row
	SegmentGets    int // HLS segment GETs on each side
	RedisRequests  int // redis-benchmark -n
	ToolsDir       string
	RedisBenchmark string // path of redis-benchmark; "" looks in PATH
}

// Defaults is the full run: about ten minutes on two cores.
func Defaults() Options {
	return Options{UploadMiB: 1024, Records: 100_000, Queries: 2000, ViewRequests: 20_000, ViewItems: 200,
		ViewClients: 50, RedisRequests: 200_000, VideoSeconds: 60, SegmentGets: 4000}
}

// Quick is a run of two or three minutes for a first look.
func Quick() Options {
	return Options{UploadMiB: 256, Records: 20_000, Queries: 500, ViewRequests: 5000, ViewItems: 50,
		ViewClients: 50, RedisRequests: 100_000, VideoSeconds: 10, SegmentGets: 1000}
}

func (o Options) withDefaults() Options {
	d := Defaults()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.UploadMiB, d.UploadMiB)
	set(&o.Records, d.Records)
	set(&o.Queries, d.Queries)
	set(&o.ViewRequests, d.ViewRequests)
	set(&o.ViewItems, d.ViewItems)
	set(&o.ViewClients, d.ViewClients)
	set(&o.RedisRequests, d.RedisRequests)
	set(&o.VideoSeconds, d.VideoSeconds)
	set(&o.SegmentGets, d.SegmentGets)
	if o.RedisBenchmark == "" {
		o.RedisBenchmark = "redis-benchmark"
	}
	return o
}

const (
	minioUser = "benchuser"
	minioPass = "bench-password-0123"
	meiliKey  = "bench-master-key-0123456789abcdef"
	adminName = "benchadmin"
	adminPass = "Bench-Root-Passw0rd"
)

// env is the running product and its services.
type env struct {
	cfg   *config.Config
	stack *devservices.Stack
	api   *apiClient
	dir   string
	log   func(format string, args ...any)
}

// Run starts the services and the product, measures, prints the table to stdout (progress
// goes to stderr) and stops everything again.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	o = o.withDefaults()
	start := time.Now()
	e, stop, err := startEnv(ctx, o.ToolsDir, stderr)
	if err != nil {
		return err
	}
	defer stop()
	logf := e.log
	logf("product serving at %s; publishing %d items for the view test", e.api.base, o.ViewItems)
	// Made first, so that their indexing and outbox work is long done when views are timed.
	items, err := e.api.publishedItems(ctx, o.ViewItems)
	if err != nil {
		return fmt.Errorf("prepare items: %w", err)
	}

	t := table{}
	uploadRows, err := measureUploads(ctx, e, o)
	if err != nil {
		return fmt.Errorf("uploads: %w", err)
	}
	t.rows = append(t.rows, uploadRows...)
	e.settle()
	searchRows, err := measureSearch(ctx, e, o)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	t.rows = append(t.rows, searchRows...)
	e.settle()
	indexRows, err := measureIndexing(ctx, e)
	if err != nil {
		return fmt.Errorf("indexing: %w", err)
	}
	t.rows = append(t.rows, indexRows...)
	e.settle()
	mediaRows, err := measureMedia(ctx, e, o)
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	t.rows = append(t.rows, mediaRows...)
	e.settle()
	viewRows, err := measureViews(ctx, e, o, items)
	if err != nil {
		return fmt.Errorf("views: %w", err)
	}
	t.rows = append(t.rows, viewRows...)

	t.caption = fmt.Sprintf("Measured %s on %s (%d CPUs); %d MiB upload, %d records, %d queries per side, %d view requests; run took %s.",
		time.Now().Format("2006-01-02 15:04"), hostName(), numCPU(), o.UploadMiB, o.Records, o.Queries, o.ViewRequests,
		time.Since(start).Round(time.Second))
	t.write(stdout)
	logf("stopping")
	return nil
}

// startEnv starts the services and the product on free loopback ports, signed in as the
// administrator with a reviewer beside him; stop stops everything again. Progress goes to stderr.
func startEnv(ctx context.Context, toolsDir string, stderr io.Writer) (e *env, stop func(), err error) {
	// The product's logger and this progress report write to stderr from different
	// goroutines; a caller's writer (a test's buffer) need not be safe for that.
	stderr = lockedio.NewWriter(stderr)
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	var stops []func()
	stop = func() {
		for _, f := range slices.Backward(stops) {
			f()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	tools, err := devservices.FindTools(toolsDir)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "cc-bench-*")
	if err != nil {
		return nil, nil, err
	}
	stops = append(stops, func() { _ = os.RemoveAll(dir) })

	logf("starting Redis, MinIO and Meilisearch in %s", dir)
	stack, err := startStack(ctx, tools, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("start services: %w", err)
	}
	stops = append(stops, stack.Stop)
	cfg, err := productConfig(stack)
	if err != nil {
		return nil, nil, err
	}

	srvCtx, stopServer := context.WithCancel(ctx)
	served := make(chan error, 1)
	urls := make(chan string, 1)
	go func() { served <- app.Serve(srvCtx, cfg, stderr, func(url string) { urls <- url }) }()
	stops = append(stops, func() {
		stopServer()
		if err := <-served; err != nil {
			logf("product stopped with: %v", err)
		}
	})
	var url string
	select {
	case url = <-urls:
	case err := <-served:
		served <- err // for the deferred wait
		return nil, nil, fmt.Errorf("product did not start: %w", err)
	case <-time.After(90 * time.Second):
		return nil, nil, errors.New("product did not start within 90s")
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	e = &env{cfg: cfg, stack: stack, dir: dir, log: logf, api: newAPIClient(url)}
	if err := e.api.waitReady(ctx); err != nil {
		return nil, nil, err
	}
	if err := e.api.signIn(ctx, adminName, adminPass); err != nil {
		return nil, nil, err
	}
	if err := e.api.addReviewer(ctx); err != nil {
		return nil, nil, err
	}
	return e, stop, nil
}

func startStack(ctx context.Context, tools devservices.Tools, dir string) (*devservices.Stack, error) {
	ports := make([]int, 4)
	for i := range ports {
		p, err := devservices.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return devservices.StartStack(ctx, tools, devservices.StackOptions{
		Dir: dir, RedisPort: ports[0], MinIOPort: ports[1], MinIOConsolePort: ports[2], MeilisearchPort: ports[3],
		MinIOUser: minioUser, MinIOPassword: minioPass, MeiliMasterKey: meiliKey,
	})
}

// productConfig is the shipped configuration (configs/culturecloud.yaml: timeouts, limits)
// pointed at the stack, with cheap password hashing and quiet logs.
func productConfig(stack *devservices.Stack) (*config.Config, error) {
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level = "warn"
	cfg.MinIO.Endpoint = stack.Addr("minio")
	cfg.MinIO.AccessKey = minioUser
	cfg.MinIO.SecretKey = minioPass
	cfg.MinIO.Bucket = "bench"
	cfg.Meilisearch.URL = "http://" + stack.Addr("meilisearch")
	cfg.Meilisearch.MasterKey = meiliKey
	cfg.Meilisearch.IndexPrefix = "bench_"
	cfg.Redis.Addr = stack.Addr("redis")
	cfg.Redis.KeyPrefix = "bench:"
	cfg.Auth.SessionSecret = config.Secret(strings.Repeat("b", 40))
	cfg.Auth.Argon2MemoryKiB = 8 * 1024
	cfg.Auth.Argon2Time = 1
	cfg.Auth.BootstrapAdmin = adminName
	cfg.Auth.BootstrapAdminPassword = adminPass
	// The views bench measures the counter's throughput from one machine: the per-IP and
	// site limits would measure the limiter instead.
	cfg.Views.MaxPerIP, cfg.Views.MaxNewVisitorsPerIP, cfg.Views.MaxGlobal = 1<<30, 1<<30, 1<<30
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// newTransport is a keep-alive transport without compression, as the product's own
// Meilisearch client uses, so that neither side pays for gzip.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DisableCompression:  true,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
}

// settle flushes the dirty pages that a section left behind (the uploads write GiBs through
// MinIO) before the next section starts, so that the kernel does not write them back during
// the next section's timings. (It does not prevent every stall: Meilisearch commits still
// took 1.7 s now and then, see the indexing rows.)
func (e *env) settle() {
	start := time.Now()
	syscall.Sync()
	if took := time.Since(start); took > 100*time.Millisecond {
		e.log("settle: writing back the previous section's data took %v", took.Round(time.Millisecond))
	}
}

// directStore reaches the product's bucket without the product, for the baselines: the
// storage adapter is minio-go with its errors mapped, nothing more. conns idle connections
// are kept (0: the driver's default).
func (e *env) directStore(conns int) (*storage.Store, error) {
	s, err := storage.Connect(storage.Options{Endpoint: e.cfg.MinIO.Endpoint, AccessKey: e.cfg.MinIO.AccessKey,
		SecretKey: e.cfg.MinIO.SecretKey.Reveal(), Bucket: e.cfg.MinIO.Bucket, UseTLS: e.cfg.MinIO.UseTLS, Connections: conns})
	if err != nil {
		return nil, err
	}
	return s.Long(), nil
}
