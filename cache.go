package gatehouse

import (
	"sync"
	"time"
)

// sessionCache keeps recently checked sessions in memory, keyed by the
// SHA-256 of their secret, so that a session check costs a hash and a map
// lookup rather than a store read. An entry is trusted until its fresh
// time; a revocation on this server drops it at once.
type sessionCache struct {
	mu     sync.RWMutex
	byHash map[[32]byte]*cacheEntry
	byID   map[string][32]byte
}

// cacheEntry is immutable once published; updates replace it.
type cacheEntry struct {
	login Login
	user  User
	perms []string
	fresh time.Time
}

// maxCachedSessions bounds the cache's memory; when it is full, a tenth
// of it is evicted (see evict).
const maxCachedSessions = 200_000

func newSessionCache() *sessionCache {
	return &sessionCache{byHash: make(map[[32]byte]*cacheEntry), byID: make(map[string][32]byte)}
}

func (c *sessionCache) get(h [32]byte, now time.Time) (*cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.byHash[h]
	c.mu.RUnlock()
	if !ok || !now.Before(e.fresh) {
		return nil, false
	}
	return e, true
}

func (c *sessionCache) put(h [32]byte, e *cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byHash) >= maxCachedSessions {
		evict(c.byHash, func(e *cacheEntry) bool { return !now.Before(e.fresh) })
		for id, h := range c.byID {
			if _, ok := c.byHash[h]; !ok {
				delete(c.byID, id)
			}
		}
	}
	c.byHash[h] = e
	c.byID[e.login.ID] = h
}

// touch records activity in the cached entry, if it is still cached.
func (c *sessionCache) touch(h [32]byte, e *cacheEntry, seen, idle time.Time) *cacheEntry {
	n := *e
	n.login.LastSeenAt = seen
	n.login.IdleExpiresAt = idle
	c.mu.Lock()
	if _, ok := c.byHash[h]; ok {
		c.byHash[h] = &n
	}
	c.mu.Unlock()
	return &n
}

// drop forgets the sessions of the given login ids.
func (c *sessionCache) drop(ids ...string) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if h, ok := c.byID[id]; ok {
			delete(c.byHash, h)
			delete(c.byID, id)
		}
	}
}

// dropUser forgets every session of one user, after a change to the user.
func (c *sessionCache) dropUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.byHash {
		if e.user.ID == userID {
			delete(c.byHash, h)
			delete(c.byID, e.login.ID)
		}
	}
}

// sweep forgets entries that are no longer fresh.
func (c *sessionCache) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(now)
}

func (c *sessionCache) sweepLocked(now time.Time) {
	for h, e := range c.byHash {
		if !now.Before(e.fresh) {
			delete(c.byHash, h)
			delete(c.byID, e.login.ID)
		}
	}
}

// evict makes room in a full cache: it removes every stale entry and, if
// that frees less than a tenth, arbitrary ones (Go's map order is random)
// until a tenth is free. One pass then serves the next tenth of inserts,
// so a full cache costs O(1) per insert on average, instead of a sweep
// under the lock on every insert.
func evict[K comparable, V any](m map[K]V, stale func(V) bool) {
	target := len(m) - len(m)/10
	for k, v := range m {
		if stale(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) <= target {
			return
		}
		delete(m, k)
	}
}
