package gatehouse

import (
	"context"
	"sync"
	"time"
)

// Limits configures throttling. The zero value of a field means its
// default, as the contract gives them.
type Limits struct {
	// AccountFailures is how many consecutive failed logins for one
	// account from one address are allowed before that address waits
	// (default 10). Each further failure doubles the wait, from
	// LockoutBase (default 30s) up to LockoutMax (default 1h).
	AccountFailures         int
	LockoutBase, LockoutMax time.Duration
	// AddressFailures is how many failed logins one address may make
	// across all accounts per AddressWindow (default 100 per 15m).
	AddressFailures int
	AddressWindow   time.Duration
	// Registrations per address per hour (default 100) and refreshes per
	// address per minute (default 600).
	Registrations, Refreshes int
}

func (l Limits) withDefaults() Limits {
	l.AccountFailures = orDefaultInt(l.AccountFailures, 10)
	l.LockoutBase = orDefault(l.LockoutBase, 30*time.Second)
	l.LockoutMax = orDefault(l.LockoutMax, time.Hour)
	l.AddressFailures = orDefaultInt(l.AddressFailures, 100)
	l.AddressWindow = orDefault(l.AddressWindow, 15*time.Minute)
	l.Registrations = orDefaultInt(l.Registrations, 100)
	l.Refreshes = orDefaultInt(l.Refreshes, 600)
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

// lockedOut returns the wait left for an account at an address after too
// many failures, or 0.
func (t *throttle) lockedOut(ctx context.Context, email, ip string) (time.Duration, error) {
	n, left, err := t.c.Get(ctx, "lock|"+email+"|"+ip)
	if err != nil || n == 0 {
		return 0, err
	}
	return left, nil
}

// failed records a failed login and returns the wait it imposes on this
// address: a lockout of the account here, or the address's budget of
// failures across accounts being spent.
func (t *throttle) failed(ctx context.Context, email, ip string) (time.Duration, error) {
	n, _, err := t.c.Add(ctx, "fails|"+email+"|"+ip, 24*time.Hour)
	if err != nil {
		return 0, err
	}
	var wait time.Duration
	if over := n - int64(t.lim.AccountFailures); over >= 0 {
		wait = t.lim.LockoutBase << min(over, 20)
		wait = min(wait, t.lim.LockoutMax)
		if _, _, err := t.c.Add(ctx, "lock|"+email+"|"+ip, wait); err != nil {
			return 0, err
		}
	}
	m, left, err := t.c.Add(ctx, "ipfails|"+ip, t.lim.AddressWindow)
	if err != nil {
		return 0, err
	}
	if m > int64(t.lim.AddressFailures) {
		wait = max(wait, left)
	}
	return wait, nil
}

// succeeded clears an account's failures at an address.
func (t *throttle) succeeded(ctx context.Context, email, ip string) error {
	return t.c.Del(ctx, "fails|"+email+"|"+ip, "lock|"+email+"|"+ip)
}

// spend counts one request of a kind against an address's budget and
// returns the wait when the budget is spent.
func (t *throttle) spend(ctx context.Context, kind, ip string, budget int, window time.Duration) (time.Duration, error) {
	n, left, err := t.c.Add(ctx, kind+"|"+ip, window)
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
	return &MemoryCounters{now: now, m: make(map[string]*memCounter)}
}

// maxMemoryCounters bounds memory; past it expired counters are swept (at
// most once a second), and if that frees nothing, new keys go uncounted
// (failing open for them) rather than memory growing without bound or
// live counters, such as a lockout, being dropped.
const maxMemoryCounters = 1_000_000

// Add implements Counters.
func (m *MemoryCounters) Add(_ context.Context, key string, ttl time.Duration) (int64, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.m[key]
	if c == nil || !now.Before(c.expires) {
		if len(m.m) >= maxMemoryCounters {
			if now.Sub(m.swept) >= time.Second { // at most one full sweep a second
				m.swept = now
				m.sweepLocked(now)
			}
			if len(m.m) >= maxMemoryCounters {
				return 0, 0, nil
			}
		}
		c = &memCounter{expires: now.Add(ttl)}
		m.m[key] = c
	}
	c.n++
	return c.n, c.expires.Sub(now), nil
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
