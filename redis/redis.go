package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Channel is the pub/sub channel servers ring each other on.
const Channel = "gatehouse:changes"

// Timeouts: a server must not stall on a Redis that is gone. A notice or
// a counter that cannot reach Redis in time fails fast; the caller falls
// back (polling for notices, failing open for counters).
const (
	retryEvery   = 500 * time.Millisecond // resubscribe after losing Redis
	dialTimeout  = 250 * time.Millisecond
	callTimeout  = 250 * time.Millisecond
	notifyWithin = time.Second
)

// QuietDriverLog drops go-redis's own log lines, for the whole process:
// this package logs Redis outages once, structured, through slog, while
// go-redis would print a line per failed dial. The binary's main calls it.
func QuietDriverLog() { goredis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Client publishes and receives change notices. It is safe for
// concurrent use.
type Client struct {
	rdb     *goredis.Client
	log     *slog.Logger
	changes chan struct{}
	stop    context.CancelFunc
	done    chan struct{}

	mu   sync.Mutex
	down bool            // Redis was last seen unreachable
	sub  *goredis.PubSub // the current subscription, closed by Close
}

// Open connects to the Redis at url (redis://[:password@]host:port/db)
// and starts listening for notices. Redis need not be reachable yet: the
// client keeps trying, and logs once when it loses or regains Redis.
func Open(url string, log *slog.Logger) (*Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("--redis: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = dialTimeout, callTimeout, callTimeout
	opt.MaxRetries = 1
	ctx, stop := context.WithCancel(context.Background())
	c := &Client{rdb: goredis.NewClient(opt), log: log, changes: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go c.listen(ctx)
	return c, nil
}

// Notify tells every server (this one included) that the store changed.
func (c *Client) Notify(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, notifyWithin)
	defer cancel()
	return c.rdb.Publish(ctx, Channel, "sync").Err()
}

// Changes delivers a value after notices arrive; several notices may
// arrive as one.
func (c *Client) Changes() <-chan struct{} { return c.changes }

// Ping reports whether Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.rdb.Ping(ctx).Err()
}

// Close stops listening and closes the connections.
func (c *Client) Close() error {
	c.stop()
	// A blocked receive does not see the context end; closing the
	// subscription wakes it.
	c.mu.Lock()
	if c.sub != nil {
		c.sub.Close()
	}
	c.mu.Unlock()
	<-c.done
	return c.rdb.Close()
}

// listen subscribes to Channel and forwards notices until ctx ends,
// resubscribing whenever Redis goes away.
func (c *Client) listen(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		sub := c.rdb.Subscribe(ctx, Channel)
		c.mu.Lock()
		c.sub = sub
		c.mu.Unlock()
		if ctx.Err() != nil { // Close ran before c.sub was set
			sub.Close()
			return
		}
		_, err := sub.Receive(ctx) // the subscription confirmation
		for err == nil {
			c.seen(nil)
			// After (re)subscribing, a notice may have been missed: sync.
			c.ring()
			_, err = sub.ReceiveMessage(ctx)
		}
		sub.Close()
		if ctx.Err() != nil {
			return
		}
		c.seen(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryEvery):
		}
	}
}

func (c *Client) ring() {
	select {
	case c.changes <- struct{}{}:
	default:
	}
}

// seen logs once when Redis becomes unreachable and once when it is back.
// Only the subscriber calls it, so one outage makes one pair of lines.
func (c *Client) seen(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil && !c.down:
		c.down = true
		c.log.Warn("Redis is unreachable; servers fall back to polling the store each second", "err", err)
	case err == nil && c.down:
		c.down = false
		c.log.Info("Redis is reachable again")
	}
}
