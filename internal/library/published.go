package library

import (
	"sync"
	"time"
)

// PublishedCache remembers for a few seconds which items were published when last read, and
// the digests of their files then, so that counting a view (the busiest write of the site)
// and serving a stream's segments cost no MinIO read. A view of an item withdrawn within
// those seconds still counts: harmless. A change made through this node forgets the item at
// once (Forget); other nodes learn of it within the cache's lifetime.
type PublishedCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]publishedEntry
}

// PublishedTTL is how long a node takes an item it read as published to be still published:
// other nodes' withdrawals reach it within that time.
const PublishedTTL = 10 * time.Second

type publishedEntry struct {
	until time.Time
	files map[string]bool // SHA-256 of the files of the published version
}

// NewPublishedCache keeps an entry for ttl, and at most max entries: past that it starts
// afresh rather than grow without end. now is the clock (time.Now when nil).
func NewPublishedCache(ttl time.Duration, maxEntries int, now func() time.Time) *PublishedCache {
	if now == nil {
		now = time.Now
	}
	return &PublishedCache{ttl: ttl, max: maxEntries, now: now}
}

// Has reports whether the item id was published when last read, within the lifetime.
func (r *PublishedCache) Has(id string) bool {
	_, ok := r.get(id)
	return ok
}

// HasFile reports whether the item id was published with a file of digest sha.
func (r *PublishedCache) HasFile(id, sha string) bool {
	e, ok := r.get(id)
	return ok && e.files[sha]
}

func (r *PublishedCache) get(id string) (publishedEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[id]
	return e, ok && r.now().Before(e.until)
}

// Add remembers it, read as published.
func (r *PublishedCache) Add(it Item) {
	files := make(map[string]bool, len(it.Files))
	for _, f := range it.Files {
		files[f.SHA256] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= r.max {
		r.m = map[string]publishedEntry{}
	}
	r.m[it.ID] = publishedEntry{until: r.now().Add(r.ttl), files: files}
}

// Forget drops the item id: it changed through this node.
func (r *PublishedCache) Forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}
