package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
	"github.com/shizuishan/culturecloud/internal/jobs"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newStore(t *testing.T) *jobs.Store {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return jobs.New(rdb, cfg.Redis.KeyPrefix)
}

// TestCreateOnce: of concurrent creations under one id exactly one creates; all get its input.
func TestCreateOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := jobs.NewID()
	var created atomic.Int32
	inputs := make([]string, 8)
	var winner atomic.Value
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			j, made, err := s.CreateOnce(ctx, id, "attach", "alice", map[string]int{"n": i})
			if err != nil || j.ID != id || j.State != jobs.Queued {
				t.Errorf("CreateOnce = %+v, %v", j, err)
			}
			inputs[i] = string(j.Input)
			if made {
				created.Add(1)
				winner.Store(string(j.Input))
			}
		})
	}
	wg.Wait()
	if created.Load() != 1 {
		t.Fatalf("%d creations, want 1", created.Load())
	}
	for i, in := range inputs {
		if in != winner.Load() {
			t.Errorf("caller %d got input %s, the creator's was %s", i, in, winner.Load())
		}
	}
	if _, _, err := s.CreateOnce(ctx, "not an id", "attach", "alice", nil); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("bad id: %v", err)
	}
}

// TestBegin: one of many workers begins a queued job; nobody begins a running job until it
// goes stale, nor an ended one.
func TestBegin(t *testing.T) {
	s := newStore(t)
	clock := testwait.NewClock(time.Now())
	s.Now = clock.Now
	ctx := context.Background()
	j, err := s.Create(ctx, "attach", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	var begun atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, lease, err := s.Begin(ctx, j.ID, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if lease != nil {
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
	if _, lease, _ := s.Begin(ctx, j.ID, time.Minute); lease != nil {
		t.Error("a fresh running job was begun again")
	}
	clock.Add(time.Minute + time.Second) // its worker has been silent for longer than stale
	got, lease, err := s.Begin(ctx, j.ID, time.Minute)
	if err != nil || lease == nil || got.Attempts != 2 {
		t.Fatalf("stale running job: %+v, %v, %v; want begun, attempt 2", got, lease, err)
	}
	if err := lease.Finish(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if got, lease, _ := s.Begin(ctx, j.ID, 0); lease != nil || got.State != jobs.Done {
		t.Errorf("done job: %+v, begun %v", got, lease != nil)
	}
	if _, _, err := s.Begin(ctx, jobs.NewID(), time.Minute); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("missing job: %v", err)
	}
}

// TestLeaseFencesTheWorkerTakenForDead: once another worker has begun the job again, every
// write of the first one is refused with ErrLost and changes nothing.
func TestLeaseFencesTheWorkerTakenForDead(t *testing.T) {
	s := newStore(t)
	clock := testwait.NewClock(time.Now())
	s.Now = clock.Now
	ctx := context.Background()
	j, err := s.Create(ctx, "attach", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, old, err := s.Begin(ctx, j.ID, time.Minute)
	if err != nil || old == nil {
		t.Fatal(err)
	}
	if err := old.Progress(ctx, 10); err != nil {
		t.Fatalf("progress while holding the job: %v", err)
	}
	clock.Add(time.Minute + time.Second)
	_, current, err := s.Begin(ctx, j.ID, time.Minute)
	if err != nil || current == nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func() error{
		"Touch":    func() error { return old.Touch(ctx) },
		"Progress": func() error { return old.Progress(ctx, 40) },
		"Requeue":  func() error { return old.Requeue(ctx) },
		"Fail":     func() error { return old.Fail(ctx, "stale worker") },
		"Finish":   func() error { return old.Finish(ctx, "stale result") },
	} {
		if err := write(); !errors.Is(err, jobs.ErrLost) {
			t.Errorf("%s by the worker taken for dead: %v, want ErrLost", name, err)
		}
	}
	if err := current.Finish(ctx, "result"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, j.ID)
	if err != nil || got.State != jobs.Done || string(got.Result) != `"result"` || got.Attempts != 2 {
		t.Fatalf("job = %+v, %v; want done with the current worker's result", got, err)
	}
	if err := current.Touch(ctx); !errors.Is(err, jobs.ErrLost) {
		t.Errorf("touch after finishing: %v, want ErrLost", err)
	}
}

// TestAbandon: a failed job is recorded under an id nobody created; an existing job wins.
func TestAbandon(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := jobs.NewID()
	j, err := s.Abandon(ctx, id, "attach", "alice", "never started")
	if err != nil || j.State != jobs.Failed || j.Error != "never started" {
		t.Fatalf("Abandon = %+v, %v", j, err)
	}
	if _, made, err := s.CreateOnce(ctx, id, "attach", "alice", nil); err != nil || made {
		t.Errorf("a late creation made the job again: %v, %v", made, err)
	}
	live, err := s.Create(ctx, "attach", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if j, err := s.Abandon(ctx, live.ID, "attach", "alice", "x"); err != nil || j.State != jobs.Queued {
		t.Errorf("Abandon of an existing job = %+v, %v; want it untouched", j, err)
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
			if err := s.Update(ctx, j.ID, func(j *jobs.Job) { j.Error = "" }); err != nil {
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

// TestDamagedRecordIsNotAnOutage: a job record that does not decode is reported as such, not
// as Redis being unavailable (which would make callers answer 503 and retry for ever).
func TestDamagedRecordIsNotAnOutage(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	s := jobs.New(rdb, cfg.Redis.KeyPrefix)
	ctx := context.Background()
	id := jobs.NewID()
	if err := rdb.Set(ctx, cfg.Redis.KeyPrefix+"job:"+id, "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, id, func(*jobs.Job) {})
	if err == nil || errors.Is(err, dep.ErrUnavailable) {
		t.Fatalf("update of a damaged record: %v; want an error that is not an outage", err)
	}
}

func TestObserveTellsStalledJobs(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // any instant: only differences matter
	tests := []struct {
		name      string
		state     string
		silent    time.Duration
		wantAge   float64
		wantStall bool
	}{
		{"running, beating", jobs.Running, 10 * time.Second, 10, false},
		{"running, worker gone", jobs.Running, 5 * time.Minute, 300, true},
		{"running, clock skew", jobs.Running, -3 * time.Second, 0, false},
		{"queued long ago", jobs.Queued, time.Hour, 0, false},
		{"done long ago", jobs.Done, time.Hour, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := jobs.Job{State: tt.state, Updated: now.Add(-tt.silent)}
			j.Observe(now, jobs.StallAfter)
			if j.HeartbeatAge != tt.wantAge || j.Stalled != tt.wantStall {
				t.Errorf("age %v stalled %v, want %v %v", j.HeartbeatAge, j.Stalled, tt.wantAge, tt.wantStall)
			}
		})
	}
}
