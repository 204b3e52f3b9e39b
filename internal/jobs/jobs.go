// Package jobs tracks long-running work (attaching a 20 GB upload, making derivatives) that a
// worker does after the HTTP request that asked for it has returned: state, progress, result
// and the error a person can read. Records live in Redis for a week.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
)

// States of a job.
const (
	Queued  = "queued"
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// ErrNotFound means no job with that id (or it expired).
var ErrNotFound = errors.New("job not found")

// Job is what a client sees of a job.
type Job struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Owner    string          `json:"owner"`
	State    string          `json:"state"`
	Percent  int             `json:"percent"`
	Error    string          `json:"error,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
	Input    json.RawMessage `json:"input,omitempty"`
	Attempts int             `json:"attempts"`
}

// Store keeps jobs under prefix+"job:".
type Store struct {
	rdb    *redis.Client
	prefix string
}

// New uses rdb.
func New(rdb *redis.Client, prefix string) *Store { return &Store{rdb: rdb, prefix: prefix + "job:"} }

const ttl = 7 * 24 * time.Hour

var idPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// NewID returns a fresh job id, for a caller that must record it before the job exists.
func NewID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Create records a queued job and returns it.
func (s *Store) Create(ctx context.Context, kind, owner string, input any) (Job, error) {
	return s.CreateWithID(ctx, NewID(), kind, owner, input)
}

// CreateWithID records a queued job under an id from NewID.
func (s *Store) CreateWithID(ctx context.Context, id, kind, owner string, input any) (Job, error) {
	if !idPattern.MatchString(id) {
		return Job{}, ErrNotFound
	}
	in, err := json.Marshal(input)
	if err != nil {
		return Job{}, err
	}
	now := time.Now().UTC()
	j := Job{ID: id, Kind: kind, Owner: owner, State: Queued, Created: now, Updated: now, Input: in}
	return j, s.save(ctx, j)
}

func (s *Store) save(ctx context.Context, j Job) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return dep.Unavailable(dep.Redis, s.rdb.Set(ctx, s.prefix+j.ID, data, ttl).Err())
}

// Get reads a job.
func (s *Store) Get(ctx context.Context, id string) (Job, error) {
	if !idPattern.MatchString(id) {
		return Job{}, ErrNotFound
	}
	data, err := s.rdb.Get(ctx, s.prefix+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, dep.Unavailable(dep.Redis, err)
	}
	var j Job
	if err := json.Unmarshal(data, &j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Update changes a job with fn and saves it.
func (s *Store) Update(ctx context.Context, id string, fn func(j *Job)) error {
	j, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	fn(&j)
	j.Updated = time.Now().UTC()
	return s.save(ctx, j)
}

// Start marks a job running and counts the attempt.
func (s *Store) Start(ctx context.Context, id string) error {
	return s.Update(ctx, id, func(j *Job) { j.State, j.Attempts = Running, j.Attempts+1 })
}

// Progress records how far a job is.
func (s *Store) Progress(ctx context.Context, id string, percent int) error {
	return s.Update(ctx, id, func(j *Job) { j.Percent = min(max(percent, 0), 100) })
}

// Finish marks a job done with its result.
func (s *Store) Finish(ctx context.Context, id string, result any) error {
	data, err := json.Marshal(result)
	if err != nil {
		return err
	}
	return s.Update(ctx, id, func(j *Job) { j.State, j.Percent, j.Result, j.Error = Done, 100, data, "" })
}

// Fail marks a job failed with a message for people.
func (s *Store) Fail(ctx context.Context, id, message string) error {
	return s.Update(ctx, id, func(j *Job) { j.State, j.Error = Failed, message })
}

// Ref packs a job id into an outbox reference.
func Ref(id string) string { return "job:" + id }

// FromRef unpacks Ref.
func FromRef(ref string) (string, bool) {
	if len(ref) != 4+24 || ref[:4] != "job:" {
		return "", false
	}
	return ref[4:], idPattern.MatchString(ref[4:])
}
