// Package app wires the product together from its configuration: it connects to MinIO,
// Meilisearch and Redis, prepares them, and runs the HTTP server and the background workers.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/attach"
	"github.com/shizuishan/culturecloud/internal/collections"
	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/derivatives"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/fixity"
	"github.com/shizuishan/culturecloud/internal/imageservice"
	"github.com/shizuishan/culturecloud/internal/indexer"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/learning"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/live"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/internal/mail"
	"github.com/shizuishan/culturecloud/internal/manifests"
	"github.com/shizuishan/culturecloud/internal/ocfl"
	"github.com/shizuishan/culturecloud/internal/outbox"
	"github.com/shizuishan/culturecloud/internal/pipeline"
	"github.com/shizuishan/culturecloud/internal/replays"
	"github.com/shizuishan/culturecloud/internal/server"
	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/internal/transcoding"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/views"
	"github.com/shizuishan/culturecloud/internal/web"
	"github.com/shizuishan/culturecloud/media/captions"
	"github.com/shizuishan/culturecloud/media/iiif"
	"github.com/shizuishan/culturecloud/media/record"
	"github.com/shizuishan/culturecloud/media/sfu"
	"github.com/shizuishan/culturecloud/media/transcode"
	"github.com/shizuishan/culturecloud/media/upload"
	"github.com/shizuishan/culturecloud/search"
	"github.com/shizuishan/culturecloud/storage"
)

// Core is the connected back end shared by every mode.
type Core struct {
	Config      *config.Config
	Log         *slog.Logger
	Docs        *docstore.Store
	Redis       *redis.Client
	Search      *search.Client
	Units       *units.DocStore
	Accounts    *accounts.Service
	Outbox      *outbox.Outbox
	Indexer     *indexer.Indexer
	OCFL        *ocfl.Store
	Fixity      *fixity.Service
	Library     *library.Service
	Views       *views.Counter
	Jobs        *jobs.Store
	Uploads     *upload.Manager
	Attach      *attach.Service
	Pipeline    *pipeline.Pipeline
	Collections *collections.Service
	Derivatives *derivatives.Service
	Images      *imageservice.Service
	Courses     *courses.Service
	Exhibitions *exhibitions.Service
	// Published is shared by the HTTP handlers, which forget an item they change, and the
	// exhibitions, which read whether their items are still published.
	Published   *library.PublishedCache
	Transcoding *transcoding.Runner
	Lectures    *lectures.Service
	Room        *liveroom.Room
	Replays     *replays.Store
}

// ImageOptions are the image service's options from its configuration.
func ImageOptions(c config.IIIF) imageservice.Options {
	return imageservice.Options{
		Limits:   iiif.Limits{MaxWidth: c.MaxWidth, MaxHeight: c.MaxHeight, MaxArea: c.MaxArea, Formats: []string{"jpg", "png"}},
		TileSize: c.TileSize, MaxCuts: c.MaxCuts, MaxCutsPerClient: c.MaxCutsPerClient, CutWait: c.CutWait,
		Timeout: c.PyramidTimeout, MaxMasterPixels: c.MaxMasterPixels, TileCacheBytes: int64(c.TileCacheMiB) << 20,
	}
}

