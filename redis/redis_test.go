package redis_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/redis"
	"github.com/gatehouse/gatehouse/redis/redistest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// drain empties the changes channel, then waits for the next value.
func waitChange(t *testing.T, c *redis.Client, within time.Duration) {
	t.Helper()
	select {
	case <-c.Changes():
	case <-time.After(within):
		t.Fatalf("no change notice within %v", within)
	}
}

func drain(c *redis.Client) {
	for {
		select {
		case <-c.Changes():
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

func TestNotifyReachesEveryServer(t *testing.T) {
	srv := redistest.Start(t)
	a, err := redis.Open(srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := redis.Open(srv.URL(), nil)
	defer b.Close()
	waitChange(t, b, 5*time.Second) // the ring after subscribing
	drain(b)
	start := time.Now()
	if err := a.Notify(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitChange(t, b, time.Second)
	t.Logf("notice delivered in %v", time.Since(start))
}

// Losing Redis is logged once; the subscriber comes back by itself and
// rings on return, since notices may have been missed meanwhile.
func TestRedisOutageAndReturn(t *testing.T) {
	srv := redistest.Start(t)
	logs := &syncBuffer{}
	c, err := redis.Open(srv.URL(), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitChange(t, c, 5*time.Second)
	drain(c)
	srv.Stop()
	ctx := context.Background()
	if err := c.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with Redis stopped")
	}
	c.Notify(ctx)
	time.Sleep(1500 * time.Millisecond) // several resubscribe attempts
	if n := strings.Count(logs.String(), "unreachable"); n != 1 {
		t.Errorf("logged the outage %d times, want once:\n%s", n, logs)
	}
	srv.Restart()
	waitChange(t, c, 5*time.Second)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping after Redis returned: %v", err)
	}
	if !strings.Contains(logs.String(), "reachable again") {
		t.Errorf("the return was not logged:\n%s", logs)
	}
}

func TestBadURL(t *testing.T) {
	if _, err := redis.Open("http://nope", nil); err == nil {
		t.Fatal("Open accepted a non-redis URL")
	}
}

// The counters are Redis's, so two clients (two servers) count together.
func TestCountersAreShared(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := redis.Open(srv.URL(), nil)
	defer a.Close()
	b, _ := redis.Open(srv.URL(), nil)
	defer b.Close()
	ctx := context.Background()
	if n, left, err := a.Add(ctx, "k", time.Minute); err != nil || n != 1 || left <= 0 || left > time.Minute {
		t.Fatalf("first Add = %d %v %v", n, left, err)
	}
	if n, _, _ := b.Add(ctx, "k", time.Hour); n != 2 {
		t.Fatalf("second server's Add = %d, want 2", n)
	}
	if n, left, err := a.Get(ctx, "k"); n != 2 || left > time.Minute || err != nil {
		t.Fatalf("Get = %d %v %v; the expiry must stay the first one", n, left, err)
	}
	if n, left, err := a.Get(ctx, "absent"); n != 0 || left != 0 || err != nil {
		t.Fatalf("Get of an absent key = %d %v %v", n, left, err)
	}
	if err := b.Del(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := a.Get(ctx, "k"); n != 0 {
		t.Fatalf("after Del the count is %d", n)
	}
	if n, left, _ := a.Add(ctx, "short", 50*time.Millisecond); n != 1 || left > 50*time.Millisecond {
		t.Fatalf("Add = %d %v", n, left)
	}
	time.Sleep(100 * time.Millisecond)
	if n, _, _ := a.Get(ctx, "short"); n != 0 {
		t.Fatal("the counter did not expire")
	}
	srv.Stop()
	if _, _, err := a.Add(ctx, "k", time.Minute); err == nil {
		t.Fatal("Add succeeded with Redis down")
	}
}
