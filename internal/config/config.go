// Package config loads the settings: the embedded defaults (configs/culturecloud.yaml), then
// an optional file, then CC_* environment variables. Loading fails on the first invalid value
// with one line that names the key, the value and what is allowed.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shizuishan/culturecloud/configs"
)

// Secret is a setting that must never appear in logs, pages or API answers.
type Secret string

// String hides the value so that fmt and templates cannot leak it.
func (Secret) String() string { return "[secret]" }

// LogValue hides the value from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

// MarshalJSON hides the value from JSON encoders.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[secret]"`), nil }

// Reveal returns the value itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// Config is every setting of the product. Field tags give the YAML key; the environment
// variable is CC_ plus the upper-cased key path.
type Config struct {
	DataDir     string      `yaml:"data_dir"`
	HTTP        HTTP        `yaml:"http"`
	Log         Log         `yaml:"log"`
	MinIO       MinIO       `yaml:"minio"`
	Meilisearch Meilisearch `yaml:"meilisearch"`
	Redis       Redis       `yaml:"redis"`
	Auth        Auth        `yaml:"auth"`
	Library     Library     `yaml:"library"`
	Learning    Learning    `yaml:"learning"`
	Views       Views       `yaml:"views"`
	Exhibitions Exhibitions `yaml:"exhibitions"`
	Live        Live        `yaml:"live"`
	IIIF        IIIF        `yaml:"iiif"`
	Mail        Mail        `yaml:"mail"`
	Dev         Dev         `yaml:"dev"`
}

type HTTP struct {
	Addr            string        `yaml:"addr"`
	PublicURL       string        `yaml:"public_url"`
	ReadTimeout     time.Duration `yaml:"read_timeout"`
	WriteTimeout    time.Duration `yaml:"write_timeout"`
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	CookieSecure    string        `yaml:"cookie_secure"`
	TrustedProxies  string        `yaml:"trusted_proxies"`
	VendorDir       string        `yaml:"vendor_dir"`
	MetricsToken    Secret        `yaml:"metrics_token"`
	HSTSMaxAge      time.Duration `yaml:"hsts_max_age"`
	// PublicCacheMaxAge bounds how long browsers and shared caches keep a published item's
	// files, thumbnails and streams: a file removed or an item withdrawn may still be seen
	// in a cache for that long, never longer.
	PublicCacheMaxAge time.Duration `yaml:"public_cache_max_age"`
}

type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

type MinIO struct {
	Endpoint  string        `yaml:"endpoint"`
	AccessKey string        `yaml:"access_key"`
	SecretKey Secret        `yaml:"secret_key"`
	Bucket    string        `yaml:"bucket"`
	UseTLS    bool          `yaml:"use_tls"`
	Timeout   time.Duration `yaml:"timeout"`
}

type Meilisearch struct {
	URL         string        `yaml:"url"`
	MasterKey   Secret        `yaml:"master_key"`
	IndexPrefix string        `yaml:"index_prefix"`
	Timeout     time.Duration `yaml:"timeout"`
}

type Redis struct {
	Addr      string        `yaml:"addr"`
	Password  Secret        `yaml:"password"`
	DB        int           `yaml:"db"`
	KeyPrefix string        `yaml:"key_prefix"`
	Timeout   time.Duration `yaml:"timeout"`
	// SpoolEvery is how often a worker hands Redis the events kept in MinIO while it was down.
	SpoolEvery time.Duration `yaml:"spool_every"`
}

type Auth struct {
	SessionSecret          Secret        `yaml:"session_secret"`
	SessionTTL             time.Duration `yaml:"session_ttl"`
	Argon2MemoryKiB        int           `yaml:"argon2_memory_kib"`
	Argon2Time             int           `yaml:"argon2_time"`
	LoginMaxPerAccount     int           `yaml:"login_max_per_account"`
	LoginMaxPerIP          int           `yaml:"login_max_per_ip"`
	LoginWindow            time.Duration `yaml:"login_window"`
	RegisterMaxPerIP       int           `yaml:"register_max_per_ip"`
	ResetTTL               time.Duration `yaml:"reset_ttl"`
	ResetMaxPerIP          int           `yaml:"reset_max_per_ip"`
	ResetMaxPerAccount     int           `yaml:"reset_max_per_account"`
	ResetMaxGlobal         int           `yaml:"reset_max_global"`
	LoginFreePerClient     int           `yaml:"login_free_per_client"`
	LoginDelayBase         time.Duration `yaml:"login_delay_base"`
	LoginDelayMax          time.Duration `yaml:"login_delay_max"`
	DeviceTTL              time.Duration `yaml:"device_ttl"`
	HashMemoryMiB          int           `yaml:"hash_memory_mib"`
	HashWait               time.Duration `yaml:"hash_wait"`
	BootstrapAdmin         string        `yaml:"bootstrap_admin"`
	BootstrapAdminPassword Secret        `yaml:"bootstrap_admin_password"`
}

