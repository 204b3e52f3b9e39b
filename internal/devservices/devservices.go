// Package devservices starts real Redis, MinIO and Meilisearch servers as child processes on
// loopback, each with its data in a folder of the caller's choice. `culturecloud dev` uses it
// with a persistent folder; tests use it with temporary folders and free ports.
package devservices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shizuishan/culturecloud/storage"
)

// Tools says where the service binaries are.
type Tools struct {
	Redis       string
	MinIO       string
	Meilisearch string
}

// FindTools looks in dir (when not empty), then .tools/bin above the working directory, then PATH.
func FindTools(dir string) (Tools, error) {
	var dirs []string
	if dir != "" {
		dirs = append(dirs, dir)
	}
	if env := os.Getenv("CC_TOOLS_DIR"); env != "" {
		dirs = append(dirs, filepath.Join(env, "bin"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, ".tools", "bin"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	find := func(name string) (string, error) {
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s not found in %v or PATH: run deploy/install.sh (make run and make test do)", name, dirs)
		}
		return p, nil
	}
	var t Tools
	var err error
	if t.Redis, err = find("redis-server"); err != nil {
		return t, err
	}
	if t.MinIO, err = find("minio"); err != nil {
		return t, err
	}
	if t.Meilisearch, err = find("meilisearch"); err != nil {
		return t, err
	}
	return t, nil
}

// FreePort returns a loopback TCP port that is free right now. It is picked below the
// kernel's ephemeral range when it can be: a port from that range may be taken as the local
// port of some outgoing connection between this check and the service's bind, which on a
// loaded test machine makes a service fail to start or vanish.
func FreePort() (int, error) {
	if low, ok := ephemeralLow(); ok && low > minServicePort+1000 {
		for range 50 {
			port := minServicePort + rand.IntN(low-minServicePort)
			if portFree(port) {
				return port, nil
			}
		}
	}
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// minServicePort keeps picked ports away from the well-known and registered low ports.
const minServicePort = 20000

func ephemeralLow() (int, bool) {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0, false
	}
	low, err := strconv.Atoi(fields[0])
	return low, err == nil
}

func portFree(port int) bool {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// Process is one running service.
type Process struct {
	Name string
	Addr string // host:port
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
	// ended is set before Stop or Kill signal the process, so that a supervisor can tell a
	// wanted end from a crash.
	ended atomic.Bool
}

// Spec describes how to run a service.
type Spec struct {
	Name    string
	Path    string
	Args    []string
	Env     []string
	Addr    string
	Ready   func(ctx context.Context) error
	LogFile string
}

// Start runs spec and waits until its Ready check passes (or ctx ends).
func Start(ctx context.Context, spec Spec) (*Process, error) {
	// The service outlives ctx, which only bounds the wait for readiness: Stop ends it.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), spec.Path, spec.Args...)
	cmd.Env = append(os.Environ(), spec.Env...)
	// The service dies with us even if we are killed without a chance to stop it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	logw := io.Discard
	if spec.LogFile != "" {
		f, err := os.OpenFile(spec.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child holds its own descriptor
		logw = f
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, Addr: spec.Addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	deadline, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		if err := spec.Ready(deadline); err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before it was ready (%w); %s", spec.Name, p.err, LogTail(spec.LogFile))
		case <-deadline.Done():
			p.Stop()
			return nil, fmt.Errorf("%s not ready: %w; %s", spec.Name, deadline.Err(), LogTail(spec.LogFile))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logTailBytes is how much of a service's log an error quotes.
const logTailBytes = 2048

// LogTail quotes the end of a service's log file, for errors a person reads.
func LogTail(path string) string {
	if path == "" {
		return "no log file"
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("log %s: %v", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("log %s: %v", path, err)
	}
	off := max(st.Size()-logTailBytes, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("log %s: %v", path, err)
	}
	text := strings.TrimSpace(string(buf))
	if text == "" {
		return fmt.Sprintf("log %s is empty", path)
	}
	return fmt.Sprintf("end of %s:\n%s", path, text)
}

// Exited reports whether the process has ended, and why.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop asks the service to end (SIGTERM), then kills it after 10 s.
func (p *Process) Stop() {
	p.ended.Store(true)
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// Kill ends the service at once, as a crash would.
func (p *Process) Kill() {
	p.ended.Store(true)
	p.once.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
}

// Redis describes a redis-server with its data in dir.
func Redis(path, dir string, port int) Spec {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return Spec{
		Name: "redis",
		Path: path,
		Args: []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
			"--appendonly", "yes", "--daemonize", "no", "--save", "60 1", "--protected-mode", "yes",
			// The append-only file keeps the data; a snapshot that fails (a fork refused on
			// a loaded machine) must not make Redis refuse writes with MISCONF.
			"--stop-writes-on-bgsave-error", "no"},
		Addr:    addr,
		LogFile: filepath.Join(dir, "redis.log"),
		Ready: func(ctx context.Context) error {
			d := net.Dialer{Timeout: time.Second}
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Second))
			if _, err := c.Write([]byte("PING\r\n")); err != nil {
				return err
			}
			buf := make([]byte, 7)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "+PONG\r\n" {
				return errors.New("redis not answering PONG")
			}
			return nil
		},
	}
}

// MinIO describes a single-drive MinIO server with its data in dir/data.
func MinIO(path, dir string, port, consolePort int, user, password string) Spec {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return Spec{
		Name: "minio",
		Path: path,
		Args: []string{"server", filepath.Join(dir, "data"), "--address", addr,
			"--console-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(consolePort)), "--quiet"},
		Env: []string{"MINIO_ROOT_USER=" + user, "MINIO_ROOT_PASSWORD=" + password,
			"MINIO_BROWSER=on", "MINIO_UPDATE=off", "MINIO_CALLHOME_ENABLE=off"},
		Addr:    addr,
		LogFile: filepath.Join(dir, "minio.log"),
		Ready:   minioReady(addr, user, password),
	}
}

// Meilisearch describes a Meilisearch server with its database in dir/data.ms.
func Meilisearch(path, dir string, port int, masterKey string) Spec {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return Spec{
		Name: "meilisearch",
		Path: path,
		Args: []string{"--db-path", filepath.Join(dir, "data.ms"), "--http-addr", addr,
			"--no-analytics", "--env", "development",
			// Warnings and errors only: a log tail quoted in an error should show why the
			// service failed, not its last few hundred requests.
			"--log-level", "WARN",
			"--dump-dir", filepath.Join(dir, "dumps"), "--snapshot-dir", filepath.Join(dir, "snapshots")},
		// In the environment, not the arguments, so that ps does not show it.
		Env:     []string{"MEILI_MASTER_KEY=" + masterKey},
		Addr:    addr,
		LogFile: filepath.Join(dir, "meilisearch.log"),
		Ready:   httpReady("http://" + addr + "/health"),
	}
}

// minioReady waits for a signed S3 request to work: /minio/health/live answers 200 a little
// before the S3 API stops saying "Server not initialized yet".
func minioReady(addr, user, password string) func(ctx context.Context) error {
	live := httpReady("http://" + addr + "/minio/health/live")
	return func(ctx context.Context) error {
		if err := live(ctx); err != nil {
			return err
		}
		probe, err := storage.Connect(storage.Options{Endpoint: addr, AccessKey: user, SecretKey: password,
			Bucket: "readiness-probe", Timeout: time.Second})
		if err != nil {
			return err
		}
		return probe.Answers(ctx)
	}
}

func httpReady(url string) func(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
}

// ToolPath is where deploy/install.sh put a file of a tool (node packages of tests, vendored
// scripts): under CC_TOOLS_DIR when set, else in the nearest .tools folder above the working
// directory that has it. The path may not exist: the caller says what is missing.
func ToolPath(parts ...string) string {
	if d := os.Getenv("CC_TOOLS_DIR"); d != "" {
		return filepath.Join(append([]string{d}, parts...)...)
	}
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(append([]string{dir, ".tools"}, parts...)...)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		dir = parent
	}
}