// NewLogger builds the logger the configuration asks for.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Connect builds the clients; it does not wait for the services to answer.
func Connect(cfg *config.Config, log *slog.Logger) (*Core, error) {
	objects, err := storage.Connect(storage.Options{
		Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey, SecretKey: cfg.MinIO.SecretKey.Reveal(),
		Bucket: cfg.MinIO.Bucket, UseTLS: cfg.MinIO.UseTLS, Timeout: cfg.MinIO.Timeout,
	})
	if err != nil {
		return nil, err
	}
	docs := docstore.New(objects, cfg.MinIO.Timeout)
	rdb := redis.NewClient(&redis.Options{
		Addr: cfg.Redis.Addr, Password: cfg.Redis.Password.Reveal(), DB: cfg.Redis.DB,
		DialTimeout: cfg.Redis.Timeout, ReadTimeout: cfg.Redis.Timeout, WriteTimeout: cfg.Redis.Timeout,
		PoolTimeout: cfg.Redis.Timeout, MaxRetries: 1,
	})
	sc := search.Connect(cfg.Meilisearch.URL, cfg.Meilisearch.MasterKey.Reveal(), cfg.Meilisearch.IndexPrefix, cfg.Meilisearch.Timeout)
	unitStore := units.NewDocStore(docs)
	ob := outbox.New(rdb, cfg.Redis.KeyPrefix, log).WithSpool(docs)
	accStore := accounts.NewStore(docs)
	acc, err := accounts.NewService(accStore, unitStore,
		accounts.Hasher{MemoryKiB: uint32(cfg.Auth.Argon2MemoryKiB), Time: uint32(cfg.Auth.Argon2Time),
			Gate: accounts.NewGate(accounts.GateSlots(cfg.Auth.HashMemoryMiB, cfg.Auth.Argon2MemoryKiB), cfg.Auth.HashWait)},
		[]byte(cfg.Auth.SessionSecret.Reveal()), ob)
	if err != nil {
		return nil, err
	}
	vocab, err := library.ParseVocabulary(configs.Vocabulary)
	if err != nil {
		return nil, err
	}
	store := ocfl.New(objects, "ocfl/", cfg.MinIO.Timeout)
	lib := library.NewService(store, unitStore, vocab, ob)
	der := derivatives.New(docs, lib, log)
	images := imageservice.New(docs, lib, log, ImageOptions(cfg.IIIF))
	counter, err := views.New(rdb, docs, views.Options{KeyPrefix: cfg.Redis.KeyPrefix, Window: views.DefaultWindow,
		Secret: []byte("views:" + cfg.Auth.SessionSecret.Reveal())})
	if err != nil {
		return nil, err
	}
	courseService := courses.New(docs, lib, accStore, unitStore, ob)
	published := library.NewPublishedCache(library.PublishedTTL, 100_000, nil)
	exhibitionService := exhibitions.New(docs, lib, unitStore, ob, exhibitions.Options{Published: published})
	lectureService := lectures.New(docs, lib, accStore, unitStore, ob, lectures.Options{Early: cfg.Live.GoLiveEarly, Late: cfg.Live.GoLiveLate,
		Exhibitions: exhibitionService})
	jobStore := jobs.New(rdb, cfg.Redis.KeyPrefix)
	runner := transcoding.New(rdb, docs, lib, jobStore, transcoding.Options{KeyPrefix: cfg.Redis.KeyPrefix, Consumer: hostname(),
		Log: log, Transcode: transcode.Options{Preset: cfg.Library.TranscodePreset}})
	room := liveroom.New(rdb, liveroom.Options{KeyPrefix: cfg.Redis.KeyPrefix, Node: hostname(), Log: log})
	uploads := upload.New(objects.Long(), upload.Options{Prefix: "uploads/",
		MaxSize: cfg.Library.MaxUploadBytes})
	return &Core{
		Config: cfg, Log: log, Docs: docs, Redis: rdb, Search: sc, Units: unitStore, Accounts: acc, Outbox: ob,
		Indexer: indexer.New(accStore, lib, counter, der, unitStore, sc, ob, log).WithCourses(courseService).WithExhibitions(exhibitionService),
		OCFL:    store, Fixity: fixity.New(store, docs, time.Now), Library: lib, Views: counter, Courses: courseService, Lectures: lectureService,
		Room: room, Exhibitions: exhibitionService, Published: published,
		Replays:     replays.New(docs, room, nil),
		Jobs:        jobStore,
		Transcoding: runner,
		Collections: collections.New(docs, lib, unitStore),
		Derivatives: der,
		Images:      images,
		Uploads:     uploads,
		Attach:      attach.New(lib, uploads, jobStore, ob, accStore),
		Pipeline:    &pipeline.Pipeline{Library: lib, Derivatives: der, Images: images, Transcoding: runner, Outbox: ob, Views: counter},
	}, nil
}

// Checks are the readiness checks of the three dependencies.
func (c *Core) Checks() []dep.Checker {
	return []dep.Checker{
		dep.CheckFunc{DepName: dep.MinIO, Fn: c.Docs.Check},
		dep.CheckFunc{DepName: dep.Meilisearch, Fn: c.Search.Check},
		dep.CheckFunc{DepName: dep.Redis, Fn: func(ctx context.Context) error {
			return dep.Unavailable(dep.Redis, c.Redis.Ping(ctx).Err())
		}},
	}
}