type Library struct {
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// Per account (administrators are exempt): uploads open at once, and the bytes they declared.
	MaxOpenUploads     int           `yaml:"max_open_uploads"`
	MaxOpenUploadBytes int64         `yaml:"max_open_upload_bytes"`
	AbandonedUploadAge time.Duration `yaml:"abandoned_upload_age"`
	MaintenanceEvery   time.Duration `yaml:"maintenance_every"`
	TranscodePreset    string        `yaml:"transcode_preset"`
	// MaxBatch is how many items one bulk status change may name.
	MaxBatch int `yaml:"max_batch"`
}

// IIIF is the IIIF Image API service: the largest answer it cuts, the pyramid it makes of each
// image at ingest, and the bounds on cuts running at once (see internal/imageservice).
type IIIF struct {
	MaxWidth  int   `yaml:"max_width"`
	MaxHeight int   `yaml:"max_height"`
	MaxArea   int64 `yaml:"max_area"`
	// MaxMasterPixels: until an image's pyramid exists, a request may decode its master up to
	// this many pixels; no request ever decodes a larger one (only vips in the worker does).
	MaxMasterPixels  int64         `yaml:"max_master_pixels"`
	TileSize         int           `yaml:"tile_size"`
	MaxCuts          int           `yaml:"max_cuts"`
	MaxCutsPerClient int           `yaml:"max_cuts_per_client"`
	CutWait          time.Duration `yaml:"cut_wait"`
	TileCacheMiB     int           `yaml:"tile_cache_mib"`
	PyramidTimeout   time.Duration `yaml:"pyramid_timeout"`
	// Presentation documents (manifests, collections) read many records each: anonymous
	// readers may have this many per views.limit_window, per client IP and for the site.
	MaxManifestsPerIP  int `yaml:"max_manifests_per_ip"`
	MaxManifestsGlobal int `yaml:"max_manifests_global"`
}

// Learning is how much watching completes a lesson (see learning.Rules).
type Learning struct {
	MinWatchedPercent  int           `yaml:"min_watched_percent"`
	MaxPlaybackPercent int           `yaml:"max_playback_percent"`
	MaxReportGap       time.Duration `yaml:"max_report_gap"`
}

// Views are the limits on counting views (item pages, plays, live viewers), per window.
type Views struct {
	LimitWindow         time.Duration `yaml:"limit_window"`
	MaxPerVisitor       int           `yaml:"max_per_visitor"`
	MaxPerIP            int           `yaml:"max_per_ip"`
	MaxNewVisitorsPerIP int           `yaml:"max_new_visitors_per_ip"`
	MaxGlobal           int           `yaml:"max_global"`
}

// Exhibitions are the limits on showing exhibitions to readers who may not edit them: a
// walkthrough reads every item it shows, so they are limited per client IP and for the whole
// site, in windows of views.limit_window.
type Exhibitions struct {
	MaxPagesPerIP  int `yaml:"max_pages_per_ip"`
	MaxPagesGlobal int `yaml:"max_pages_global"`
}

