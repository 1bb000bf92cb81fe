package gatehouse

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestThrottle() (*throttle, *MemoryCounters, *clock) {
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := NewMemoryCounters(c.Now)
	return &throttle{lim: Limits{}.withDefaults(), c: m}, m, c
}

// allowedOf fires n reservations at once and counts those let through.
func allowedOf(th *throttle, n int, email, ip string) (int, time.Duration) {
	var allowed atomic.Int32
	var wait atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			w, err := th.reserve(context.Background(), email, ip)
			if err == nil && w == 0 {
				allowed.Add(1)
			} else {
				wait.Store(int64(w))
			}
		})
	}
	wg.Wait()
	return int(allowed.Load()), time.Duration(wait.Load())
}

func TestReserveBoundsParallelGuesses(t *testing.T) {
	th, _, clk := newTestThrottle()
	// The 10th and an 11th that races it may each open the lockout (of
	// 30 s or 1 m): whichever does is checked, the other is not.
	n, wait := allowedOf(th, 200, "victim@example.com", "198.51.100.7")
	if n != 10 || wait != 30*time.Second && wait != time.Minute {
		t.Fatalf("200 attempts at once: %d checked, wait %v; want 10 and 30s or 1m", n, wait)
	}
	// When the lockout ends, one attempt of a burst is checked and starts
	// the next, longer lockout.
	clk.Add(wait + time.Second)
	if n, next := allowedOf(th, 50, "victim@example.com", "198.51.100.7"); n != 1 || next <= wait {
		t.Fatalf("after the lockout: %d checked, wait %v; want 1 and more than %v", n, next, wait)
	}
	// Elsewhere the account is untouched; a right password clears it here.
	if n, _ := allowedOf(th, 1, "victim@example.com", "203.0.113.5"); n != 1 {
		t.Fatal("the account is locked at another address")
	}
	th.succeeded(context.Background(), "victim@example.com", "198.51.100.7")
	if n, _ := allowedOf(th, 10, "victim@example.com", "198.51.100.7"); n != 10 {
		t.Fatalf("after a right password: %d of 10 checked", n)
	}
}

func TestAddressKeyIPv6Network(t *testing.T) {
	th, _, _ := newTestThrottle()
	for ip, want := range map[string]string{
		"198.51.100.7":                   "198.51.100.7",
		"2001:db8:0:1::1":                "2001:db8:0:1::/64",
		"2001:db8:0:1:ffff:ffff:ffff:12": "2001:db8:0:1::/64",
		"::ffff:198.51.100.7":            "::ffff:198.51.100.7",
		"fe80::1%eth0":                   "fe80::/64",
		"startup":                        "startup",
	} {
		if got := th.addressKey(ip); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", ip, got, want)
		}
	}
	th.lim.IPv6Prefix = 128
	if got := th.addressKey("2001:db8::1"); got != "2001:db8::1/128" {
		t.Errorf("with a /128 prefix: %q", got)
	}
}

// A flood of distinct keys cannot switch throttling off: past the bound,
// counters are evicted rather than new ones left uncounted, and the
// counters of an account under attack stay.
func TestCountersFullEvict(t *testing.T) {
	ctx := context.Background()
	th, m, _ := newTestThrottle()
	m.max = 1000
	for range 10 {
		th.reserve(ctx, "victim@example.com", "198.51.100.7")
		th.failed(ctx, "victim@example.com", "198.51.100.7")
	}
	for i := range 20 * m.max {
		email, ip := fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255)
		th.reserve(ctx, email, ip)
		if n, _, _ := m.Get(ctx, "fails|"+email+"|"+ip); n != 1 {
			t.Fatalf("attempt %d with the map full was not counted", i)
		}
		th.failed(ctx, email, ip)
	}
	if len(m.m) > m.max {
		t.Errorf("%d counters, bound %d", len(m.m), m.max)
	}
	if wait, _ := th.reserve(ctx, "victim@example.com", "198.51.100.7"); wait == 0 {
		t.Error("the flood lifted the lockout of the account under attack")
	}
}
