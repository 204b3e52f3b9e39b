package devservices

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// StackOptions place the three services.
type StackOptions struct {
	Dir              string // each service gets a subfolder
	RedisPort        int
	MinIOPort        int
	MinIOConsolePort int
	MeilisearchPort  int
	MinIOUser        string
	MinIOPassword    string
	MeiliMasterKey   string
	// Log hears of services that died and were restarted; nil discards.
	Log *slog.Logger
}

// Stack is Redis, MinIO and Meilisearch running together. A service that dies on its own is
// started again with its data and port, after a growing pause (restartBackoff), and the log
// says so; a service ended by Kill or Stop stays down until Start.
type Stack struct {
	log      *slog.Logger
	quit     chan struct{}
	watchers sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	specs    map[string]Spec
	procs    map[string]*Process
	restarts map[string]int
}

// restartBackoff bounds the pause before a dead service is started again: it doubles from
// the first value after every failed start, up to the second.
var restartBackoff = [2]time.Duration{250 * time.Millisecond, 30 * time.Second}

// StartStack starts the three services in parallel and waits until all are ready.
func StartStack(ctx context.Context, tools Tools, o StackOptions) (*Stack, error) {
	specs := map[string]Spec{}
	for name, build := range map[string]func(dir string) Spec{
		"redis": func(dir string) Spec { return Redis(tools.Redis, dir, o.RedisPort) },
		"minio": func(dir string) Spec {
			return MinIO(tools.MinIO, dir, o.MinIOPort, o.MinIOConsolePort, o.MinIOUser, o.MinIOPassword)
		},
		"meilisearch": func(dir string) Spec { return Meilisearch(tools.Meilisearch, dir, o.MeilisearchPort, o.MeiliMasterKey) },
	} {
		dir := filepath.Join(o.Dir, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		specs[name] = build(dir)
	}
	return startSpecs(ctx, specs, o.Log)
}

func startSpecs(ctx context.Context, specs map[string]Spec, log *slog.Logger) (*Stack, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Stack{log: log, quit: make(chan struct{}), specs: specs, procs: map[string]*Process{}, restarts: map[string]int{}}
	var wg sync.WaitGroup
	errs := make(chan error, len(specs))
	for name := range specs {
		wg.Go(func() {
			if err := s.Start(ctx, name); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Start (re)starts the named service with its original settings and data.
func (s *Stack) Start(ctx context.Context, name string) error {
	s.mu.Lock()
	spec, ok := s.specs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown service %q", name)
	}
	p, err := Start(ctx, spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		p.Stop()
		return fmt.Errorf("%s: the stack is stopped", name)
	}
	s.procs[name] = p
	s.watch(name, p)
	return nil
}

// watch restarts p's service if p dies while it is the current process of name. Called with
// s.mu held.
func (s *Stack) watch(name string, p *Process) {
	s.watchers.Go(func() {
		select {
		case <-p.done:
		case <-s.quit:
			return
		}
		if p.ended.Load() || !s.current(name, p) {
			return
		}
		s.log.Warn("a service died; starting it again", "service", name, "exit", fmt.Sprint(p.err),
			"log", LogTail(s.specs[name].LogFile))
		pause := restartBackoff[0]
		for attempt := 1; ; attempt++ {
			select {
			case <-time.After(pause):
			case <-s.quit:
				return
			}
			if !s.current(name, p) {
				return // Kill, Stop or Start took over meanwhile
			}
			np, err := s.startWhileOpen(name)
			if err == nil {
				s.mu.Lock()
				if s.closed || s.procs[name] != p {
					s.mu.Unlock()
					np.Stop()
					return
				}
				s.procs[name] = np
				s.restarts[name]++
				s.watch(name, np)
				s.mu.Unlock()
				s.log.Warn("a service was started again", "service", name, "attempt", attempt)
				return
			}
			pause = min(pause*2, restartBackoff[1])
			s.log.Error("a service could not be started again", "service", name, "attempt", attempt,
				"err", err, "next_try_in", pause.String())
		}
	})
}

// startWhileOpen starts name's spec, giving up when the stack is stopped.
func (s *Stack) startWhileOpen(name string) (*Process, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() {
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	return Start(ctx, s.specs[name])
}

func (s *Stack) current(name string, p *Process) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && s.procs[name] == p
}

// Restarts counts how often the named service died and was started again.
func (s *Stack) Restarts(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts[name]
}

// Pid is the process id of the named service, or 0 when it is not running.
func (s *Stack) Pid(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[name]; p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// LogTails quotes the end of every service's log, for a test that failed.
func (s *Stack) LogTails() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(s.specs)) {
		fmt.Fprintf(&b, "%s: %s\n", name, LogTail(s.specs[name].LogFile))
	}
	return b.String()
}

// Kill ends the named service at once, as a crash would.
func (s *Stack) Kill(name string) {
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if p != nil {
		p.Kill()
	}
}

// Addr is the host:port of the named service.
func (s *Stack) Addr(name string) string { return s.specs[name].Addr }

// Dir is the folder of a service's files: MinIO keeps its objects under Dir("minio")/data,
// where tests that damage stored bytes on purpose reach them.
func (s *Stack) Dir(name string) string { return filepath.Dir(s.specs[name].LogFile) }

// Stop ends every service cleanly, in parallel.
func (s *Stack) Stop() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.quit)
	}
	procs := s.procs
	s.procs = map[string]*Process{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(p.Stop)
	}
	wg.Wait()
	s.watchers.Wait()
}