// Live is the live lectures: the go-live window, the media ports of the SFU and what
// browsers are told about ICE servers.
type Live struct {
	GoLiveEarly time.Duration `yaml:"go_live_early"`
	GoLiveLate  time.Duration `yaml:"go_live_late"`
	UDPPort     int           `yaml:"udp_port"`
	TCPPort     int           `yaml:"tcp_port"`
	ListenIP    string        `yaml:"listen_ip"`
	PublicIPs   string        `yaml:"public_ips"`
	STUNURLs    string        `yaml:"stun_urls"`
	TURNURLs    string        `yaml:"turn_urls"`
	TURNSecret  Secret        `yaml:"turn_secret"`
	TURNTTL     time.Duration `yaml:"turn_ttl"`
	EndGrace    time.Duration `yaml:"end_grace"`
	// PublisherSilence: a publisher that sends no media (or loses ICE consent) this long
	// is taken as gone; its viewers are told and the end_grace period starts.
	PublisherSilence time.Duration `yaml:"publisher_silence"`
	// DrainTimeout: on shutdown, how long live streams keep flowing while the node takes
	// no new sessions; the lectures stay live for their publishers to reconnect elsewhere.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// ViewersPerIP and MaxViewers cap the WHEP sessions (connecting and playing) of one
	// client address and of the node.
	ViewersPerIP int `yaml:"viewers_per_ip"`
	MaxViewers   int `yaml:"max_viewers"`
	// EventStreamsPerIP and MaxEventStreams cap the open Server-Sent Event streams (chat,
	// a tour guide's positions) of one client address and of the node.
	EventStreamsPerIP int `yaml:"event_streams_per_ip"`
	MaxEventStreams   int `yaml:"max_event_streams"`
	// AllowedOrigins are the other sites whose pages may publish (WHIP, with the stream
	// key) and play (WHEP) from the browser: comma-separated origins, or "*" for any.
	// Never credentialed: cookies are not accepted across origins.
	AllowedOrigins string `yaml:"allowed_origins"`
	// EmbedOrigins are the sites that may frame the embeddable players (/embed/...):
	// comma-separated origins, or "*" for any.
	EmbedOrigins string `yaml:"embed_origins"`
	// EndedSessionMemory and EndedSessionsMax: how long, and how many, ended WHIP and
	// WHEP sessions are remembered, so that a DELETE arriving after the connection closed
	// succeeds instead of being a 404.
	EndedSessionMemory time.Duration `yaml:"ended_session_memory"`
	EndedSessionsMax   int           `yaml:"ended_sessions_max"`
}

// List splits a comma-separated setting, dropping empty entries.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Mail is how the site sends e-mail (password reset links).
type Mail struct {
	Sender       string        `yaml:"sender"` // log or smtp
	From         string        `yaml:"from"`
	SMTPAddr     string        `yaml:"smtp_addr"`
	SMTPUsername string        `yaml:"smtp_username"`
	SMTPPassword Secret        `yaml:"smtp_password"`
	Timeout      time.Duration `yaml:"timeout"`
}

type Dev struct {
	RedisPort        int    `yaml:"redis_port"`
	MinIOPort        int    `yaml:"minio_port"`
	MinIOConsolePort int    `yaml:"minio_console_port"`
	MeilisearchPort  int    `yaml:"meilisearch_port"`
	ToolsDir         string `yaml:"tools_dir"`
	DemoData         bool   `yaml:"demo_data"`
}

// InvalidError names the key, the value and what is allowed.
type InvalidError struct {
	Key     string
	Value   string
	Allowed string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("config: invalid %s (env %s) = %q: %s", e.Key, EnvName(e.Key), e.Value, e.Allowed)
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return "CC_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads the defaults, then file (if not empty), then the environment through getenv.
// It does not validate: call Validate once every override (dev mode adds some) is applied.
func Load(file string, getenv func(string) string) (*Config, error) {
	var c Config
	if err := decodeStrict(configs.Defaults, &c); err != nil {
		return nil, fmt.Errorf("config: embedded defaults: %w", err)
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decodeStrict(data, &c); err != nil {
			return nil, fmt.Errorf("config: %s: %w", file, err)
		}
	}
	if err := applyEnv(reflect.ValueOf(&c).Elem(), "", getenv); err != nil {
		return nil, err
	}
	return &c, nil
}

func decodeStrict(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: it simply changes nothing.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Keys lists every setting key, in file order.
func Keys() []string {
	var keys []string
	walk(reflect.TypeFor[Config](), "", func(key string, _ reflect.Type) { keys = append(keys, key) })
	return keys
}

func walk(t reflect.Type, prefix string, fn func(key string, t reflect.Type)) {
	for i := range t.NumField() {
		f := t.Field(i)
		key := prefix + f.Tag.Get("yaml")
		if f.Type.Kind() == reflect.Struct {
			walk(f.Type, key+".", fn)
			continue
		}
		fn(key, f.Type)
	}
}

func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := prefix + f.Tag.Get("yaml")
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnv(fv, key+".", getenv); err != nil {
				return err
			}
			continue
		}
		raw, ok := lookup(getenv, EnvName(key))
		if !ok {
			continue
		}
		if err := setValue(fv, key, raw); err != nil {
			return err
		}
	}
	return nil
}