// Prepare makes the bucket (versioned), the search indexes and settings, the unit tree and
// the bootstrap admin. Every step is idempotent.
func (c *Core) Prepare(ctx context.Context) error {
	if err := c.Docs.Setup(ctx); err != nil {
		return fmt.Errorf("prepare bucket: %w", err)
	}
	if err := c.OCFL.Init(ctx); err != nil {
		return fmt.Errorf("prepare OCFL storage root: %w", err)
	}
	if err := c.Search.Setup(ctx, search.Indexes()); err != nil {
		return fmt.Errorf("prepare search indexes: %w", err)
	}
	// After a Redis loss, view totals come back from the rollups in MinIO before anything
	// is counted on top of them.
	if _, err := c.Views.Restore(ctx, time.Now()); err != nil {
		return fmt.Errorf("restore view counters: %w", err)
	}
	tree, err := units.ParseSeed(configs.Units)
	if err != nil {
		return err
	}
	if seeded, err := c.Units.Seed(ctx, tree); err != nil {
		return fmt.Errorf("seed units: %w", err)
	} else if seeded {
		c.Log.InfoContext(ctx, "organisation units loaded", "count", len(tree.Units))
	}
	if name := c.Config.Auth.BootstrapAdmin; name != "" {
		created, err := c.Accounts.EnsureAdmin(ctx, name, c.Config.Auth.BootstrapAdminPassword.Reveal(), "管理员")
		if err != nil {
			return fmt.Errorf("bootstrap admin %s: %w", name, err)
		}
		if created {
			c.Log.InfoContext(ctx, "first administrator created", "name", name)
		}
	}
	return nil
}

