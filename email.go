package gatehouse

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// The email flows: recovery, verification and change of address. Each
// one-time token is 256 random bits, sent in a link and stored only as its
// SHA-256; a message and the change it belongs to are written in one
// transaction, and the outbox (see DeliverMail) sends it.

// Paths of the pages the links open (package pages serves them). Their GET
// never spends the token: the page asks the person to confirm.
const (
	ResetPath  = "/auth/reset"
	VerifyPath = "/auth/verify-email"
)

// Default lifetimes of the tokens.
const (
	DefaultRecoveryTTL = 30 * time.Minute
	DefaultVerifyTTL   = 24 * time.Hour
)

func (c EmailConfig) withDefaults() EmailConfig {
	c.RecoveryTTL = orDefault(c.RecoveryTTL, DefaultRecoveryTTL)
	c.VerifyTTL = orDefault(c.VerifyTTL, DefaultVerifyTTL)
	return c
}

func emailDisabled() error {
	return Errorf(CodeEmailDisabled, "email is not set up on this server")
}

// EmailOn reports whether the service sends email.
func (s *Service) EmailOn() bool { return s.mail != nil }

// maxLangLength bounds the Accept-Language a message keeps.
const maxLangLength = 256

// queue returns m sealed for the outbox when email is on, else nothing:
// notices are skipped without email, and the flows that need it refuse
// earlier with CodeEmailDisabled.
func (s *Service) queue(u User, m Mail, c Client, now time.Time) []QueuedMail {
	if s.mail == nil {
		return nil
	}
	if m.To == "" {
		m.To = u.Email
	}
	m.Lang = truncate(c.Lang, maxLangLength)
	return []QueuedMail{s.mail.seal(u.ID, m, now)}
}

// queued wakes this server's sender after a commit that queued mail.
func (s *Service) queued(mail []QueuedMail) {
	if len(mail) > 0 && s.mail != nil {
		for range mail {
			s.cfg.Metrics.Mail("queued")
		}
		s.mail.wake()
	}
}

