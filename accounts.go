package gatehouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/password"
)

// Register creates an account through self-service sign-up.
func (s *Service) Register(ctx context.Context, email, pw string, c Client) (User, error) {
	if s.cfg.NoSignup {
		return User{}, Errorf(CodeSignupDisabled, "sign-up is disabled on this server")
	}
	if err := s.spend(ctx, "register", c.IP, s.cfg.Limits.Registrations, time.Hour); err != nil {
		return User{}, err
	}
	u, err := s.CreateUser(ctx, email, pw, []string{s.cfg.DefaultRole}, c)
	if err == nil && s.mail != nil {
		// The account stands either way; the person can ask again.
		if err := s.sendVerification(ctx, u, c); err != nil {
			s.log.Warn("queueing the verification message of a new account failed", "user", u.ID, "err", err)
		}
	}
	return u, err
}

// CreateUser creates an account with the given roles, checking the email
// and the password policy. It is what the CLI and admins use.
func (s *Service) CreateUser(ctx context.Context, email, pw string, roles []string, c Client) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if err := s.checkRoles(roles); err != nil {
		return User{}, err
	}
	if err := checkPassword(pw); err != nil {
		return User{}, err
	}
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{ID: newID(), Email: email, PasswordHash: hash, Roles: sortedRoles(roles), CreatedAt: now}
	ev := AuditEvent{At: now, Type: EventUserCreated, UserID: u.ID, IP: c.IP}
	if err := s.store.CreateUser(ctx, u, ev); err != nil {
		return User{}, err
	}
	return u, nil
}

// ChangePassword sets a new password after checking the current one, and
// ends every other login of the user. A wrong current password counts
// toward the account's lockout like a failed login, and is audited as one.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string, c Client) error {
	u, err := s.checkCurrentPassword(ctx, p, current, c, "password change")
	if err != nil {
		return err
	}
	if err := checkPassword(next); err != nil {
		return err
	}
	return s.setPassword(ctx, u, next, p.Login.ID, c)
}

// checkCurrentPassword reads the principal's user afresh and checks pw
// against their password under the account's lockout (see
// throttledCheck); detail names the action in the audit event of a wrong
// password.
func (s *Service) checkCurrentPassword(ctx context.Context, p Principal, pw string, c Client, detail string) (User, error) {
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return User{}, err
	}
	u, err = s.throttledCheck(ctx, u.Email, c, detail, func() (User, error) {
		ok, _, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
		if err != nil && !errors.Is(err, password.ErrMalformedHash) {
			return u, hashError(err)
		}
		if !ok {
			return u, Errorf(CodeInvalidCredentials, "the current password is incorrect")
		}
		return u, nil
	})
	if err == nil {
		s.passed(ctx, u.Email, c)
	}
	return u, err
}

func (s *Service) setPassword(ctx context.Context, u User, pw, keep string, c Client) error {
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	u.PasswordHash = hash
	now := s.now()
	r := &Revocation{UserID: u.ID, KeepLoginID: keep, Reason: ReasonPasswordChanged, At: now}
	mail := s.queue(u, Mail{Kind: MailPasswordChanged}, c, now)
	ids, err := s.store.UpdateUser(ctx, UserChange{User: u, Revoke: r, Mail: mail, Events: []AuditEvent{{At: now, Type: EventPasswordChanged, UserID: u.ID, IP: c.IP}}})
	if err != nil {
		return err
	}
	s.forget(now, ids...)
	s.ring(ctx)
	s.queued(mail)
	return nil
}

// User returns the account with that id.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	return s.userByID(ctx, id)
}

// userByID returns the account with an id a caller gave. An id that no
// account can have (not text of sane length, which PostgreSQL would
// refuse to compare) is CodeNotFound without a question to the store.
func (s *Service) userByID(ctx context.Context, id string) (User, error) {
	if !possibleID(id) {
		return User{}, Errorf(CodeNotFound, "user not found")
	}
	return s.store.UserByID(ctx, id)
}

// possibleID reports whether an id given by a caller may be one.
func possibleID(id string) bool { return CheckText("id", id, maxCursorLength) == nil }

// UserByEmail returns the account with that email.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	return s.store.UserByEmail(ctx, email)
}

// ListUsers returns up to q.Limit users that q selects, in creation order,
// and next, the After of the following page, or "" when no user follows.
// A prefix or cursor that is not text of sane length (control
// characters, invalid UTF-8, longer than an email) is CodeInvalidRequest.
func (s *Service) ListUsers(ctx context.Context, q UserQuery) (users []User, next string, err error) {
	if q, err = q.normalized(); err != nil || q.Limit < 1 {
		return nil, "", err
	}
	limit := q.Limit
	q.Limit++ // one more tells whether a next page exists
	if users, err = s.store.ListUsers(ctx, q); err != nil {
		return nil, "", err
	}
	if len(users) > limit {
		users = users[:limit]
		next = users[limit-1].ID
	}
	return users, next, nil
}

