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

// maxCachedSessions bounds the cache's memory; past it, checks read the
// store until expired entries are swept.
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
		c.sweepLocked(now)
		if len(c.byHash) >= maxCachedSessions {
			return
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