func lookup(getenv func(string) string, name string) (string, bool) {
	s := getenv(name)
	return s, s != ""
}

var durationType = reflect.TypeFor[time.Duration]()

func setValue(fv reflect.Value, key, raw string) error {
	switch {
	case fv.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return &InvalidError{key, raw, "a duration such as 500ms, 15s or 2h"}
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.String:
		fv.SetString(raw)
	case fv.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return &InvalidError{key, raw, "true or false"}
		}
		fv.SetBool(b)
	case fv.Kind() == reflect.Int || fv.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return &InvalidError{key, raw, "a whole number"}
		}
		fv.SetInt(n)
	default:
		return fmt.Errorf("config: %s has unsupported type %s", key, fv.Type())
	}
	return nil
}

// Validate checks every value and returns the first problem found.
func (c *Config) Validate() error {
	checks := []struct {
		key   string
		value string
		ok    bool
		allow string
	}{
		{"http.addr", c.HTTP.Addr, isHostPort(c.HTTP.Addr), "host:port, for example 127.0.0.1:8080"},
		{"http.public_url", c.HTTP.PublicURL, c.HTTP.PublicURL == "" || isHTTPURL(c.HTTP.PublicURL), "empty, or an http(s) URL"},
		{"http.read_timeout", c.HTTP.ReadTimeout.String(), c.HTTP.ReadTimeout >= time.Second, "at least 1s"},
		{"http.write_timeout", c.HTTP.WriteTimeout.String(), c.HTTP.WriteTimeout >= time.Second, "at least 1s"},
		{"http.idle_timeout", c.HTTP.IdleTimeout.String(), c.HTTP.IdleTimeout >= time.Second, "at least 1s"},
		{"http.max_body_bytes", strconv.FormatInt(c.HTTP.MaxBodyBytes, 10), c.HTTP.MaxBodyBytes >= 1024 && c.HTTP.MaxBodyBytes <= 64<<20, "1024 to 67108864"},
		{"http.shutdown_timeout", c.HTTP.ShutdownTimeout.String(), c.HTTP.ShutdownTimeout > 0 && c.HTTP.ShutdownTimeout <= time.Minute, "more than 0 and at most 1m"},
		{"http.public_cache_max_age", c.HTTP.PublicCacheMaxAge.String(), c.HTTP.PublicCacheMaxAge >= 0 && c.HTTP.PublicCacheMaxAge <= time.Hour, "0 to 1h"},
		{"http.cookie_secure", c.HTTP.CookieSecure, oneOf(c.HTTP.CookieSecure, "auto", "true", "false"), "auto, true or false"},
		{"http.trusted_proxies", c.HTTP.TrustedProxies, validCIDRs(c.HTTP.TrustedProxies), "empty, or comma-separated CIDRs such as 10.0.0.0/8"},
		{"http.metrics_token", "[secret]", c.HTTP.MetricsToken == "" || len(c.HTTP.MetricsToken) >= 16, "empty, or at least 16 characters"},
		{"http.hsts_max_age", c.HTTP.HSTSMaxAge.String(), c.HTTP.HSTSMaxAge >= 0, "0 (none) or a duration such as 8760h"},
		{"log.level", c.Log.Level, oneOf(c.Log.Level, "debug", "info", "warn", "error"), "debug, info, warn or error"},
		{"log.format", c.Log.Format, oneOf(c.Log.Format, "json", "text"), "json or text"},
		{"minio.endpoint", c.MinIO.Endpoint, isHostPort(c.MinIO.Endpoint), "host:port"},
		{"minio.access_key", c.MinIO.AccessKey, len(c.MinIO.AccessKey) >= 3, "at least 3 characters"},
		{"minio.secret_key", hidden(c.MinIO.SecretKey), len(c.MinIO.SecretKey) >= 8, "at least 8 characters"},
		{"minio.bucket", c.MinIO.Bucket, validBucket(c.MinIO.Bucket), "3-63 lower-case letters, digits, dots or hyphens"},
		{"minio.timeout", c.MinIO.Timeout.String(), c.MinIO.Timeout >= 100*time.Millisecond, "at least 100ms"},
		{"meilisearch.url", c.Meilisearch.URL, isHTTPURL(c.Meilisearch.URL), "an http(s) URL"},
		{"meilisearch.master_key", hidden(c.Meilisearch.MasterKey), len(c.Meilisearch.MasterKey) >= 16, "at least 16 bytes"},
		{"meilisearch.index_prefix", c.Meilisearch.IndexPrefix, validIndexPrefix(c.Meilisearch.IndexPrefix), "letters, digits, - or _, at most 32"},
		{"meilisearch.timeout", c.Meilisearch.Timeout.String(), c.Meilisearch.Timeout >= 100*time.Millisecond, "at least 100ms"},
		{"redis.addr", c.Redis.Addr, isHostPort(c.Redis.Addr), "host:port"},
		{"redis.db", strconv.Itoa(c.Redis.DB), c.Redis.DB >= 0 && c.Redis.DB <= 15, "0 to 15"},
		{"redis.key_prefix", c.Redis.KeyPrefix, c.Redis.KeyPrefix != "" && len(c.Redis.KeyPrefix) <= 32, "1 to 32 characters"},
		{"redis.timeout", c.Redis.Timeout.String(), c.Redis.Timeout >= 50*time.Millisecond, "at least 50ms"},
		{"auth.session_secret", hidden(c.Auth.SessionSecret), len(c.Auth.SessionSecret) >= 32, "at least 32 characters"},
		{"auth.session_ttl", c.Auth.SessionTTL.String(), c.Auth.SessionTTL >= time.Minute, "at least 1m"},
		{"auth.argon2_memory_kib", strconv.Itoa(c.Auth.Argon2MemoryKiB), c.Auth.Argon2MemoryKiB >= 8*1024 && c.Auth.Argon2MemoryKiB <= 1<<20, "8192 to 1048576"},
		{"auth.argon2_time", strconv.Itoa(c.Auth.Argon2Time), c.Auth.Argon2Time >= 1 && c.Auth.Argon2Time <= 10, "1 to 10"},
		{"auth.login_max_per_account", strconv.Itoa(c.Auth.LoginMaxPerAccount), c.Auth.LoginMaxPerAccount >= 1, "at least 1"},
		{"auth.login_max_per_ip", strconv.Itoa(c.Auth.LoginMaxPerIP), c.Auth.LoginMaxPerIP >= 1, "at least 1"},
		{"auth.login_window", c.Auth.LoginWindow.String(), c.Auth.LoginWindow >= time.Second, "at least 1s"},
		{"auth.register_max_per_ip", strconv.Itoa(c.Auth.RegisterMaxPerIP), c.Auth.RegisterMaxPerIP >= 1, "at least 1"},
		{"auth.reset_ttl", c.Auth.ResetTTL.String(), c.Auth.ResetTTL >= time.Minute && c.Auth.ResetTTL <= 24*time.Hour, "1m to 24h"},
		{"auth.reset_max_per_ip", strconv.Itoa(c.Auth.ResetMaxPerIP), c.Auth.ResetMaxPerIP >= 1, "at least 1"},
		{"auth.reset_max_per_account", strconv.Itoa(c.Auth.ResetMaxPerAccount), c.Auth.ResetMaxPerAccount >= 1, "at least 1"},
		{"auth.reset_max_global", strconv.Itoa(c.Auth.ResetMaxGlobal), c.Auth.ResetMaxGlobal >= 1, "at least 1"},
		{"mail.sender", c.Mail.Sender, oneOf(c.Mail.Sender, "log", "smtp"), "log (write messages to the log) or smtp"},
		{"mail.from", c.Mail.From, validAddress(c.Mail.From), "an e-mail address such as 石嘴山数字文化云 <noreply@example.org>"},
		{"mail.smtp_addr", c.Mail.SMTPAddr, c.Mail.Sender != "smtp" || isHostPort(c.Mail.SMTPAddr), "host:port of the mail relay when mail.sender is smtp"},
		{"mail.timeout", c.Mail.Timeout.String(), c.Mail.Timeout >= time.Second && c.Mail.Timeout <= 5*time.Minute, "1s to 5m"},
		{"auth.login_free_per_client", strconv.Itoa(c.Auth.LoginFreePerClient), c.Auth.LoginFreePerClient >= 1, "at least 1"},
		{"auth.login_delay_base", c.Auth.LoginDelayBase.String(), c.Auth.LoginDelayBase >= time.Millisecond, "at least 1ms"},
		{"auth.login_delay_max", c.Auth.LoginDelayMax.String(), c.Auth.LoginDelayMax >= time.Millisecond, "at least 1ms"},
		{"auth.device_ttl", c.Auth.DeviceTTL.String(), c.Auth.DeviceTTL >= time.Hour, "at least 1h"},
		{"auth.hash_memory_mib", strconv.Itoa(c.Auth.HashMemoryMiB), c.Auth.HashMemoryMiB >= 8, "at least 8"},
		{"auth.hash_wait", c.Auth.HashWait.String(), c.Auth.HashWait >= 0 && c.Auth.HashWait <= time.Minute, "0s to 1m"},
		{"auth.bootstrap_admin_password", hidden(c.Auth.BootstrapAdminPassword), c.Auth.BootstrapAdmin == "" || len(c.Auth.BootstrapAdminPassword) >= 10, "at least 10 characters when auth.bootstrap_admin is set"},
		{"library.max_upload_bytes", strconv.FormatInt(c.Library.MaxUploadBytes, 10), c.Library.MaxUploadBytes >= 1<<20 && c.Library.MaxUploadBytes <= 5<<40, "1048576 (1 MiB) to 5497558138880 (5 TiB)"},
		{"library.max_open_uploads", strconv.Itoa(c.Library.MaxOpenUploads), c.Library.MaxOpenUploads >= 1, "at least 1"},
		{"library.max_batch", strconv.Itoa(c.Library.MaxBatch), c.Library.MaxBatch >= 1 && c.Library.MaxBatch <= 1000, "1 to 1000"},
		{"library.max_open_upload_bytes", strconv.FormatInt(c.Library.MaxOpenUploadBytes, 10), c.Library.MaxOpenUploadBytes >= c.Library.MaxUploadBytes, "at least library.max_upload_bytes"},
		{"library.abandoned_upload_age", c.Library.AbandonedUploadAge.String(), c.Library.AbandonedUploadAge >= time.Hour, "at least 1h"},
		{"library.transcode_preset", c.Library.TranscodePreset, oneOf(c.Library.TranscodePreset, "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"), "ultrafast, superfast, veryfast, faster, fast, medium or slow"},
		{"redis.spool_every", c.Redis.SpoolEvery.String(), c.Redis.SpoolEvery >= 100*time.Millisecond && c.Redis.SpoolEvery <= time.Hour, "100ms to 1h"},
		{"library.maintenance_every", c.Library.MaintenanceEvery.String(), c.Library.MaintenanceEvery >= 100*time.Millisecond && c.Library.MaintenanceEvery <= 24*time.Hour, "100ms to 24h"},
		{"learning.min_watched_percent", strconv.Itoa(c.Learning.MinWatchedPercent), c.Learning.MinWatchedPercent >= 0 && c.Learning.MinWatchedPercent <= 100, "0 to 100"},
		{"learning.max_playback_percent", strconv.Itoa(c.Learning.MaxPlaybackPercent), c.Learning.MaxPlaybackPercent >= 100 && c.Learning.MaxPlaybackPercent <= 1600, "100 to 1600"},
		{"learning.max_report_gap", c.Learning.MaxReportGap.String(), c.Learning.MaxReportGap >= time.Second && c.Learning.MaxReportGap <= 10*time.Minute, "1s to 10m"},
		{"views.limit_window", c.Views.LimitWindow.String(), c.Views.LimitWindow >= time.Second && c.Views.LimitWindow <= time.Hour, "1s to 1h"},
		{"views.max_per_visitor", strconv.Itoa(c.Views.MaxPerVisitor), c.Views.MaxPerVisitor >= 1, "at least 1"},
		{"views.max_per_ip", strconv.Itoa(c.Views.MaxPerIP), c.Views.MaxPerIP >= 1, "at least 1"},
		{"views.max_new_visitors_per_ip", strconv.Itoa(c.Views.MaxNewVisitorsPerIP), c.Views.MaxNewVisitorsPerIP >= 0, "0 or more"},
		{"views.max_global", strconv.Itoa(c.Views.MaxGlobal), c.Views.MaxGlobal >= 1, "at least 1"},
		{"iiif.max_width", strconv.Itoa(c.IIIF.MaxWidth), c.IIIF.MaxWidth >= 64 && c.IIIF.MaxWidth <= 65535, "64 to 65535"},
		{"iiif.max_height", strconv.Itoa(c.IIIF.MaxHeight), c.IIIF.MaxHeight >= 64 && c.IIIF.MaxHeight <= 65535, "64 to 65535"},
		{"iiif.max_area", strconv.FormatInt(c.IIIF.MaxArea, 10), c.IIIF.MaxArea >= 4096 && c.IIIF.MaxArea <= 1<<28, "4096 to 268435456"},
		{"iiif.max_master_pixels", strconv.FormatInt(c.IIIF.MaxMasterPixels, 10), c.IIIF.MaxMasterPixels >= 0, "0 or more"},
		{"iiif.tile_size", strconv.Itoa(c.IIIF.TileSize), c.IIIF.TileSize >= 128 && c.IIIF.TileSize <= 2048, "128 to 2048"},
		{"iiif.max_cuts", strconv.Itoa(c.IIIF.MaxCuts), c.IIIF.MaxCuts >= 1, "at least 1"},
		{"iiif.max_cuts_per_client", strconv.Itoa(c.IIIF.MaxCutsPerClient), c.IIIF.MaxCutsPerClient >= 1 && c.IIIF.MaxCutsPerClient <= c.IIIF.MaxCuts, "1 to iiif.max_cuts"},
		{"iiif.cut_wait", c.IIIF.CutWait.String(), c.IIIF.CutWait >= 0 && c.IIIF.CutWait <= time.Minute, "0s to 1m"},
		{"iiif.tile_cache_mib", strconv.Itoa(c.IIIF.TileCacheMiB), c.IIIF.TileCacheMiB >= 1 && c.IIIF.TileCacheMiB <= 1<<16, "1 to 65536"},
		{"iiif.max_manifests_per_ip", strconv.Itoa(c.IIIF.MaxManifestsPerIP), c.IIIF.MaxManifestsPerIP >= 1, "at least 1"},
		{"iiif.max_manifests_global", strconv.Itoa(c.IIIF.MaxManifestsGlobal), c.IIIF.MaxManifestsGlobal >= c.IIIF.MaxManifestsPerIP, "at least iiif.max_manifests_per_ip"},
		{"iiif.pyramid_timeout", c.IIIF.PyramidTimeout.String(), c.IIIF.PyramidTimeout >= time.Second, "at least 1s"},
		{"exhibitions.max_pages_per_ip", strconv.Itoa(c.Exhibitions.MaxPagesPerIP), c.Exhibitions.MaxPagesPerIP >= 1, "at least 1"},
		{"exhibitions.max_pages_global", strconv.Itoa(c.Exhibitions.MaxPagesGlobal), c.Exhibitions.MaxPagesGlobal >= 1, "at least 1"},
		{"live.go_live_early", c.Live.GoLiveEarly.String(), c.Live.GoLiveEarly >= 0 && c.Live.GoLiveEarly <= 24*time.Hour, "0 to 24h"},
		{"live.go_live_late", c.Live.GoLiveLate.String(), c.Live.GoLiveLate >= 0 && c.Live.GoLiveLate <= 24*time.Hour, "0 to 24h"},
		{"live.udp_port", strconv.Itoa(c.Live.UDPPort), c.Live.UDPPort == 0 || validPort(c.Live.UDPPort), "0 (any free port) to 65535"},
		{"live.tcp_port", strconv.Itoa(c.Live.TCPPort), c.Live.TCPPort == -1 || c.Live.TCPPort == 0 || validPort(c.Live.TCPPort), "-1 (off), 0 (any free port) to 65535"},
		{"live.listen_ip", c.Live.ListenIP, net.ParseIP(c.Live.ListenIP) != nil, "an IP address such as 127.0.0.1 or 0.0.0.0"},
		{"live.public_ips", c.Live.PublicIPs, allIPs(List(c.Live.PublicIPs)), "empty, or comma-separated IP addresses"},
		{"live.stun_urls", c.Live.STUNURLs, allPrefixed(List(c.Live.STUNURLs), "stun:", "stuns:"), "empty, or comma-separated stun: URLs"},
		{"live.turn_urls", c.Live.TURNURLs, allPrefixed(List(c.Live.TURNURLs), "turn:", "turns:"), "empty, or comma-separated turn: URLs"},
		{"live.turn_ttl", c.Live.TURNTTL.String(), c.Live.TURNTTL >= time.Minute && c.Live.TURNTTL <= 7*24*time.Hour, "1m to 168h"},
		{"live.end_grace", c.Live.EndGrace.String(), c.Live.EndGrace >= 0 && c.Live.EndGrace <= 10*time.Minute, "0 to 10m"},
		{"live.publisher_silence", c.Live.PublisherSilence.String(), c.Live.PublisherSilence >= time.Second && c.Live.PublisherSilence <= time.Minute, "1s to 1m"},
		{"live.drain_timeout", c.Live.DrainTimeout.String(), c.Live.DrainTimeout >= 0 && c.Live.DrainTimeout <= 10*time.Minute, "0 to 10m"},
		{"live.viewers_per_ip", strconv.Itoa(c.Live.ViewersPerIP), c.Live.ViewersPerIP >= 1 && c.Live.ViewersPerIP <= 10000, "1 to 10000"},
		{"live.max_viewers", strconv.Itoa(c.Live.MaxViewers), c.Live.MaxViewers >= 1 && c.Live.MaxViewers <= 1000000, "1 to 1000000"},
		{"live.event_streams_per_ip", strconv.Itoa(c.Live.EventStreamsPerIP), c.Live.EventStreamsPerIP >= 1 && c.Live.EventStreamsPerIP <= 10000, "1 to 10000"},
		{"live.max_event_streams", strconv.Itoa(c.Live.MaxEventStreams), c.Live.MaxEventStreams >= 1 && c.Live.MaxEventStreams <= 1000000, "1 to 1000000"},
		{"live.allowed_origins", c.Live.AllowedOrigins, validOrigins(c.Live.AllowedOrigins), `empty, "*", or comma-separated origins such as https://www.example.org`},
		{"live.embed_origins", c.Live.EmbedOrigins, validOrigins(c.Live.EmbedOrigins), `empty, "*", or comma-separated origins such as https://www.example.org`},
		{"live.ended_session_memory", c.Live.EndedSessionMemory.String(), c.Live.EndedSessionMemory >= 0 && c.Live.EndedSessionMemory <= 24*time.Hour, "0 (off) to 24h"},
		{"live.ended_sessions_max", strconv.Itoa(c.Live.EndedSessionsMax), c.Live.EndedSessionsMax >= 0 && c.Live.EndedSessionsMax <= 10000000, "0 (off) to 10000000"},
		{"dev.redis_port", strconv.Itoa(c.Dev.RedisPort), validPort(c.Dev.RedisPort), "1 to 65535"},
		{"dev.minio_port", strconv.Itoa(c.Dev.MinIOPort), validPort(c.Dev.MinIOPort), "1 to 65535"},
		{"dev.minio_console_port", strconv.Itoa(c.Dev.MinIOConsolePort), validPort(c.Dev.MinIOConsolePort), "1 to 65535"},
		{"dev.meilisearch_port", strconv.Itoa(c.Dev.MeilisearchPort), validPort(c.Dev.MeilisearchPort), "1 to 65535"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return &InvalidError{Key: ch.key, Value: ch.value, Allowed: ch.allow}
		}
	}
	return nil
}

