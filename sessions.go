package gatehouse

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"time"
)

// AuthenticateSession checks a cookie secret and returns the principal it
// belongs to. It is the hot path of session mode: it reads the store at
// most once per CacheTTL for a given session and writes at most once per
// touch interval (see touchInterval), never on most requests.
func (s *Service) AuthenticateSession(ctx context.Context, secret string) (Principal, error) {
	unauth := Errorf(CodeUnauthenticated, "sign in first")
	if !validSecret(secret) {
		return Principal{}, unauth
	}
	hash := sha256.Sum256([]byte(secret))
	now := s.now()
	e, ok := s.cache.get(hash, now)
	if !ok {
		l, u, err := s.store.SessionBySecretHash(ctx, hash[:])
		if ErrorCode(err) == CodeNotFound {
			return Principal{}, unauth
		}
		if err != nil {
			return Principal{}, err
		}
		// The lifetime is CacheTTL less up to a quarter, at random, so that
		// entries cached together are not all read again in one burst.
		ttl := s.cfg.CacheTTL - rand.N(s.cfg.CacheTTL/4+1)
		e = &cacheEntry{login: l, user: u, fresh: now.Add(ttl)}
		e.perms = s.cfg.Roles.Permissions(u.Roles)
		s.cache.put(hash, e, now)
	}
	if !e.login.Live(now) || e.user.Disabled {
		s.cache.drop(e.login.ID)
		return Principal{}, unauth
	}
	if now.Sub(e.login.LastSeenAt) >= s.touchInterval() {
		idle := minTime(now.Add(s.cfg.SessionIdle), e.login.ExpiresAt)
		if err := s.store.TouchLogin(ctx, e.login.ID, now, idle); err != nil {
			return Principal{}, err
		}
		e = s.cache.touch(hash, e, now, idle)
	}
	return Principal{User: e.user, Login: e.login, Permissions: e.perms}, nil
}

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
	return s.store.ListLogins(ctx, p.User.ID, s.now())
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
	if _, err := s.store.UserByID(ctx, userID); err != nil {
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
	s.forget(r.At, ids...)
	if len(ids) > 0 {
		s.ring(ctx)
	}
	return ids, err
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
// many it removed.
func (s *Service) CleanupExpired(ctx context.Context) (int, error) {
	return s.store.DeleteExpiredLogins(ctx, s.now())
}