// SetDisabled disables or enables an account. Disabling ends every login
// of the user at once.
func (s *Service) SetDisabled(ctx context.Context, userID string, disabled bool, c Client) (User, error) {
	u, err := s.userByID(ctx, userID)
	if err != nil || u.Disabled == disabled {
		return u, err
	}
	u.Disabled = disabled
	now := s.now()
	ev := AuditEvent{At: now, Type: EventUserEnabled, UserID: u.ID, IP: c.IP, Detail: c.by("")}
	var r *Revocation
	if disabled {
		ev.Type = EventUserDisabled
		r = &Revocation{UserID: u.ID, Reason: ReasonUserDisabled, At: now}
	}
	ids, err := s.store.UpdateUser(ctx, UserChange{User: u, Revoke: r, Events: []AuditEvent{ev}})
	if err != nil {
		return User{}, err
	}
	s.forget(now, ids...)
	s.cache.dropUser(u.ID)
	s.ring(ctx)
	return u, nil
}

// SetRoles replaces a user's roles. Every role must exist. It is the
// operator's (the command line's): it may grant anything.
func (s *Service) SetRoles(ctx context.Context, userID string, roles []string, c Client) (User, error) {
	return s.setRoles(ctx, userID, roles, c, nil)
}

// SetRolesAs replaces a user's roles for an admin, by, acting through the
// API. Roles are never widened by their holder: a change that would give
// the user a permission by does not hold is CodeForbidden, so that an
// admin of users cannot make anyone, themselves included, more than they
// are. Permissions the user keeps are not given.
func (s *Service) SetRolesAs(ctx context.Context, by Principal, userID string, roles []string, c Client) (User, error) {
	return s.setRoles(ctx, userID, roles, c, func(old []string) error {
		had := s.cfg.Roles.Permissions(old)
		for _, perm := range s.cfg.Roles.Permissions(roles) {
			if !Grants(had, perm) && !by.Can(perm) {
				return Errorf(CodeForbidden, fmt.Sprintf("you cannot grant the permission %q, which you do not hold", perm))
			}
		}
		return nil
	})
}

// setRoles replaces a user's roles once allow, when set, accepts the
// change from the user's current roles.
func (s *Service) setRoles(ctx context.Context, userID string, roles []string, c Client, allow func(old []string) error) (User, error) {
	if err := s.checkRoles(roles); err != nil {
		return User{}, err
	}
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if allow != nil {
		if err := allow(u.Roles); err != nil {
			return User{}, err
		}
	}
	old := u.Roles
	u.Roles = sortedRoles(roles)
	if slices.Equal(old, u.Roles) {
		return u, nil
	}
	now := s.now()
	detail := c.by(fmt.Sprintf("from=%v to=%v", old, u.Roles))
	// A change of roles revokes no login. It adds a feed entry for the
	// user that names no login, which tells every server that the user's
	// roles changed (see applyFeed), and is always audited.
	feed := &RevocationEvent{UserID: u.ID, Reason: ReasonRolesChanged, At: now}
	if _, err = s.store.UpdateUser(ctx, UserChange{User: u, Feed: feed, Events: []AuditEvent{{At: now, Type: EventUserRolesChanged, UserID: u.ID, IP: c.IP, Detail: detail}}}); err != nil {
		return User{}, err
	}
	s.userChanged(ctx, u.ID, now)
	return u, nil
}

// userChanged follows a committed change of what a login of the user
// carries (roles, email), which added a ReasonRolesChanged feed entry:
// the user's cached sessions are dropped here and, through the feed, on
// every server, and their access tokens issued before now are stale.
func (s *Service) userChanged(ctx context.Context, userID string, now time.Time) {
	s.cache.dropUser(userID)
	if s.tok != nil {
		s.tok.rolesChanged(userID, now)
	}
	s.feed.notify()
	s.ring(ctx)
}

func sortedRoles(roles []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(roles)))
}

func (s *Service) checkRoles(roles []string) error {
	for _, r := range roles {
		if _, ok := s.cfg.Roles[r]; !ok {
			return Errorf(CodeInvalidRequest, fmt.Sprintf("unknown role %q", r))
		}
	}
	return nil
}

// Me returns the principal's account as stored now.
func (s *Service) Me(ctx context.Context, p Principal) (User, error) {
	if p.Login.Mode == ModeSession {
		return p.User, nil
	}
	return s.store.UserByID(ctx, p.User.ID)
}
