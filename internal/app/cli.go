package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/config"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/validate"
)

const usage = `culturecloud: the Shizuishan Culture Cloud (石嘴山数字文化云)

Usage:
  culturecloud serve    [--config FILE]   run the web server (and the search indexer)
  culturecloud worker   [--config FILE]   run background workers only (search indexer)
  culturecloud dev      [--config FILE]   start Redis, MinIO and Meilisearch on loopback with data
                                          in data_dir, load demo data, and serve
  culturecloud setup    [--config FILE]   prepare the bucket, search indexes and unit tree, then exit
  culturecloud reindex  [--config FILE]   rebuild the search indexes from MinIO and swap them in
  culturecloud fixity   [--object ID]     re-read every preserved file and report digest mismatches
  culturecloud import   --csv FILE --dir DIR --as ACCOUNT [--workers N]
                                          load many items from a CSV file and a folder of files
                                          (columns: docs/import.md); re-running skips what is in
  culturecloud admin create --name NAME [--display-name TEXT] [--config FILE]
                                          create an administrator; the password is read from
                                          the environment variable CC_NEW_ADMIN_PASSWORD or stdin

Every setting can be set in the config file or as a CC_* environment variable; see
configs/culturecloud.yaml.
`

// Run is the whole command line program; main only supplies the process's surroundings.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if cmd == "admin" {
		if len(rest) == 0 || rest[0] != "create" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		rest = rest[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", getenv("CC_CONFIG"), "configuration file (YAML)")
	name := fs.String("name", "", "account name (admin create)")
	displayName := fs.String("display-name", "管理员", "display name (admin create)")
	object := fs.String("object", "", "check only this object (fixity)")
	csvFile := fs.String("csv", "", "CSV file (import)")
	dir := fs.String("dir", "", "folder of the files named in the CSV (import)")
	as := fs.String("as", "", "librarian or admin account the items belong to (import)")
	workers := fs.Int("workers", 2, "files checked and stored at once (import)")
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	cfg, err := config.Load(*configFile, getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch cmd {
	case "dev":
		err = runDev(ctx, cfg, getenv, stdout, stderr)
	case "serve", "worker", "setup", "admin", "reindex", "fixity", "import":
		if err = cfg.Validate(); err != nil {
			break
		}
		switch cmd {
		case "serve":
			err = Serve(ctx, cfg, stderr, nil)
		case "worker":
			err = runWorker(ctx, cfg, stderr)
		case "setup":
			err = runSetup(ctx, cfg, stderr)
		case "admin":
			err = runAdminCreate(ctx, cfg, *name, *displayName, getenv, stdin, stdout, stderr)
		case "import":
			return runImport(ctx, cfg, importArgs{csv: *csvFile, dir: *dir, as: *as, workers: *workers}, stdout, stderr)
		case "reindex":
			err = runReindex(ctx, cfg, stdout, stderr)
		case "fixity":
			var bad int
			if bad, err = runFixity(ctx, cfg, *object, stdout, stderr); err == nil && bad > 0 {
				return 1
			}
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// Serve serves until ctx ends; ready (when not nil) is called with the server's URL once the
// first attempt to prepare the dependencies is over. When they are down, the server still
// starts: /readyz says what is missing, and preparation is retried until it works.
func Serve(ctx context.Context, cfg *config.Config, logw io.Writer, ready func(url string)) error {
	log := NewLogger(cfg.Log, logw)
	core, err := Connect(cfg, log)
	if err != nil {
		return err
	}
	defer core.Close()
	srv, err := StartServer(ctx, core)
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "listening", "url", srv.URL)
	prepCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	prepErr := core.Prepare(prepCtx)
	cancel()
	workers := make(chan struct{})
	go func() {
		defer close(workers)
		if prepErr != nil {
			log.WarnContext(ctx, "dependencies not ready at start; retrying", "err", prepErr)
			if core.PrepareWithRetry(ctx, 5*time.Second) != nil {
				return
			}
		}
		core.RunWorkers(ctx)
	}()
	if ready != nil {
		ready(srv.URL)
	}
	err = srv.Wait()
	<-workers
	return err
}

func runWorker(ctx context.Context, cfg *config.Config, stderr io.Writer) error {
	log := NewLogger(cfg.Log, stderr)
	core, err := Connect(cfg, log)
	if err != nil {
		return err
	}
	defer core.Close()
	if err := core.PrepareWithRetry(ctx, 5*time.Second); err != nil {
		return err
	}
	log.InfoContext(ctx, "worker running", "consumer", hostname())
	core.RunWorkers(ctx)
	return nil
}

func runSetup(ctx context.Context, cfg *config.Config, stderr io.Writer) error {
	log := NewLogger(cfg.Log, stderr)
	core, err := Connect(cfg, log)
	if err != nil {
		return err
	}
	defer core.Close()
	return core.Prepare(ctx)
}

func runAdminCreate(ctx context.Context, cfg *config.Config, name, displayName string, getenv func(string) string,
	stdin io.Reader, stdout, stderr io.Writer) error {
	if name == "" {
		return errors.New("admin create: --name is required")
	}
	password := getenv("CC_NEW_ADMIN_PASSWORD")
	if password == "" {
		fmt.Fprint(stderr, "password: ")
		var line string
		if _, err := fmt.Fscanln(stdin, &line); err != nil {
			return errors.New("admin create: no password given (set CC_NEW_ADMIN_PASSWORD or type it)")
		}
		password = line
	}
	log := NewLogger(cfg.Log, stderr)
	core, err := Connect(cfg, log)
	if err != nil {
		return err
	}
	defer core.Close()
	if err := core.Prepare(ctx); err != nil {
		return err
	}
	created, err := core.Accounts.EnsureAdmin(ctx, name, password, displayName)
	var invalid validate.Errors
	if errors.As(err, &invalid) {
		var msgs []string
		for _, p := range invalid {
			msgs = append(msgs, p.Field+" "+i18n.T(i18n.EN, "field."+p.Code, p.Args...)+" ("+p.Code+")")
		}
		return fmt.Errorf("admin create: %s", strings.Join(msgs, "; "))
	}
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	if !created {
		return fmt.Errorf("admin create: an account named %s already exists", name)
	}
	fmt.Fprintf(stdout, "administrator %s created\n", name)
	return nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "culturecloud"
	}
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}