// newEmailToken makes a token of kind for u, sent to email, and the link
// that carries it.
func (s *Service) newEmailToken(u User, kind EmailTokenKind, email string, now time.Time) (EmailToken, string) {
	secret, hash := newSecret()
	ttl, path := s.emailCfg().VerifyTTL, VerifyPath
	if kind == TokenRecovery {
		ttl, path = s.emailCfg().RecoveryTTL, ResetPath
	}
	t := EmailToken{Hash: hash[:], Kind: kind, UserID: u.ID, Email: email, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	return t, strings.TrimSuffix(s.cfg.PublicURL, "/") + path + "?token=" + secret
}

func (s *Service) emailCfg() EmailConfig {
	if s.mail == nil {
		return EmailConfig{}.withDefaults()
	}
	return s.mail.cfg
}

// RequestRecovery sends a recovery link to the account with that email.
// It answers the same way whether or not there is such an account, or it
// is disabled, or it asked too often (Limits.RecoveriesPerAccount per
// hour: further requests are dropped), so that no one learns which
// addresses have accounts; only the client's own limit
// (Limits.Recoveries per hour) is refused, with CodeTooManyAttempts.
// Every request is audited as recovery.requested, which also makes the
// answer take about as long either way.
func (s *Service) RequestRecovery(ctx context.Context, email string, c Client) error {
	if s.mail == nil {
		return emailDisabled()
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.spend(ctx, "recovery", c.IP, s.cfg.Limits.Recoveries, time.Hour); err != nil {
		return err
	}
	now := s.now()
	ev := AuditEvent{At: now, Type: EventRecoveryRequested, IP: c.IP}
	u, err := s.store.UserByEmail(ctx, email)
	switch {
	case ErrorCode(err) == CodeNotFound:
		ev.Detail = "no such account; nothing sent"
	case err != nil:
		return err
	case u.Disabled:
		ev.UserID, ev.Detail = u.ID, "account disabled; nothing sent"
	default:
		ev.UserID = u.ID
		if wait, err := s.limits.spend(ctx, "recovery-account", u.ID, s.cfg.Limits.RecoveriesPerAccount, time.Hour); wait > 0 {
			ev.Detail = "too many requests for this account; nothing sent"
		} else {
			s.throttleError(err)
			t, link := s.newEmailToken(u, TokenRecovery, u.Email, now)
			mail := s.queue(u, Mail{Kind: MailRecovery, Link: link, Valid: t.ExpiresAt.Sub(now)}, c, now)
			if err := s.store.CreateEmailToken(ctx, t, mail, ev); err != nil {
				return err
			}
			s.queued(mail)
			return nil
		}
	}
	s.audit(ctx, ev)
	return nil
}

// RecoveryLink makes a recovery link for the account with that email and
// returns it rather than sending it: the command line's way for
// deployments without email. Like a sent link, it supersedes earlier ones.
func (s *Service) RecoveryLink(ctx context.Context, email string, c Client) (string, error) {
	if s.cfg.PublicURL == "" {
		return "", errors.New("gatehouse: a recovery link needs Config.PublicURL")
	}
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	if u.Disabled {
		return "", Errorf(CodeAccountDisabled, "this account is disabled")
	}
	now := s.now()
	t, link := s.newEmailToken(u, TokenRecovery, u.Email, now)
	ev := AuditEvent{At: now, Type: EventRecoveryRequested, UserID: u.ID, IP: c.IP, Detail: c.by("link made by the operator")}
	if err := s.store.CreateEmailToken(ctx, t, nil, ev); err != nil {
		return "", err
	}
	return link, nil
}

// SendRecovery sends a recovery link to a user, for an admin (c.Actor).
func (s *Service) SendRecovery(ctx context.Context, userID string, c Client) error {
	if s.mail == nil {
		return emailDisabled()
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.Disabled {
		return Errorf(CodeAccountDisabled, "this account is disabled")
	}
	now := s.now()
	t, link := s.newEmailToken(u, TokenRecovery, u.Email, now)
	mail := s.queue(u, Mail{Kind: MailRecovery, Link: link, Valid: t.ExpiresAt.Sub(now)}, c, now)
	ev := AuditEvent{At: now, Type: EventRecoveryRequested, UserID: u.ID, IP: c.IP, Detail: c.by("")}
	if err := s.store.CreateEmailToken(ctx, t, mail, ev); err != nil {
		return err
	}
	s.queued(mail)
	return nil
}

// EmailTokenInfo is what a page may show of a token before it is spent.
type EmailTokenInfo struct {
	Kind  EmailTokenKind
	Email string // the address it was sent to
}

// CheckEmailToken says whether token is live and of one of kinds, without
// spending it: the pages' GET shows the form only for a link that works.
// Anything else is CodeInvalidToken.
func (s *Service) CheckEmailToken(ctx context.Context, token string, kinds ...EmailTokenKind) (EmailTokenInfo, error) {
	t, _, err := s.emailToken(ctx, token, kinds...)
	if err != nil {
		return EmailTokenInfo{}, err
	}
	return EmailTokenInfo{Kind: t.Kind, Email: t.Email}, nil
}

// emailToken finds a live token of one of kinds, and its user. Unknown,
// malformed, expired, superseded and spent tokens, tokens of a disabled
// user and tokens sent to an address the user no longer has are all
// CodeInvalidToken.
func (s *Service) emailToken(ctx context.Context, token string, kinds ...EmailTokenKind) (EmailToken, User, error) {
	bad := Errorf(CodeInvalidToken, "this link is not valid: it was used, it expired, or a newer one was sent")
	if len(token) != secretLen {
		return EmailToken{}, User{}, bad
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return EmailToken{}, User{}, bad
	}
	hash := sha256.Sum256([]byte(token))
	t, u, err := s.store.EmailToken(ctx, hash[:])
	switch {
	case ErrorCode(err) == CodeNotFound:
		return EmailToken{}, User{}, bad
	case err != nil:
		return EmailToken{}, User{}, err
	}
	kindOK := false
	for _, k := range kinds {
		kindOK = kindOK || t.Kind == k
	}
	sentTo := u.Email
	if t.Kind == TokenEmailChange {
		sentTo = t.Email // it was sent to the new address
	}
	if !kindOK || !s.now().Before(t.ExpiresAt) || u.Disabled || t.Email != sentTo {
		return EmailToken{}, User{}, bad
	}
	return t, u, nil
}

// ConfirmRecovery spends a recovery token: it sets the new password, marks
// the email verified (the link reached it), revokes every login of the
// user in both modes and retires every other email token of theirs, in
// one transaction; it creates no login. A weak password is refused before
// the token is spent, so the link still works.
func (s *Service) ConfirmRecovery(ctx context.Context, token, newPassword string, c Client) error {
	t, u, err := s.emailToken(ctx, token, TokenRecovery)
	if err != nil {
		return err
	}
	if err := checkPassword(newPassword); err != nil {
		return err
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	now := s.now()
	u.PasswordHash, u.EmailVerified = hash, true
	mail := s.queue(u, Mail{Kind: MailPasswordChanged}, c, now)
	ids, err := s.store.UpdateUser(ctx, UserChange{
		User: u, Spend: t.Hash, Retire: []EmailTokenKind{TokenVerify, TokenEmailChange},
		Revoke: &Revocation{UserID: u.ID, Reason: ReasonPasswordChanged, At: now},
		Mail:   mail,
		Events: []AuditEvent{{At: now, Type: EventPasswordReset, UserID: u.ID, IP: c.IP}},
	})
	if err != nil {
		return err
	}
	s.forget(now, ids...)
	s.cache.dropUser(u.ID)
	s.ring(ctx)
	s.queued(mail)
	return nil
}

// RequestVerification sends the principal a new verification link.
// Limits.RecoveriesPerAccount per hour apply to it too.
func (s *Service) RequestVerification(ctx context.Context, p Principal, c Client) error {
	if s.mail == nil {
		return emailDisabled()
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return err
	}
	if u.EmailVerified {
		return Errorf(CodeAlreadyVerified, "this address is already verified")
	}
	if err := s.spend(ctx, "verification", u.ID, s.cfg.Limits.RecoveriesPerAccount, time.Hour); err != nil {
		return err
	}
	return s.sendVerification(ctx, u, c)
}

// sendVerification queues a verification link to u's address.
func (s *Service) sendVerification(ctx context.Context, u User, c Client) error {
	now := s.now()
	t, link := s.newEmailToken(u, TokenVerify, u.Email, now)
	mail := s.queue(u, Mail{Kind: MailVerify, Link: link, Valid: t.ExpiresAt.Sub(now)}, c, now)
	ev := AuditEvent{At: now, Type: EventVerificationRequested, UserID: u.ID, IP: c.IP}
	if err := s.store.CreateEmailToken(ctx, t, mail, ev); err != nil {
		return err
	}
	s.queued(mail)
	return nil
}

// VerifyEmail spends a verification or change-of-address token. A
// verification marks the address verified; a change of address makes the
// new address the user's, verified, unless another account took it
// meanwhile (CodeEmailTaken, and the link still works). Either way the
// user's sessions cached on every server are dropped and their access
// tokens issued before become stale, since they name the old address or
// state.
func (s *Service) VerifyEmail(ctx context.Context, token string, c Client) (User, error) {
	t, u, err := s.emailToken(ctx, token, TokenVerify, TokenEmailChange)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	ev := AuditEvent{At: now, Type: EventEmailVerified, UserID: u.ID, IP: c.IP}
	change := UserChange{Spend: t.Hash, Feed: &RevocationEvent{UserID: u.ID, Reason: ReasonRolesChanged, At: now}}
	if t.Kind == TokenEmailChange {
		ev.Type, ev.Detail = EventEmailChanged, "from="+u.Email+" to="+t.Email
		u.Email = t.Email
		change.Retire = []EmailTokenKind{TokenVerify, TokenRecovery}
	}
	u.EmailVerified = true
	change.User, change.Events = u, []AuditEvent{ev}
	if _, err := s.store.UpdateUser(ctx, change); err != nil {
		return User{}, err
	}
	s.userChanged(ctx, u.ID, now)
	return u, nil
}

// ChangeEmail starts a change of the principal's address to newEmail,
// after checking their password (under the account's lockout): a link
// goes to the new address and a notice to the old one. Nothing changes
// until the link is opened (VerifyEmail).
func (s *Service) ChangeEmail(ctx context.Context, p Principal, newEmail, pw string, c Client) error {
	if s.mail == nil {
		return emailDisabled()
	}
	newEmail, err := NormalizeEmail(newEmail)
	if err != nil {
		return err
	}
	u, err := s.checkCurrentPassword(ctx, p, pw, c, "email change")
	if err != nil {
		return err
	}
	if newEmail == u.Email {
		return Errorf(CodeInvalidEmail, "this is already your address")
	}
	switch _, err := s.store.UserByEmail(ctx, newEmail); {
	case err == nil:
		return Errorf(CodeEmailTaken, "an account with this email already exists")
	case ErrorCode(err) != CodeNotFound:
		return err
	}
	now := s.now()
	t, link := s.newEmailToken(u, TokenEmailChange, newEmail, now)
	mail := append(s.queue(u, Mail{Kind: MailEmailChange, To: newEmail, Link: link, Valid: t.ExpiresAt.Sub(now)}, c, now),
		s.queue(u, Mail{Kind: MailEmailChanged, Detail: newEmail}, c, now)...)
	ev := AuditEvent{At: now, Type: EventEmailChangeRequested, UserID: u.ID, IP: c.IP, Detail: "to=" + newEmail}
	if err := s.store.CreateEmailToken(ctx, t, mail, ev); err != nil {
		return err
	}
	s.queued(mail)
	return nil
}
