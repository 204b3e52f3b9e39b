// Package liveroom is the shared state of live lectures in Redis, correct with several server
// nodes: who is watching (current, peak and total viewers) and the chat and Q&A. (The lecture
// record is package lectures'; the node's media sessions are package live's.)
//
// Viewers: each node registers its viewer sessions in one sorted set per lecture, scored by
// an expiry time that the node's heartbeat (Run) pushes forward every few seconds; the count
// is the members not yet expired, so the sessions of a crashed node drop out after ViewerTTL.
// Times come from the Redis clock (TIME inside the scripts), so nodes need not agree on theirs.
//
// Chat: one Redis stream per lecture holds the recent messages, questions and moderation
// events (deletions, answered marks), trimmed to about HistoryLen entries. Late joiners read
// History; Subscribe follows the stream from a given id, so a Server-Sent Events handler
// resumes from Last-Event-ID without loss. Each node reads a lecture's stream with one
// blocking XREAD and fans it out to its subscribers, so a thousand viewers cost one Redis
// connection, not a thousand.
//
// Redis keys, all under Options.KeyPrefix+"live:" (shown here as P):
//
//	P viewers:<lecture>        sorted set node|session → expiry (ms)   sessions watching now
//	P peak:<lecture>           string                                  most sessions at once
//	P uniq:<lecture>           set of viewer ids                       everybody who watched
//	P chat:<lecture>           stream                                  messages and moderation events
//	P track:<lecture>          stream                                  a tour guide's positions
//	P mute:<lecture>:<author>  string (who muted), TTL = the mute      authors who may not post
//	P rate:<author>            sorted set of post times (ms)           posts in the rate window
//
// Every key but mute and rate expires Options.Keep after the room's last activity.
package liveroom

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shizuishan/culturecloud/internal/dep"
)

// Defaults for the zero values of Options.
const (
	DefaultViewerTTL  = 15 * time.Second
	DefaultHeartbeat  = 5 * time.Second
	DefaultHistoryLen = 500
	DefaultMaxText    = 500
	DefaultRateLimit  = 5
	DefaultRateWindow = 10 * time.Second
	DefaultKeep       = 30 * 24 * time.Hour
	// DefaultBuffer is how many events a subscriber may fall behind before it is dropped.
	DefaultBuffer = 256
	// MaxMute is the longest mute.
	MaxMute  = 30 * 24 * time.Hour
	maxIDLen = 100
	maxName  = 40
)

var (
	// ErrInvalid says that a lecture, session, viewer or author id is not one this package accepts.
	ErrInvalid = errors.New("liveroom: invalid id")
	// ErrNotFound means no such message in the lecture's recent chat.
	ErrNotFound = errors.New("liveroom: message not found")
	// ErrNotQuestion means the message is a chat message, which cannot be answered.
	ErrNotQuestion = errors.New("liveroom: message is not a question")
	// ErrRateLimited means the author posted too much; the error is a *RetryError.
	ErrRateLimited = errors.New("liveroom: too many messages")
	// ErrMuted means a moderator muted the author in this lecture; the error is a *RetryError.
	ErrMuted = errors.New("liveroom: muted")
)

// RetryError says that a post was refused for now, and when to try again. errors.Is matches
// its Err (ErrRateLimited or ErrMuted); handlers answer 429 with Retry-After.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return fmt.Sprintf("%v; retry after %s", e.Err, e.After) }

func (e *RetryError) Unwrap() error { return e.Err }

