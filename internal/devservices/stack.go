package devservices

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
}

// Stack is Redis, MinIO and Meilisearch running together.
type Stack struct {
	mu    sync.Mutex
	specs map[string]Spec
	procs map[string]*Process
}

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
	s := &Stack{specs: specs, procs: map[string]*Process{}}
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
	s.procs[name] = p
	s.mu.Unlock()
	return nil
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

// Stop ends every service cleanly, in parallel.
func (s *Stack) Stop() {
	s.mu.Lock()
	procs := s.procs
	s.procs = map[string]*Process{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(p.Stop)
	}
	wg.Wait()
}
