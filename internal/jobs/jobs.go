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
	"fmt"
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
	// Set by Observe for a reader: how long the worker of a running job has been silent, and
	// whether that is long enough to call the job stalled rather than "running, 0 %".
	HeartbeatAge float64 `json:"heartbeat_age_s,omitempty"`
	Stalled      bool    `json:"stalled,omitempty"`
}

// StallAfter is how long a running job's worker may be silent before readers are told the
// job stalled: workers beat every 15 s, so this is four missed beats.
const StallAfter = time.Minute

// Observe fills HeartbeatAge and Stalled as seen at now.
func (j *Job) Observe(now time.Time, stallAfter time.Duration) {
	if j.State != Running {
		j.HeartbeatAge, j.Stalled = 0, false
		return
	}
	age := max(now.Sub(j.Updated), 0)
	j.HeartbeatAge = age.Round(time.Second).Seconds()
	j.Stalled = age > stallAfter
}

// Store keeps jobs under prefix+"job:".
type Store struct {
	rdb    *redis.Client
	prefix string
	// Now is time.Now when nil; tests pass their clock so that a lease goes stale without
	// waiting for it.
	Now func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
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
	j, err := s.newJob(NewID(), kind, owner, input)
	if err != nil {
		return Job{}, err
	}
	return j, s.save(ctx, j)
}

// CreateOnce records a queued job under an id from NewID unless a job has that id already.
// It returns the job under id and whether this call created it.
func (s *Store) CreateOnce(ctx context.Context, id, kind, owner string, input any) (Job, bool, error) {
	if !idPattern.MatchString(id) {
		return Job{}, false, ErrNotFound
	}
	j, err := s.newJob(id, kind, owner, input)
	if err != nil {
		return Job{}, false, err
	}
	return s.createNX(ctx, j)
}

// createNX saves j unless a job has its id, and returns the job under the id.
func (s *Store) createNX(ctx context.Context, j Job) (Job, bool, error) {
	data, err := json.Marshal(j)
	if err != nil {
		return Job{}, false, err
	}
	created, err := s.rdb.SetNX(ctx, s.prefix+j.ID, data, ttl).Result()
	if err != nil {
		return Job{}, false, dep.FromRedis(err)
	}
	if created {
		return j, true, nil
	}
	j, err = s.Get(ctx, j.ID)
	return j, false, err
}

func (s *Store) newJob(id, kind, owner string, input any) (Job, error) {
	in, err := json.Marshal(input)
	if err != nil {
		return Job{}, err
	}
	now := s.now()
	return Job{ID: id, Kind: kind, Owner: owner, State: Queued, Created: now, Updated: now, Input: in}, nil
}

func (s *Store) save(ctx context.Context, j Job) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return dep.FromRedis(s.rdb.Set(ctx, s.prefix+j.ID, data, ttl).Err())
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
		return Job{}, dep.FromRedis(err)
	}
	var j Job
	if err := json.Unmarshal(data, &j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Update changes a job with fn and saves it.
func (s *Store) Update(ctx context.Context, id string, fn func(j *Job)) error {
	_, _, err := s.change(ctx, id, func(j *Job) bool { fn(j); return true })
	return err
}

// errDamaged means a job record that does not decode: a bug, not Redis failing.
var errDamaged = errors.New("jobs: damaged job record")

// change applies fn to the job and saves the result if fn says so, atomically: when another
// writer changed the job meanwhile (a worker's heartbeat, a second worker), fn runs again on
// the new state, so no update ever writes back a state it did not see.
func (s *Store) change(ctx context.Context, id string, fn func(j *Job) bool) (Job, bool, error) {
	if !idPattern.MatchString(id) {
		return Job{}, false, ErrNotFound
	}
	key := s.prefix + id
	for attempt := 0; ; attempt++ {
		var j Job
		changed := false
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			data, err := tx.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			j = Job{}
			if err := json.Unmarshal(data, &j); err != nil {
				return fmt.Errorf("%w: %s: %w", errDamaged, id, err)
			}
			if !fn(&j) {
				return nil
			}
			j.Updated = s.now()
			if data, err = json.Marshal(j); err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, data, ttl)
				return nil
			})
			changed = err == nil
			return err
		}, key)
		switch {
		case errors.Is(err, redis.TxFailedErr) && attempt < 50:
			continue
		case err == nil:
			return j, changed, nil
		case errors.Is(err, ErrNotFound), errors.Is(err, errDamaged):
			return Job{}, false, err
		default:
			return Job{}, false, dep.FromRedis(err)
		}
	}
}