func validAddress(s string) bool {
	_, err := mail.ParseAddress(s)
	return err == nil
}

func allIPs(list []string) bool {
	for _, ip := range list {
		if net.ParseIP(ip) == nil {
			return false
		}
	}
	return true
}

// validOrigins accepts "", "*" alone, or a list of web origins (scheme, host and port,
// nothing else), as browsers send them in the Origin header.
func validOrigins(s string) bool {
	if strings.TrimSpace(s) == "*" {
		return true
	}
	for _, o := range List(s) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "/") || o != strings.ToLower(o) {
			return false
		}
	}
	return true
}

func allPrefixed(list []string, prefixes ...string) bool {
	for _, u := range list {
		ok := false
		for _, p := range prefixes {
			ok = ok || strings.HasPrefix(u, p) && len(u) > len(p)
		}
		if !ok {
			return false
		}
	}
	return true
}

// hidden shows that a secret is set without showing it.
func hidden(s Secret) string {
	if s == "" {
		return ""
	}
	return "[secret]"
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.ContainsAny(host, " /") {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

func validCIDRs(s string) bool {
	if s == "" {
		return true
	}
	for _, part := range strings.Split(s, ",") {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(part)); err != nil {
			return false
		}
	}
	return true
}

func validBucket(s string) bool {
	if len(s) < 3 || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func validIndexPrefix(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// TrustedProxyList splits http.trusted_proxies.
func (h HTTP) TrustedProxyList() []string {
	if h.TrustedProxies == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(h.TrustedProxies, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}