// Options configure New.
type Options struct {
	// KeyPrefix is the Redis key prefix, e.g. "cc:"; all keys live under KeyPrefix+"live:".
	KeyPrefix string
	// Node names this server process among all that share the Redis; hostname, pid and a
	// random suffix when empty.
	Node string
	// ViewerTTL is how long a viewer session counts without a heartbeat; DefaultViewerTTL when zero.
	ViewerTTL time.Duration
	// Heartbeat is how often Run refreshes this node's sessions; DefaultHeartbeat when zero.
	// It must be well below ViewerTTL.
	Heartbeat time.Duration
	// HistoryLen is about how many stream entries a lecture keeps; DefaultHistoryLen when zero.
	HistoryLen int64
	// MaxText is the longest message in characters; DefaultMaxText when zero.
	MaxText int
	// RateLimit messages per RateWindow per author; DefaultRateLimit and DefaultRateWindow when zero.
	RateLimit  int
	RateWindow time.Duration
	// Keep is how long a room's keys live after its last activity; DefaultKeep when zero.
	Keep time.Duration
	// Buffer is how many events a subscriber may fall behind; DefaultBuffer when zero.
	Buffer int
	// TrackLen is about how many positions a guide's track keeps; DefaultTrackLen when zero.
	TrackLen int64
	// MoveInterval is the shortest time between two positions; DefaultMoveInterval when zero.
	MoveInterval time.Duration
	// Log hears about Redis failures of the background work (heartbeats, stream readers);
	// nothing is logged when nil.
	Log *slog.Logger
}

// Room is one node's handle on the live rooms of every lecture. It is safe for concurrent use.
type Room struct {
	rdb  *redis.Client
	opts Options
	p    string // KeyPrefix + "live:"

	touch, count, stats, post, moderate, move *redis.Script

	mu       sync.Mutex
	sessions map[string]map[string]string // lecture → session → viewer, on this node
	hubs     map[string]*hub              // stream key → its reader on this node, while subscribed
	hubWG    sync.WaitGroup
}

// New builds a Room.
func New(rdb *redis.Client, opts Options) *Room {
	if opts.Node == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opts.Node = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	opts.Node = strings.Map(func(r rune) rune {
		if r == '|' || r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, opts.Node)
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.ViewerTTL, DefaultViewerTTL)
	def(&opts.Heartbeat, DefaultHeartbeat)
	def(&opts.RateWindow, DefaultRateWindow)
	def(&opts.Keep, DefaultKeep)
	def(&opts.MoveInterval, DefaultMoveInterval)
	if opts.TrackLen <= 0 {
		opts.TrackLen = DefaultTrackLen
	}
	if opts.HistoryLen <= 0 {
		opts.HistoryLen = DefaultHistoryLen
	}
	if opts.MaxText <= 0 {
		opts.MaxText = DefaultMaxText
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Room{
		rdb: rdb, opts: opts, p: opts.KeyPrefix + "live:",
		touch: redis.NewScript(touchScript), count: redis.NewScript(countScript), stats: redis.NewScript(statsScript),
		post: redis.NewScript(postScript), moderate: redis.NewScript(moderateScript), move: redis.NewScript(moveScript),
		sessions: map[string]map[string]string{}, hubs: map[string]*hub{},
	}
}

// Node is this node's name.
func (r *Room) Node() string { return r.opts.Node }

var lecturePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkLecture(lecture string) error {
	if !lecturePattern.MatchString(lecture) {
		return fmt.Errorf("%w: lecture %q", ErrInvalid, lecture)
	}
	return nil
}

// checkID accepts a session, viewer or author id: 1 to 100 bytes, no space, control or '|'.
func checkID(kind, id string) error {
	if id == "" || len(id) > maxIDLen || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '|' }) {
		return fmt.Errorf("%w: %s %q", ErrInvalid, kind, id)
	}
	return nil
}

func (r *Room) viewersKey(lecture string) string { return r.p + "viewers:" + lecture }
func (r *Room) peakKey(lecture string) string    { return r.p + "peak:" + lecture }
func (r *Room) uniqKey(lecture string) string    { return r.p + "uniq:" + lecture }
func (r *Room) chatKey(lecture string) string    { return r.p + "chat:" + lecture }
func (r *Room) trackKey(lecture string) string   { return r.p + "track:" + lecture }
func (r *Room) muteKey(lecture, author string) string {
	return r.p + "mute:" + lecture + ":" + author
}
func (r *Room) rateKey(author string) string { return r.p + "rate:" + author }

// redisErr names the failed operation and classifies the failure (see dep.FromRedis).
func redisErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return dep.FromRedis(fmt.Errorf("liveroom: %s: %w", op, err))
}