// Start marks a job running and counts the attempt.
func (s *Store) Start(ctx context.Context, id string) error {
	return s.Update(ctx, id, func(j *Job) { j.State, j.Attempts = Running, j.Attempts+1 })
}

// ErrLost means a worker's lease on a job has ended: another worker began it again (this
// one looked dead), or it was finished or failed meanwhile.
var ErrLost = errors.New("job taken over or ended elsewhere")

// Lease is one worker's hold on a job that it began. Its writes go through only while the
// job is still running this attempt, so a worker that was taken for dead never overwrites
// the work of the one that took over.
type Lease struct {
	s       *Store
	id      string
	attempt int
}

// Begin marks a job running and counts the attempt, if it may start: it is queued, or it is
// running but has not been updated for longer than stale (its worker died). It returns the
// job and the lease; the lease is nil when the job has ended or another worker holds it.
// Two workers never both begin the same attempt.
func (s *Store) Begin(ctx context.Context, id string, stale time.Duration) (Job, *Lease, error) {
	j, begun, err := s.change(ctx, id, func(j *Job) bool {
		if j.State != Queued && (j.State != Running || s.now().Sub(j.Updated) < stale) {
			return false
		}
		j.State, j.Attempts = Running, j.Attempts+1
		return true
	})
	if err != nil || !begun {
		return j, nil, err
	}
	return j, &Lease{s: s, id: id, attempt: j.Attempts}, nil
}

// Update changes the job with fn if the lease still holds, otherwise returns ErrLost.
func (l *Lease) Update(ctx context.Context, fn func(j *Job)) error {
	_, changed, err := l.s.change(ctx, l.id, func(j *Job) bool {
		if j.State != Running || j.Attempts != l.attempt {
			return false
		}
		fn(j)
		return true
	})
	if err == nil && !changed {
		return ErrLost
	}
	return err
}

// Touch records that the worker is still at it (see Begin's stale).
func (l *Lease) Touch(ctx context.Context) error { return l.Update(ctx, func(*Job) {}) }

// Progress records how far the job is.
func (l *Lease) Progress(ctx context.Context, percent int) error {
	return l.Update(ctx, progressed(percent))
}

// Requeue hands the job back, for the next delivery to begin at once.
func (l *Lease) Requeue(ctx context.Context) error {
	return l.Update(ctx, func(j *Job) { j.State = Queued })
}

// Finish marks the job done with its result.
func (l *Lease) Finish(ctx context.Context, result any) error {
	fn, err := finished(result)
	if err != nil {
		return err
	}
	return l.Update(ctx, fn)
}

// Fail marks the job failed with a message for people.
func (l *Lease) Fail(ctx context.Context, message string) error {
	return l.Update(ctx, failed(message))
}

// Abandon records, unless a job has the id already, a failed job under it with message: a
// request that reserved the id and never created its job cannot create it any more.
func (s *Store) Abandon(ctx context.Context, id, kind, owner, message string) (Job, error) {
	if !idPattern.MatchString(id) {
		return Job{}, ErrNotFound
	}
	j, err := s.newJob(id, kind, owner, nil)
	if err != nil {
		return Job{}, err
	}
	j.State, j.Error = Failed, message
	j, _, err = s.createNX(ctx, j)
	return j, err
}

// Progress records how far a job is.
func (s *Store) Progress(ctx context.Context, id string, percent int) error {
	return s.Update(ctx, id, progressed(percent))
}

// Finish marks a job done with its result.
func (s *Store) Finish(ctx context.Context, id string, result any) error {
	fn, err := finished(result)
	if err != nil {
		return err
	}
	return s.Update(ctx, id, fn)
}

// Fail marks a job failed with a message for people.
func (s *Store) Fail(ctx context.Context, id, message string) error {
	return s.Update(ctx, id, failed(message))
}

// The changes that Store and Lease both make.
func progressed(percent int) func(*Job) {
	return func(j *Job) { j.Percent = min(max(percent, 0), 100) }
}

func finished(result any) (func(*Job), error) {
	data, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	return func(j *Job) { j.State, j.Percent, j.Result, j.Error = Done, 100, data, "" }, nil
}

func failed(message string) func(*Job) {
	return func(j *Job) { j.State, j.Error = Failed, message }
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
