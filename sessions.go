package gatehouse

import (
	"context"
	"math/rand/v2"
	"time"
)

// AuthenticateSession checks a cookie secret and returns the principal it
// belongs to. It is the hot path of session mode: a session checked
// before is answered from memory, without reading the store and without
// allocating, for as long as the cache trusts it (see Config.CacheTTL).
// It reads the store again when that ends, when the cached deadlines have
// passed (another server may have extended the idle one) and when the
// session is due to record activity, which it writes at most once per
// touch interval (see touchInterval).
//
// The principal's Login carries the session's id, mode and deadlines but
// not its device, address or user agent (Sessions lists those), and its
// User has no password hash. Its slices are shared: do not modify them.
func (s *Service) AuthenticateSession(ctx context.Context, secret string) (Principal, error) {
	return s.authenticateSession(ctx, secret, true)
}

// RecheckSession is AuthenticateSession for a request that lasts, such as
// the revocation feed's event stream, and checks its credential again
// while it runs: it answers the same, but is no activity of the session's
// and never extends its idle deadline, so that an open stream does not
// keep an unattended session alive.
func (s *Service) RecheckSession(ctx context.Context, secret string) (Principal, error) {
	return s.authenticateSession(ctx, secret, false)
}

func (s *Service) authenticateSession(ctx context.Context, secret string, touch bool) (Principal, error) {
	// Only the length is checked before the cache: a secret found there
	// has the hash of one that passed validSecret, so it is that one, and
	// checking its characters would cost a third of a cached check.
	if len(secret) != secretLen {
		return Principal{}, signInFirst()
	}
	hash := SHA256(secret)
	now := s.now()
	n := now.UnixNano()
	e := s.cache.get(hash, n, s.feed.current(n))
	if e == nil || !e.live(n) || touch && n-e.lastSeen >= int64(s.touchInterval()) {
		if !validSecret(secret) {
			return Principal{}, signInFirst()
		}
		var err error
		if e, err = s.readSession(ctx, hash, e, now, touch); err != nil {
			return Principal{}, err
		}
	}
	return e.principal(), nil
}

// shortCacheTTL is how long a cached session is trusted when the
// revocation feed is not current (see feed.current), or CacheTTL if that
// is shorter: the bound on how late a change made by another process is
// honoured when this server cannot hear of it.
const shortCacheTTL = time.Second

// readSession reads the session with the secret hash from the store,
// records its activity if that is due and touch is set, and caches it. cached is the
// session's cache entry, if it has one, which the read replaces.
func (s *Service) readSession(ctx context.Context, hash [32]byte, cached *cacheEntry, now time.Time, touch bool) (*cacheEntry, error) {
	drops := s.cache.dropCount()
	l, u, err := s.store.SessionBySecretHash(ctx, hash[:])
	if ErrorCode(err) == CodeNotFound {
		if cached != nil {
			s.cache.drop(cached.loginID)
		}
		return nil, signInFirst()
	}
	if err != nil {
		return nil, err
	}
	if !l.Live(now) || u.Disabled {
		s.cache.drop(l.ID)
		return nil, signInFirst()
	}
	if touch && now.Sub(l.LastSeenAt) >= s.touchInterval() {
		idle := minTime(now.Add(s.cfg.SessionIdle), l.ExpiresAt)
		err := s.store.TouchLogin(ctx, l.ID, now, idle)
		if ErrorCode(err) == CodeNotFound { // revoked since the read
			s.cache.drop(l.ID)
			return nil, signInFirst()
		}
		if err != nil {
			return nil, err
		}
		l.LastSeenAt, l.IdleExpiresAt = now, idle
	}
	// The lifetimes are less up to a quarter, at random, so that entries
	// cached together are not all read again in one burst.
	cut := 1 - rand.Float64()/4
	long := time.Duration(float64(s.cfg.CacheTTL) * cut)
	short := time.Duration(float64(min(s.cfg.CacheTTL, shortCacheTTL)) * cut)
	e := s.cache.newEntry(l, u, s.permissions, now, long, short)
	s.cache.put(hash, e, drops, now.UnixNano())
	return e, nil
}

// signInFirst is the answer to a secret that opens no live session. It is
// made afresh each time, so that no caller can change another's.
func signInFirst() error { return Errorf(CodeUnauthenticated, "sign in first") }

