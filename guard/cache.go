package guard

import (
	"sync"
	"time"
)

// maxCached bounds each of the Guard's caches. Past it, an arbitrary entry
// makes room for the new one, so a flood of distinct credentials costs the
// caches their hit rate but never unbounded memory.
const maxCached = 100_000

// cache maps the SHA-256 of a credential (of an access token, its
// signature's: see Guard.bearer), as gatehouse.SHA256 computes it without
// an allocation, to what was learnt about it, until a deadline. A nil
// value is a cached refusal.
type cache[V any] struct {
	mu sync.RWMutex
	m  map[[32]byte]cached[V]
}

type cached[V any] struct {
	v     *V
	until time.Time
}

func newCache[V any]() *cache[V] {
	return &cache[V]{m: make(map[[32]byte]cached[V])}
}

// get returns the value stored for key, if it is still good at now.
func (c *cache[V]) get(key [32]byte, now time.Time) (*V, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.v, true
}

// put stores v for key until the deadline.
func (c *cache[V]) put(key [32]byte, v *V, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= maxCached {
		for k := range c.m { // map order is random: evict any one entry
			delete(c.m, k)
			break
		}
	}
	c.m[key] = cached[V]{v: v, until: until}
}

// sweep forgets the entries that are no longer good at now.
func (c *cache[V]) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if !now.Before(e.until) {
			delete(c.m, k)
		}
	}
}