// PrepareWithRetry keeps trying Prepare until it works or ctx ends, so that a server started
// before its dependencies comes up on its own.
func (c *Core) PrepareWithRetry(ctx context.Context, wait time.Duration) error {
	for {
		err := c.Prepare(ctx)
		if err == nil {
			return nil
		}
		c.Log.WarnContext(ctx, "dependencies not ready; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Close releases the clients.
func (c *Core) Close() { _ = c.Redis.Close() }

// Server is a running HTTP server.
type Server struct {
	URL  string
	srv  *http.Server
	done chan error
}

// StartServer listens on cfg.HTTP.Addr and serves until ctx ends, then shuts down
// gracefully: in-flight requests finish within http.shutdown_timeout.
func StartServer(ctx context.Context, c *Core) (*Server, error) {
	renderer, err := web.New()
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := c.Config
	liveSvc, media, err := c.startLive(ctx)
	if err != nil {
		return nil, err
	}
	live.RegisterMetrics(reg, media)
	h, err := server.New(server.Deps{
		Config: cfg, Log: c.Log, Accounts: c.Accounts, Units: c.Units,
		Sessions:    sessions.NewStore(c.Redis, cfg.Redis.KeyPrefix, []byte(cfg.Auth.SessionSecret.Reveal()), cfg.Auth.SessionTTL),
		Limiter:     sessions.NewLimiter(c.Redis, cfg.Redis.KeyPrefix, cfg.Auth.LoginWindow),
		ViewLimiter: sessions.NewLimiter(c.Redis, cfg.Redis.KeyPrefix, cfg.Views.LimitWindow),
		Backoff: sessions.NewBackoff(c.Redis, cfg.Redis.KeyPrefix, sessions.BackoffOptions{
			Free: cfg.Auth.LoginFreePerClient, Base: cfg.Auth.LoginDelayBase, Max: cfg.Auth.LoginDelayMax, Forget: cfg.Auth.LoginWindow}),
		Devices: sessions.NewDevices([]byte("device:" + cfg.Auth.SessionSecret.Reveal())),
		Resets:  sessions.NewResets(c.Redis, cfg.Redis.KeyPrefix, []byte(cfg.Auth.SessionSecret.Reveal()), cfg.Auth.ResetTTL),
		Mail:    mailSender(cfg.Mail, c.Log),
		Search:  c.Search, Web: renderer, Checks: c.Checks(), Registry: reg, Library: c.Library, Views: c.Views,
		Jobs: c.Jobs, Uploads: c.Uploads, Attach: c.Attach, Outbox: c.Outbox, Fixity: c.Fixity, Collections: c.Collections,
		Derivatives: c.Derivatives, Images: c.Images, Courses: c.Courses, Learning: learning.New(c.Docs, learning.Options{Rules: learningRules(cfg.Learning)}), Transcoding: c.Transcoding,
		Captions: captions.NewStore(c.Docs.Objects()),
		Lectures: c.Lectures, Room: c.Room, Live: liveSvc, Replays: c.Replays,
		Manifests: &manifests.Builder{Library: c.Library, Media: c.Transcoding, Derivatives: c.Derivatives, Units: c.Units,
			Sizes: manifests.NewSizes(func(ctx context.Context, item, path string) (io.ReadCloser, error) {
				return c.Library.OpenFile(ctx, item, path)
			}, c.Images)},
		Exhibitions: c.Exhibitions, Published: c.Published,
	})
	if err != nil {
		_ = media.Close()
		liveSvc.Close()
		return nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.HTTP.Addr)
	if err != nil {
		_ = media.Close()
		liveSvc.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	srv := &http.Server{
		Handler:           h,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(c.Log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(h.CloseStreams)
	s := &Server{URL: "http://" + ln.Addr().String(), srv: srv, done: make(chan error, 1)}
	// The loops stop with ctx; Wait returns only after they have, so nothing of this server
	// still logs or touches the stores once its caller moves on.
	loopCtx, stopLoops := context.WithCancel(ctx)
	var loops sync.WaitGroup
	loops.Go(func() { c.Room.Run(loopCtx) })
	loops.Go(func() { liveSvc.Run(loopCtx) })
	go func() {
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		var err error
		select {
		case err = <-served:
			cancelBase()
			stopLoops()
			loops.Wait()
		case <-ctx.Done():
			// Drain, never drop: live streams keep flowing for a while, then the lectures
			// are handed over (left live) for their encoders to reconnect to the next node.
			liveSvc.Drain(context.WithoutCancel(ctx), cfg.Live.DrainTimeout)
			shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
			err = srv.Shutdown(shutdownCtx) // returns once in-flight requests are done
			cancel()
			cancelBase() // requests still running after the grace period see their context end
			if serveErr := <-served; err == nil && !errors.Is(serveErr, http.ErrServerClosed) {
				err = serveErr
			}
			loops.Wait()
			// Live viewers and publishers are told the stream ended; the lectures stay
			// live (handed over by Drain) for the grace period.
			_ = media.Close()
			liveSvc.Close()
			c.Room.Close()
		}
		s.done <- err
	}()
	return s, nil
}

// Wait blocks until the server has stopped.
func (s *Server) Wait() error { return <-s.done }

// startLive starts the SFU on the configured media ports with the live service that keeps
// lectures, the live room and the recordings in step with it. Its loops (viewer heartbeats,
// the origin sweep) are started by the caller, which waits for them at shutdown.
func (c *Core) startLive(ctx context.Context) (*live.Service, *sfu.SFU, error) {
	cfg := c.Config.Live
	recorder := live.NewReplays(record.Storage{Objects: c.Docs.Objects().Long()}, c.Library, c.Lectures, c.Replays, c.Log)
	svc := live.New(c.Lectures, c.Room, recorder, live.Options{EndGrace: cfg.EndGrace, Log: c.Log,
		ViewersPerIP: cfg.ViewersPerIP, MaxViewers: cfg.MaxViewers,
		Origins:    live.Origins{RDB: c.Redis, KeyPrefix: c.Config.Redis.KeyPrefix, Node: hostname()},
		OnAudience: c.keepPeak})
	media, err := sfu.New(sfu.Config{UDPPort: cfg.UDPPort, TCPPort: cfg.TCPPort, ListenIP: cfg.ListenIP,
		PublicIPs: config.List(cfg.PublicIPs), PublisherSilence: cfg.PublisherSilence, Hooks: svc.Hooks(), Logger: c.Log,
		EndedMemory: cfg.EndedSessionMemory, EndedMax: cfg.EndedSessionsMax})
	if err != nil {
		svc.Close()
		return nil, nil, fmt.Errorf("live media ports (live.udp_port %d, live.tcp_port %d): %w", cfg.UDPPort, cfg.TCPPort, err)
	}
	svc.Attach(media)
	recorder.SetKeyframe(media.RequestKeyframe)
	return svc, media, nil
}

// learningRules are the completion rules of the configuration.
func learningRules(l config.Learning) learning.Rules {
	return learning.Rules{MinWatchedShare: float64(l.MinWatchedPercent) / 100, MaxRate: float64(l.MaxPlaybackPercent) / 100,
		MaxReportGap: l.MaxReportGap}
}

// mailSender is the sender mail.sender names.
func mailSender(cfg config.Mail, log *slog.Logger) mail.Sender {
	if cfg.Sender == "smtp" {
		return mail.SMTP{Addr: cfg.SMTPAddr, From: cfg.From, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword.Reveal(), Timeout: cfg.Timeout}
	}
	return mail.Logger{Log: log}
}

// keepPeak keeps a live lecture's (or tour's) peak audience in the view counter, beside its
// views, so that statistics add live audiences up with the rest.
func (c *Core) keepPeak(ctx context.Context, lecture string, st liveroom.Stats) {
	if _, err := c.Views.RaisePeak(ctx, "live:"+lecture, st.Peak, time.Now()); err != nil {
		c.Log.WarnContext(ctx, "live: peak not counted", "lecture", lecture, "err", err)
	}
}
