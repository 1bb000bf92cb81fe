package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// counterPrefix namespaces the throttle counters in Redis.
const counterPrefix = "gatehouse:throttle:"

// Add implements gatehouse.Counters: INCR, an expiry set only when the
// key is new (PEXPIRE NX), and the time left, in one round trip, so every
// server counts the same attempts.
func (c *Client) Add(ctx context.Context, key string, ttl time.Duration) (int64, time.Duration, error) {
	k := counterPrefix + key
	pipe := c.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Do(ctx, "PEXPIRE", k, ttl.Milliseconds(), "NX")
	left := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, err
	}
	return incr.Val(), max(left.Val(), 0), nil
}

// Get implements gatehouse.Counters.
func (c *Client) Get(ctx context.Context, key string) (int64, time.Duration, error) {
	k := counterPrefix + key
	pipe := c.rdb.Pipeline()
	get := pipe.Get(ctx, k)
	left := pipe.PTTL(ctx, k)
	_, err := pipe.Exec(ctx)
	if errors.Is(err, goredis.Nil) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	n, err := get.Int64()
	return n, max(left.Val(), 0), err
}

// Del implements gatehouse.Counters.
func (c *Client) Del(ctx context.Context, keys ...string) error {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = counterPrefix + k
	}
	return c.rdb.Del(ctx, ks...).Err()
}
