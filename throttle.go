package gatehouse

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// Limits configures throttling. The zero value of a field means its
// default, as the contract gives them.
type Limits struct {
	// AccountFailures is how many passwords may be checked for one account
	// from one address before that address waits (default 10), however
	// many attempts arrive at once (see throttle.reserve). Each attempt
	// checked after a wait doubles the next one, from LockoutBase
	// (default 30s) up to LockoutMax (default 1h).
	AccountFailures         int
	LockoutBase, LockoutMax time.Duration
	// AddressFailures is how many failed logins one address may make
	// across all accounts per AddressWindow (default 100 per 15m).
	AddressFailures int
	AddressWindow   time.Duration
	// Registrations per address per hour (default 100) and refreshes per
	// address per minute (default 600).
	Registrations, Refreshes int
	// Recoveries is how many recovery requests an address may make per
	// hour (default 20); RecoveriesPerAccount how many messages one
	// account may be sent per hour by recovery or verification requests
	// (default 3; further recovery requests are dropped unseen).
	Recoveries, RecoveriesPerAccount int
	// PasskeyBegins is how many passwordless sign-ins an address may
	// begin per minute (default 60): each keeps a ceremony in the store.
	PasskeyBegins int
	// AuthRequests is how many OpenID Connect authorization requests an
	// address may begin per minute (default 120): each is kept in the
	// store for AuthRequestTTL.
	AuthRequests int
	// IPv6Prefix is the length of the network by which an IPv6 client is
	// counted (default 64): one subscriber commonly holds a whole /64, so
	// counting single addresses would give each of its 2^64 addresses a
	// budget of its own.
	IPv6Prefix int
}

func (l Limits) withDefaults() Limits {
	l.AccountFailures = orDefaultInt(l.AccountFailures, 10)
	l.LockoutBase = orDefault(l.LockoutBase, 30*time.Second)
	l.LockoutMax = orDefault(l.LockoutMax, time.Hour)
	l.AddressFailures = orDefaultInt(l.AddressFailures, 100)
	l.AddressWindow = orDefault(l.AddressWindow, 15*time.Minute)
	l.Registrations = orDefaultInt(l.Registrations, 100)
	l.Refreshes = orDefaultInt(l.Refreshes, 600)
	l.Recoveries = orDefaultInt(l.Recoveries, 20)
	l.RecoveriesPerAccount = orDefaultInt(l.RecoveriesPerAccount, 3)
	l.PasskeyBegins = orDefaultInt(l.PasskeyBegins, 60)
	l.AuthRequests = orDefaultInt(l.AuthRequests, 120)
	l.IPv6Prefix = min(orDefaultInt(l.IPv6Prefix, 64), 128)
	return l
}

func orDefaultInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// Counters keeps expiring counters for throttling: in memory for one
// server (MemoryCounters), in Redis for several (package redis), so that
// every server counts the same attempts.
type Counters interface {
	// Add increments key, creating it to expire after ttl if it does not
	// exist, and returns the new count and the time until it expires.
	// Concurrent Adds of one key return distinct counts.
	Add(ctx context.Context, key string, ttl time.Duration) (int64, time.Duration, error)
	// Get returns key's count and time to expiry, 0 and 0 when absent.
	Get(ctx context.Context, key string) (int64, time.Duration, error)
	// Del removes keys.
	Del(ctx context.Context, keys ...string) error
}

// throttle applies Limits over Counters. A counter store that fails makes
// the throttle fail open for that attempt (logged): refusing every login
// because Redis is down would lock everyone out, while the password check
// itself still fails closed.
type throttle struct {
	lim Limits
	c   Counters
}

func tooMany(wait time.Duration) *Error {
	return &Error{Code: CodeTooManyAttempts, Detail: "too many attempts; try again later", RetryAfter: max(wait, time.Second)}
}

// addressKey is the part of a throttle key that names a client: the
// address itself for IPv4, its network of IPv6Prefix bits for IPv6.
func (t *throttle) addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, err := a.WithZone("").Prefix(t.lim.IPv6Prefix)
	if err != nil {
		return ip
	}
	return p.String()
}

// reserve counts an attempt to check a password for an account from an
// address, when it arrives and before the password is checked, and
// returns the wait when it must not be checked. Counting on arrival is
// what bounds guessing in parallel: of any number of attempts in flight
// at once, no more than AccountFailures are checked before the address is
// locked out (a right password among the later ones waits too).
//
// The attempt that reaches the limit starts the lockout; when a lockout
// ends, the next attempt is checked and starts the next one, twice as
// long, so that a guesser gets one password a lockout. Attempts refused
// during a lockout are not counted, so they do not lengthen it. A right
// password ends it all (succeeded).
func (t *throttle) reserve(ctx context.Context, email, ip string) (time.Duration, error) {
	key := email + "|" + t.addressKey(ip)
	if n, left, err := t.c.Get(ctx, "lock|"+key); err != nil || n > 0 {
		return left, err
	}
	n, _, err := t.c.Add(ctx, "fails|"+key, 24*time.Hour)
	if err != nil {
		return 0, err
	}
	over := n - int64(t.lim.AccountFailures)
	if over < 0 {
		return 0, nil
	}
	wait := min(t.lim.LockoutBase<<min(over, 20), t.lim.LockoutMax)
	// Of the attempts that reach this point together, only the one that
	// opens the lockout is checked.
	m, left, err := t.c.Add(ctx, "lock|"+key, wait)
	if err != nil || m == 1 {
		return 0, err
	}
	return left, nil
}

