package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/devservices"
)

// devSecrets are made once per data folder and kept in it, so that a second run reuses
// the data that the first one wrote.
type devSecrets struct {
	MinIOPassword  string `json:"minio_password"`
	MeiliMasterKey string `json:"meili_master_key"`
	SessionSecret  string `json:"session_secret"`
}

func loadDevSecrets(dir string) (devSecrets, error) {
	path := filepath.Join(dir, "secrets.json")
	var s devSecrets
	data, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(data, &s); err != nil {
			return s, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	s = devSecrets{MinIOPassword: randomHex(16), MeiliMasterKey: randomHex(24), SessionSecret: randomHex(32)}
	data, _ = json.MarshalIndent(s, "", "  ")
	return s, os.WriteFile(path, data, 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runDev starts the three services with data under cfg.DataDir, points the configuration at
// them, loads the demo data and serves. Ending ctx stops the server, then the services.
func runDev(ctx context.Context, cfg *config.Config, getenv func(string) string, stdout, stderr io.Writer) error {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	secrets, err := loadDevSecrets(dir)
	if err != nil {
		return err
	}
	host := "127.0.0.1"
	cfg.MinIO.Endpoint = host + ":" + strconv.Itoa(cfg.Dev.MinIOPort)
	cfg.MinIO.AccessKey = "culturecloud"
	cfg.MinIO.SecretKey = config.Secret(secrets.MinIOPassword)
	cfg.Meilisearch.URL = "http://" + host + ":" + strconv.Itoa(cfg.Dev.MeilisearchPort)
	cfg.Meilisearch.MasterKey = config.Secret(secrets.MeiliMasterKey)
	cfg.Redis.Addr = host + ":" + strconv.Itoa(cfg.Dev.RedisPort)
	if cfg.Auth.SessionSecret == "" {
		cfg.Auth.SessionSecret = config.Secret(secrets.SessionSecret)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	tools, err := devservices.FindTools(cfg.Dev.ToolsDir)
	if err != nil {
		return err
	}
	log := NewLogger(cfg.Log, stderr)
	fmt.Fprintf(stdout, "starting Redis, MinIO and Meilisearch (data in %s) …\n", dir)
	stack, err := devservices.StartStack(ctx, tools, devservices.StackOptions{
		Dir: dir, RedisPort: cfg.Dev.RedisPort, MinIOPort: cfg.Dev.MinIOPort, MinIOConsolePort: cfg.Dev.MinIOConsolePort,
		MeilisearchPort: cfg.Dev.MeilisearchPort, MinIOUser: cfg.MinIO.AccessKey, MinIOPassword: secrets.MinIOPassword,
		MeiliMasterKey: secrets.MeiliMasterKey, Log: log,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "stopping Redis, MinIO and Meilisearch …")
		stack.Stop()
		fmt.Fprintln(stdout, "stopped.")
	}()

	core, err := Connect(cfg, log)
	if err != nil {
		return err
	}
	defer core.Close()
	prepCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = core.Prepare(prepCtx)
	cancel()
	if err != nil {
		return err
	}
	var demoAccounts []demo.Account
	var demoLectures []demo.DemoLecture
	if cfg.Dev.DemoData {
		if demoAccounts, err = demo.Load(ctx, core.Accounts); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if n, err := demo.LoadLibrary(ctx, core.Docs, core.Library, core.Collections); err != nil {
			return fmt.Errorf("demo library: %w", err)
		} else if n > 0 {
			fmt.Fprintf(stdout, "demo library: %d published items and a featured collection\n", n)
		}
		if n, err := demo.LoadCourses(ctx, core.Docs, core.Library, core.Courses); err != nil {
			return fmt.Errorf("demo course: %w", err)
		} else if n > 0 {
			fmt.Fprintln(stdout, "demo course: 少儿书法入门, three lessons (transcoded in the background)")
		}
		if id, err := demo.LoadExhibitions(ctx, core.Docs, core.Library, core.Exhibitions); err != nil {
			return fmt.Errorf("demo exhibition: %w", err)
		} else if id != "" {
			fmt.Fprintln(stdout, "demo exhibition: 石嘴山工业记忆, two rooms and a 720° hall (/exhibitions/"+id+")")
		}
		if demoLectures, err = demo.LoadLectures(ctx, core.Docs, core.Lectures, time.Now()); err != nil {
			return fmt.Errorf("demo lectures: %w", err)
		}
	}
	return Serve(ctx, cfg, stderr, func(url string) {
		fmt.Fprintf(stdout, "\n石嘴山数字文化云 Shizuishan Culture Cloud is running at %s\n", url)
		fmt.Fprintf(stdout, "MinIO console: http://%s:%d  (user %s, password in %s)\n",
			host, cfg.Dev.MinIOConsolePort, cfg.MinIO.AccessKey, filepath.Join(dir, "secrets.json"))
		if len(demoAccounts) > 0 {
			fmt.Fprintln(stdout, "Demo accounts (name / password / role / unit):")
			for _, a := range demoAccounts {
				fmt.Fprintf(stdout, "  %-14s %-18s %-10s %s\n", a.Name, a.Password, a.Role, a.Unit)
			}
		}
		for _, l := range demoLectures {
			fmt.Fprintf(stdout, "Demo lecture %s (%s) starts %s; stream key (shown once): %s\n",
				l.Title, l.ID, l.Start.Local().Format("2006-01-02 15:04"), l.StreamKey)
		}
		fmt.Fprintln(stdout, "Press Ctrl-C to stop everything.")
	})
}
