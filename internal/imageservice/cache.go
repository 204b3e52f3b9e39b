package imageservice

import (
	"container/list"
	"sync"
)

// tileCache keeps the bytes of recently asked tiles, up to a total size: a tile never changes
// for its name (the content's digest is in it), and a viewer's neighbours ask for the same
// tiles, so the hot ones are answered without a round trip to MinIO.
type tileCache struct {
	max int64

	mu    sync.Mutex
	size  int64
	order *list.List // front: most recently used
	byKey map[string]*list.Element
}

type cachedTile struct {
	key  string
	data []byte
}

func newTileCache(maxBytes int64) *tileCache {
	return &tileCache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *tileCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedTile).data, true
}

func (c *tileCache) put(key string, data []byte) {
	if int64(len(data)) > c.max/16 { // one tile never takes a large share
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = c.order.PushFront(&cachedTile{key: key, data: data})
	c.size += int64(len(data))
	for c.size > c.max {
		last := c.order.Back()
		t := last.Value.(*cachedTile)
		c.order.Remove(last)
		delete(c.byKey, t.key)
		c.size -= int64(len(t.data))
	}
}
