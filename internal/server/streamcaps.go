package server

import (
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/internal/live"
)

// streamCaps caps the open Server-Sent Event streams (chat, a tour guide's positions) of this
// node: each holds a connection, a goroutine and a subscription buffer for as long as the
// page is open, and anyone may open them. Per client address (live.event_streams_per_ip) and
// per node (live.max_event_streams), like the viewer caps of WHEP.
type streamCaps struct {
	mu       sync.Mutex
	perIP    map[string]int
	total    int
	maxPerIP int
	max      int
}

// Retry hints: a place frees when a page closes; browsers reconnect by themselves.
const (
	streamRetryPerAddress = 10 * time.Second
	streamRetryNode       = 5 * time.Second
)

func newStreamCaps(maxPerIP, maxAll int) *streamCaps {
	return &streamCaps{perIP: map[string]int{}, maxPerIP: maxPerIP, max: maxAll}
}

// take holds a place for a stream from ip until release is called, or says which cap
// refuses it (a *live.CapError, answered 429 or 503 with Retry-After).
func (k *streamCaps) take(ip string) (release func(), err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.max > 0 && k.total >= k.max:
		return nil, &live.CapError{Node: true, After: streamRetryNode}
	case k.maxPerIP > 0 && k.perIP[ip] >= k.maxPerIP:
		return nil, &live.CapError{After: streamRetryPerAddress}
	}
	k.total++
	k.perIP[ip]++
	var once sync.Once
	return func() {
		once.Do(func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			k.total--
			if k.perIP[ip]--; k.perIP[ip] <= 0 {
				delete(k.perIP, ip)
			}
		})
	}, nil
}
