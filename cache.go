package gatehouse

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sessionCache keeps recently checked sessions in memory, keyed by the
// SHA-256 of their secret, so that a session check costs a hash and a map
// lookup rather than a store read. A revocation drops the entries it
// concerns: at once on this server, through the revocation feed for one
// made elsewhere. How long an entry is trusted otherwise is
// AuthenticateSession's business (see Config.CacheTTL).
type sessionCache struct {
	mu     sync.RWMutex
	byHash map[[32]byte]*cacheEntry
	byID   map[string][32]byte
	// drops counts drop and dropUser calls, so that put can refuse an
	// entry read from the store before a drop that it would undo.
	drops atomic.Uint64

	grantsMu sync.Mutex
	grants   map[string]*grant // by roles joined with "\x00"
}

// cacheEntry is what the session check and its Principal need of a
// session and its user, and nothing else: the device, address and user
// agent of the login and the user's password hash stay in the store
// (Sessions lists them), as they would triple an entry's size. Times are
// Unix nanoseconds (0 for none), which hold no pointer for the garbage
// collector to follow. An entry is immutable once published.
type cacheEntry struct {
	loginID, userID, email string
	emailVerified          bool
	aal                    int
	amr                    []string
	created                int64 // the login's creation
	grant                  *grant
	userCreated            int64
	lastSeen               int64
	expires, idleExpires   int64
	// fresh is when the entry stops being trusted while the revocation
	// feed is current, short when it is not (see feed.current).
	fresh, short int64
}

// grant is a set of roles and the permissions they grant. Users with the
// same roles share one, rather than holding a copy each.
type grant struct {
	roles, perms []string
}

// Bounds on the cache's memory: when the cache is full, a tenth of it is
// evicted (see evict); distinct role sets beyond maxGrants (there are
// normally a handful) get a grant of their own instead of a shared one.
const (
	maxCachedSessions = 200_000
	maxGrants         = 1024
)

func newSessionCache() *sessionCache {
	return &sessionCache{
		byHash: make(map[[32]byte]*cacheEntry),
		byID:   make(map[string][32]byte),
		grants: make(map[string]*grant),
	}
}

// newEntry returns the cache entry of a session as the store has it,
// trusted for long while the feed is current and for short otherwise,
// both counted from now.
func (c *sessionCache) newEntry(l Login, u User, perms permsFunc, now time.Time, long, short time.Duration) *cacheEntry {
	n := now.UnixNano()
	return &cacheEntry{
		loginID: l.ID, userID: u.ID, email: u.Email, emailVerified: u.EmailVerified,
		aal: l.AAL, amr: l.AMR, created: unixNano(l.CreatedAt),
		grant:       c.grant(u.Roles, l.AAL, perms),
		userCreated: unixNano(u.CreatedAt),
		lastSeen:    unixNano(l.LastSeenAt),
		expires:     unixNano(l.ExpiresAt), idleExpires: unixNano(l.IdleExpiresAt),
		fresh: n + int64(long), short: n + int64(short),
	}
}

// permsFunc says what roles grant at an assurance level.
type permsFunc func(roles []string, aal int) []string

// grant returns the shared grant of a set of roles at an assurance level.
func (c *sessionCache) grant(roles []string, aal int, perms permsFunc) *grant {
	key := strings.Join(roles, "\x00") + "\x01" + strconv.Itoa(aal)
	c.grantsMu.Lock()
	defer c.grantsMu.Unlock()
	if g, ok := c.grants[key]; ok {
		return g
	}
	g := &grant{roles: roles, perms: perms(roles, aal)}
	if len(c.grants) < maxGrants {
		c.grants[key] = g
	}
	return g
}

// live reports whether the session was live at now (Unix nanoseconds) as
// far as the entry knows; see Login.Live.
func (e *cacheEntry) live(now int64) bool {
	return now < e.expires && (e.idleExpires == 0 || now < e.idleExpires)
}

// principal returns the principal of the entry. Its slices are shared.
func (e *cacheEntry) principal() Principal {
	return Principal{
		User: User{ID: e.userID, Email: e.email, EmailVerified: e.emailVerified, Roles: e.grant.roles, CreatedAt: fromUnixNano(e.userCreated)},
		Login: Login{
			ID: e.loginID, UserID: e.userID, Mode: ModeSession, LastSeenAt: fromUnixNano(e.lastSeen), AAL: e.aal, AMR: e.amr,
			CreatedAt: fromUnixNano(e.created),
			ExpiresAt: fromUnixNano(e.expires), IdleExpiresAt: fromUnixNano(e.idleExpires),
		},
		Permissions: e.grant.perms,
	}
}

// get returns the entry of a secret hash if it is still trusted at now
// (Unix nanoseconds): until its fresh time while the revocation feed is
// current, until its short time otherwise.
func (c *sessionCache) get(h [32]byte, now int64, feedCurrent bool) *cacheEntry {
	c.mu.RLock()
	e := c.byHash[h]
	c.mu.RUnlock()
	if e == nil {
		return nil
	}
	until := e.short
	if feedCurrent {
		until = e.fresh
	}
	if now >= until {
		return nil
	}
	return e
}

// dropCount returns the number of drops so far; pass it to put.
func (c *sessionCache) dropCount() uint64 { return c.drops.Load() }

// put caches e under h, unless a drop happened since dropCount returned
// drops: e was read from the store before that drop, which may have been
// the revocation of its login, or a role change of its user, that the
// read did not see yet. The check that read e may still use it; the next
// one reads again.
func (c *sessionCache) put(h [32]byte, e *cacheEntry, drops uint64, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drops.Load() != drops {
		return
	}
	if len(c.byHash) >= maxCachedSessions {
		evict(c.byHash, func(e *cacheEntry) bool { return now >= e.fresh })
		for id, h := range c.byID {
			if _, ok := c.byHash[h]; !ok {
				delete(c.byID, id)
			}
		}
	}
	c.byHash[h] = e
	c.byID[e.loginID] = h
}

// drop forgets the sessions of the given login ids.
func (c *sessionCache) drop(ids ...string) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops.Add(1)
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
	c.drops.Add(1)
	for h, e := range c.byHash {
		if e.userID == userID {
			delete(c.byHash, h)
			delete(c.byID, e.loginID)
		}
	}
}

// sweep forgets entries that are no longer fresh at now.
func (c *sessionCache) sweep(now time.Time) {
	n := now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.byHash {
		if n >= e.fresh {
			delete(c.byHash, h)
			delete(c.byID, e.loginID)
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

// unixNano returns t in Unix nanoseconds, or 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano is the inverse of unixNano; the time is in UTC.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