// touchInterval is how stale last_seen_at and the idle deadline may get.
// Writing them on every request would turn each check into a store write;
// extending them at most once a minute (or per a tenth of the idle timeout
// when that is shorter) costs an idle deadline at most that much early,
// which is the trade every session store makes.
func (s *Service) touchInterval() time.Duration {
	return min(time.Minute, s.cfg.SessionIdle/10)
}

// Logout ends the principal's login.
func (s *Service) Logout(ctx context.Context, p Principal, c Client) error {
	_, err := s.revoke(ctx, Revocation{UserID: p.User.ID, LoginID: p.Login.ID, Reason: ReasonLogout},
		AuditEvent{Type: EventLogout, UserID: p.User.ID, IP: c.IP, Detail: "session=" + p.Login.ID})
	return err
}

// Sessions lists the principal's live logins, newest first.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]Login, error) {
	return s.UserSessions(ctx, p.User.ID)
}

// UserSessions lists a user's live logins, newest first (admin and CLI
// use); a user that does not exist has none.
func (s *Service) UserSessions(ctx context.Context, userID string) ([]Login, error) {
	if !possibleID(userID) {
		return nil, nil
	}
	return s.store.ListLogins(ctx, userID, s.now())
}

// RevokeSession ends one of the principal's logins. Another user's login
// is CodeNotFound, exactly like one that does not exist.
func (s *Service) RevokeSession(ctx context.Context, p Principal, id string, c Client) error {
	ids, err := s.revoke(ctx, Revocation{UserID: p.User.ID, LoginID: id, Reason: ReasonRevoked},
		AuditEvent{Type: EventSessionRevoked, UserID: p.User.ID, IP: c.IP, Detail: "session=" + id})
	if err == nil && len(ids) == 0 {
		return Errorf(CodeNotFound, "no such session")
	}
	return err
}

// RevokeSessions ends all of the principal's logins, or all but the
// current one when keepCurrent is set.
func (s *Service) RevokeSessions(ctx context.Context, p Principal, keepCurrent bool, c Client) error {
	r := Revocation{UserID: p.User.ID, Reason: ReasonRevoked}
	if keepCurrent {
		r.KeepLoginID = p.Login.ID
	}
	_, err := s.revoke(ctx, r, AuditEvent{Type: EventSessionRevoked, UserID: p.User.ID, IP: c.IP, Detail: "all"})
	return err
}

// RevokeUserSessions ends every login of a user (CLI and admin use).
func (s *Service) RevokeUserSessions(ctx context.Context, userID string, c Client) (int, error) {
	if _, err := s.userByID(ctx, userID); err != nil {
		return 0, err
	}
	ids, err := s.revoke(ctx, Revocation{UserID: userID, Reason: ReasonRevoked},
		AuditEvent{Type: EventSessionRevoked, UserID: userID, IP: c.IP, Detail: c.by("all")})
	return len(ids), err
}

func (s *Service) revoke(ctx context.Context, r Revocation, ev AuditEvent) ([]string, error) {
	r.At = s.now()
	ev.At = r.At
	ids, err := s.store.RevokeLogins(ctx, r, ev)
	if err != nil {
		return nil, err
	}
	s.revoked(ctx, r.At, ids)
	return ids, nil
}

// revoked does what follows a store's revocation of the logins ids at at,
// if any: this server forgets them at once, and the others are rung.
func (s *Service) revoked(ctx context.Context, at time.Time, ids []string) {
	if len(ids) > 0 {
		s.forget(at, ids...)
		s.ring(ctx)
	}
}

// ring tells the other servers that this one changed the store. It does
// not wait: the change is committed, and a lost ring only means the
// others see it at their next poll.
func (s *Service) ring(ctx context.Context) {
	if n := s.cfg.Notifier; n != nil {
		go n.Notify(context.WithoutCancel(ctx))
	}
}

// forget makes revoked logins unusable on this server at once: their
// cached sessions are dropped and their access tokens refused.
func (s *Service) forget(at time.Time, ids ...string) {
	s.cache.drop(ids...)
	if s.tok != nil {
		s.tok.revoke(at, ids...)
	}
	s.feed.notify()
}

// CleanupExpired removes expired logins from the store and returns how
// many it removed. Expired authorization requests go too (a failure there
// is logged).
func (s *Service) CleanupExpired(ctx context.Context) (int, error) {
	if _, err := s.store.DeleteExpiredAuthRequests(ctx, s.now()); err != nil {
		s.log.Warn("removing expired authorization requests failed", "err", err)
	}
	return s.store.DeleteExpiredLogins(ctx, s.now())
}
