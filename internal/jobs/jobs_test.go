package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newStore(t *testing.T) *jobs.Store {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return jobs.New(rdb, cfg.Redis.KeyPrefix)
}

// TestCreateOnce: of concurrent creations under one id exactly one creates; all see its input.
func TestCreateOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := jobs.NewID()
	var created atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			j, made, err := s.CreateOnce(ctx, id, "attach", "alice", map[string]int{"n": i})
			if err != nil || j.ID != id || j.State != jobs.Queued {
				t.Errorf("CreateOnce = %+v, %v", j, err)
			}
			if made {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	if created.Load() != 1 {
		t.Fatalf("%d creations, want 1", created.Load())
	}
	if _, _, err := s.CreateOnce(ctx, "not an id", "attach", "alice", nil); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("bad id: %v", err)
	}
}

// TestBegin: one of many workers begins a queued job; nobody begins a running job until it
// goes stale, nor an ended one.
func TestBegin(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	j, err := s.Create(ctx, "attach", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	var begun atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, ok, err := s.Begin(ctx, j.ID, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				begun.Add(1)
				if got.State != jobs.Running || got.Attempts != 1 {
					t.Errorf("begun job %+v", got)
				}
			}
		})
	}
	wg.Wait()
	if begun.Load() != 1 {
		t.Fatalf("%d workers began the job, want 1", begun.Load())
	}
	if _, ok, _ := s.Begin(ctx, j.ID, time.Minute); ok {
		t.Error("a fresh running job was begun again")
	}
	time.Sleep(30 * time.Millisecond)
	got, ok, err := s.Begin(ctx, j.ID, 20*time.Millisecond)
	if err != nil || !ok || got.Attempts != 2 {
		t.Errorf("stale running job: %+v, %v, %v; want begun, attempt 2", got, ok, err)
	}
	if err := s.Finish(ctx, j.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := s.Begin(ctx, j.ID, 0); ok || got.State != jobs.Done {
		t.Errorf("done job: %+v, begun %v", got, ok)
	}
	if _, _, err := s.Begin(ctx, jobs.NewID(), time.Minute); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("missing job: %v", err)
	}
}

// TestUpdatesAreAtomic: concurrent updates each see the one before (no lost update), so a
// heartbeat cannot write back a state that Finish has just changed.
func TestUpdatesAreAtomic(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	j, err := s.Create(ctx, "attach", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if err := s.Update(ctx, j.ID, func(j *jobs.Job) { j.Percent++ }); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := s.Touch(ctx, j.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.Get(ctx, j.ID)
	if err != nil || got.Percent != 6 {
		t.Fatalf("after 6 increments: %+v, %v", got, err)
	}
}