// failed records that a reserved check found the password wrong and
// returns the wait this address now faces: the account's lockout here,
// if the attempt started one, or the address's budget of failures across
// accounts being spent.
func (t *throttle) failed(ctx context.Context, email, ip string) (time.Duration, error) {
	addr := t.addressKey(ip)
	_, wait, err := t.c.Get(ctx, "lock|"+email+"|"+addr)
	if err != nil {
		return 0, err
	}
	m, left, err := t.c.Add(ctx, "ipfails|"+addr, t.lim.AddressWindow)
	if err != nil {
		return 0, err
	}
	if m > int64(t.lim.AddressFailures) {
		wait = max(wait, left)
	}
	return wait, nil
}

// succeeded releases an account's reservations at an address: a right
// password clears its failures and any lockout there.
func (t *throttle) succeeded(ctx context.Context, email, ip string) error {
	key := email + "|" + t.addressKey(ip)
	return t.c.Del(ctx, "fails|"+key, "lock|"+key)
}

// spend counts one request of a kind against an address's budget and
// returns the wait when the budget is spent.
func (t *throttle) spend(ctx context.Context, kind, ip string, budget int, window time.Duration) (time.Duration, error) {
	n, left, err := t.c.Add(ctx, kind+"|"+t.addressKey(ip), window)
	if err != nil || n <= int64(budget) {
		return 0, err
	}
	return left, nil
}

// MemoryCounters is Counters in this process's memory: right for one
// server; several servers each count their own attempts unless they share
// Redis.
type MemoryCounters struct {
	mu    sync.Mutex
	now   func() time.Time
	m     map[string]*memCounter
	max   int       // maxMemoryCounters, smaller in tests
	swept time.Time // the last sweep made because the map was full
}

type memCounter struct {
	n       int64
	expires time.Time
}

// NewMemoryCounters returns empty counters on the given clock (nil means
// time.Now).
func NewMemoryCounters(now func() time.Time) *MemoryCounters {
	if now == nil {
		now = time.Now
	}
	return &MemoryCounters{now: now, m: make(map[string]*memCounter), max: maxMemoryCounters}
}

// maxMemoryCounters bounds memory. Past it, expired counters are swept
// (at most once a second); when that frees nothing, a counter is evicted
// to make room (see evictLocked). A new key is always counted: refusing
// to count would let a flood of distinct keys switch throttling off.
const maxMemoryCounters = 1_000_000

// evictSample is how many counters evictLocked compares.
const evictSample = 32

// Add implements Counters.
func (m *MemoryCounters) Add(_ context.Context, key string, ttl time.Duration) (int64, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.m[key]
	if c == nil || !now.Before(c.expires) {
		if len(m.m) >= m.max {
			if now.Sub(m.swept) >= time.Second { // at most one full sweep a second
				m.swept = now
				m.sweepLocked(now)
			}
			if len(m.m) >= m.max {
				m.evictLocked()
			}
		}
		c = &memCounter{expires: now.Add(ttl)}
		m.m[key] = c
	}
	c.n++
	return c.n, c.expires.Sub(now), nil
}

// evictLocked removes, of a random sample of counters, the one with the
// fewest counts, and of those the one that lives longest. A flood of
// one-off keys (a failed guess at each of many accounts, remembered for a
// day) thus pushes out its own kind, while the counters of an account
// under attack (many failures, a lockout that ends sooner) stay; and
// should one go, the account's next attempt starts a new lockout.
func (m *MemoryCounters) evictLocked() {
	var (
		victim string
		worst  *memCounter
		i      int
	)
	for k, c := range m.m { // map iteration starts at a random place
		if worst == nil || c.n < worst.n || c.n == worst.n && c.expires.After(worst.expires) {
			victim, worst = k, c
		}
		if i++; i == evictSample {
			break
		}
	}
	delete(m.m, victim)
}

// Get implements Counters.
func (m *MemoryCounters) Get(_ context.Context, key string) (int64, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.m[key]
	if c == nil || !now.Before(c.expires) {
		return 0, 0, nil
	}
	return c.n, c.expires.Sub(now), nil
}

// Del implements Counters.
func (m *MemoryCounters) Del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.m, k)
	}
	return nil
}

// Sweep forgets expired counters.
func (m *MemoryCounters) Sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(m.now())
}

func (m *MemoryCounters) sweepLocked(now time.Time) {
	for k, c := range m.m {
		if !now.Before(c.expires) {
			delete(m.m, k)
		}
	}
}
