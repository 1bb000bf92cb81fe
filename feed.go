package gatehouse

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// feed follows the revocation feed: how far this server has applied it,
// whether it is current, and a signal for those who wait for new entries.
type feed struct {
	cursor atomic.Int64 // the last entry this server applied
	// read is when the last successful read of the feed began (Unix
	// nanoseconds on the service's clock), or 0 when the last read failed.
	read atomic.Int64

	mu      sync.Mutex
	changed chan struct{} // closed when new entries may be available
}

// feedStaleAfter is how long after its last successful read the feed
// stops being current: three polls (see Run), so that one slow poll does
// not cost every cached session a store read.
const feedStaleAfter = 3 * pollEvery

// current reports whether, at now (Unix nanoseconds), this server has
// applied every revocation made before now less feedStaleAfter: its last
// read of the feed succeeded and began that recently. While it is, a
// cached session is trusted for CacheTTL, since any change to it made
// elsewhere drops it within about a poll; otherwise for shortCacheTTL
// only. A service that is not Run stops being current after
// feedStaleAfter, and so fails closed.
func (f *feed) current(now int64) bool {
	read := f.read.Load()
	return read != 0 && now-read < int64(feedStaleAfter)
}

// notify wakes everyone waiting in Changed.
func (f *feed) notify() {
	f.mu.Lock()
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
	f.mu.Unlock()
}

// FeedChanged returns a channel that is closed when new revocation feed
// entries may be available: at once for a revocation made through this
// server, within about a second for one made elsewhere.
func (s *Service) FeedChanged() <-chan struct{} {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

// Revocations returns up to limit revocation feed entries after the
// cursor. From cursor 0 it returns only the entries that can still
// matter: those of the last access-token lifetime.
func (s *Service) Revocations(ctx context.Context, after int64, limit int) ([]RevocationEvent, error) {
	var since time.Time
	if after == 0 {
		since = s.now().Add(-s.feedWindow())
	}
	return s.store.RevocationsAfter(ctx, after, since, limit)
}

// feedWindow is how far back a revocation can still matter: a token of a
// revoked login can be valid for an access-token lifetime; a cached
// session for CacheTTL (twice that leaves room for clocks that differ).
func (s *Service) feedWindow() time.Duration {
	w := 2 * s.cfg.CacheTTL
	if s.tok != nil {
		w = max(w, s.tok.window())
	}
	return w
}

// Start prepares the service before it serves. In token mode it makes
// sure a signing key of the configured algorithm exists and loads the
// keys. It then reads the recent revocation feed, so that logins revoked
// while this server was down stay refused.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	if s.tok != nil {
		if k := s.tok.signing.Load(); k == nil || k.Alg != s.tok.cfg.Alg {
			if _, err := s.RotateKeys(ctx, Client{IP: "startup"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sync applies what other processes changed in the store since the last
// call: the revocation feed and, in token mode, the signing keys (a
// rotation, or an old key whose tokens have all expired). Run calls it
// every second.
func (s *Service) Sync(ctx context.Context) error {
	if err := s.pollFeed(ctx); err != nil {
		return err
	}
	if s.tok != nil {
		return s.loadKeys(ctx)
	}
	return nil
}

// Background intervals: how often a server looks for changes made by
// other processes on the same store, and how often it cleans up.
const (
	pollEvery    = time.Second
	cleanupEvery = time.Minute
)

// Run keeps the service current until ctx ends: every second, and at
// once when the Notifier rings, it applies the revocation feed and reloads
// the signing keys (so a revocation, a role change or a key rotation made
// by the CLI or another server is honoured within about a second, or
// within milliseconds with Redis); every minute it removes expired logins
// and forgets what no valid credential can need any more. Without Run,
// cached sessions are trusted for a second only (see Config.CacheTTL).
func (s *Service) Run(ctx context.Context) {
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	var rang <-chan struct{} // nil, so never ready, without a notifier
	if s.cfg.Notifier != nil {
		rang = s.cfg.Notifier.Changes()
	}
	if s.mail != nil {
		go s.runOutbox(ctx)
	}
	lastCleanup := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-rang:
		}
		if err := s.Sync(ctx); err != nil {
			s.log.Warn("reading changes from the store failed", "err", err)
		}
		if now := time.Now(); now.Sub(lastCleanup) >= cleanupEvery {
			lastCleanup = now
			if n, err := s.CleanupExpired(ctx); err != nil {
				s.log.Warn("removing expired logins failed", "err", err)
			} else if n > 0 {
				s.log.Info("removed expired logins", "count", n)
			}
			s.cache.sweep(s.now())
			if m, ok := s.cfg.Counters.(*MemoryCounters); ok {
				m.Sweep()
			}
			if s.tok != nil {
				s.tok.sweep(s.now())
			}
		}
	}
}

// feedPage is how many feed entries one read returns.
const feedPage = 1000

// pollFeed applies the revocation feed entries this server has not seen:
// revoked logins are dropped from the session cache and refused as
// tokens; a role change drops the user's cached sessions and makes the
// user's tokens issued before it stale (see RolesStale). It notes when it
// began if it succeeds, and that the feed is not current if it fails.
func (s *Service) pollFeed(ctx context.Context) error {
	begun := s.now()
	if err := s.applyFeed(ctx, begun.Add(-s.feedWindow())); err != nil {
		s.feed.read.Store(0)
		return err
	}
	s.feed.read.Store(begun.UnixNano())
	return nil
}

// applyFeed applies the feed entries after the cursor and since a time.
func (s *Service) applyFeed(ctx context.Context, since time.Time) error {
	for {
		events, err := s.store.RevocationsAfter(ctx, s.feed.cursor.Load(), since, feedPage)
		if err != nil {
			return err
		}
		if len(events) > 0 {
			s.feed.notify()
		}
		for _, ev := range events {
			switch {
			case ev.LoginID != "":
				s.forget(ev.At, ev.LoginID)
			case ev.Reason == ReasonRolesChanged:
				s.cache.dropUser(ev.UserID)
				if s.tok != nil {
					s.tok.rolesChanged(ev.UserID, ev.At)
				}
			}
			s.feed.cursor.Store(ev.Seq)
		}
		if len(events) < feedPage {
			return nil
		}
	}
}
