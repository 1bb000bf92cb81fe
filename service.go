package gatehouse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/password"
	"github.com/google/uuid"
)

// Default lifetimes, as the contract gives them.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 24 * time.Hour
	DefaultRememberMax = 720 * time.Hour
	DefaultCacheTTL    = time.Second
)

// Config holds the Service's settings. The zero value of each field means
// its documented default.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// Hasher hashes passwords; nil means password.DefaultParams bounded to
	// GOMAXPROCS concurrent hashes.
	Hasher *password.Hasher
	// Roles maps role names to permissions; nil means BuiltinRoles.
	Roles Roles
	// DefaultRole is given to users who sign up; "" means RoleCustomer.
	DefaultRole string
	// NoSignup refuses self-service registration.
	NoSignup bool
	// SessionIdle, SessionMax and RememberMax bound session logins.
	SessionIdle, SessionMax, RememberMax time.Duration
	// CacheTTL is how long a session check trusts what it read from the
	// store before reading again. Changes made on this server take effect
	// at once; changes made by another process (the CLI, another server)
	// are seen within CacheTTL. Zero means DefaultCacheTTL.
	CacheTTL time.Duration
	// Limits throttles logins, registrations and refreshes per client
	// address; Counters keeps the counts (nil means MemoryCounters, right
	// for one server; several servers share Redis's).
	Limits   Limits
	Counters Counters
	// Tokens, when set, turns token mode on.
	Tokens *TokenConfig
	// Metrics counts logins, reuse detections and throttled requests; nil
	// counts nothing.
	Metrics Metrics
	// Notifier, when set, rings the other servers on this store after a
	// change made here, and wakes this one when another rang.
	Notifier Notifier
}

// Notifier rings the servers that share a store. Package redis has one.
// It is only a doorbell: a server that misses a ring still sees the
// change at its next poll of the store (Run, every second).
type Notifier interface {
	// Notify tells every server that the store changed.
	Notify(ctx context.Context) error
	// Changes delivers a value when another server rang.
	Changes() <-chan struct{}
	// Ping reports whether the notifier is reachable.
	Ping(ctx context.Context) error
}

// Service holds every rule of Gatehouse. It is safe for concurrent use.
type Service struct {
	store  Store
	cfg    Config
	hasher *password.Hasher
	log    *slog.Logger
	cache  *sessionCache
	tok    *tokens // nil when token mode is off
	limits throttle

	feed feed
}

// NewService returns a Service over store. Call Start before serving.
func NewService(store Store, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hasher == nil {
		cfg.Hasher = password.NewHasher(password.DefaultParams, 0, 0)
	}
	if cfg.Roles == nil {
		cfg.Roles = BuiltinRoles()
	}
	if cfg.DefaultRole == "" {
		cfg.DefaultRole = RoleCustomer
	}
	cfg.SessionIdle = orDefault(cfg.SessionIdle, DefaultSessionIdle)
	cfg.SessionMax = orDefault(cfg.SessionMax, DefaultSessionMax)
	cfg.RememberMax = orDefault(cfg.RememberMax, DefaultRememberMax)
	cfg.CacheTTL = orDefault(cfg.CacheTTL, DefaultCacheTTL)
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Counters == nil {
		cfg.Counters = NewMemoryCounters(cfg.Now)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	s := &Service{store: auditLogged{Store: store, log: cfg.Logger}, cfg: cfg, hasher: cfg.Hasher, log: cfg.Logger, cache: newSessionCache(),
		limits: throttle{lim: cfg.Limits, c: cfg.Counters}}
	if cfg.Tokens != nil {
		t, err := newTokens(*cfg.Tokens, s.now)
		if err != nil {
			return nil, err
		}
		s.tok = t
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Roles returns the role definitions in force.
func (s *Service) Roles() Roles { return s.cfg.Roles }

// Client describes where a request came from, for logins and the audit log.
type Client struct {
	IP        string
	UserAgent string
	// Actor is the id of the admin acting on someone else's account, if
	// any; the audit event names them.
	Actor string
}

// by names the actor in an audit detail.
func (c Client) by(detail string) string {
	if c.Actor == "" {
		return detail
	}
	if detail == "" {
		return "by=" + c.Actor
	}
	return detail + " by=" + c.Actor
}

// Register creates an account through self-service sign-up.
func (s *Service) Register(ctx context.Context, email, pw string, c Client) (User, error) {
	if s.cfg.NoSignup {
		return User{}, Errorf(CodeSignupDisabled, "sign-up is disabled on this server")
	}
	if err := s.spend(ctx, "register", c.IP, s.cfg.Limits.Registrations, time.Hour); err != nil {
		return User{}, err
	}
	return s.CreateUser(ctx, email, pw, []string{s.cfg.DefaultRole}, c)
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

// LoginRequest is a sign-in attempt.
type LoginRequest struct {
	Email    string
	Password string
	Mode     Mode
	Remember bool
	Device   string
	Client   Client
}

// LoginResult is a successful sign-in. Secret is the cookie secret of a
// session login, Tokens the tokens of a token login: each is returned once
// and only hashes are kept.
type LoginResult struct {
	User   User
	Login  Login
	Secret string
	Tokens TokenPair
}

// Login checks a password and starts a login. A wrong email and a wrong
// password give the same error after about the same work: an unknown email
// is checked against a dummy hash.
func (s *Service) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	res, err := s.login(ctx, req)
	s.cfg.Metrics.Login(req.Mode, loginOutcome(err))
	return res, err
}

func (s *Service) login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	if req.Mode != ModeSession && req.Mode != ModeToken {
		return LoginResult{}, Errorf(CodeInvalidRequest, `mode must be "session" or "token"`)
	}
	device := req.Device
	if len(device) > MaxDeviceLength {
		return LoginResult{}, Errorf(CodeInvalidRequest, fmt.Sprintf("device must be at most %d bytes", MaxDeviceLength))
	}
	email, err := NormalizeEmail(req.Email)
	if err != nil {
		// An address that cannot exist fails like any unknown one.
		email = ""
	}
	ip := req.Client.IP
	// Too many failures for this account from this address: wait, without
	// checking the password (the same for accounts that do not exist).
	wait, err := s.limits.lockedOut(ctx, email, ip)
	s.throttleError(err)
	if wait > 0 {
		s.audit(ctx, AuditEvent{Type: EventLoginThrottled, IP: ip, Detail: "account locked at this address"})
		s.cfg.Metrics.Throttled("login")
		return LoginResult{}, tooMany(wait)
	}
	u, err := s.checkPassword(ctx, email, req.Password)
	if ErrorCode(err) == CodeInvalidCredentials {
		s.audit(ctx, AuditEvent{Type: EventLoginFailed, UserID: u.ID, IP: ip})
		wait, terr := s.limits.failed(ctx, email, ip)
		s.throttleError(terr)
		if wait > 0 {
			s.audit(ctx, AuditEvent{Type: EventLoginThrottled, UserID: u.ID, IP: ip})
			s.cfg.Metrics.Throttled("login")
			return LoginResult{}, tooMany(wait)
		}
	}
	if err != nil {
		return LoginResult{}, err
	}
	s.throttleError(s.limits.succeeded(ctx, email, ip))
	if u.Disabled {
		s.audit(ctx, AuditEvent{Type: EventLoginFailed, UserID: u.ID, IP: req.Client.IP, Detail: "account disabled"})
		return LoginResult{}, Errorf(CodeAccountDisabled, "this account is disabled")
	}
	if device == "" {
		device = DeviceName(req.Client.UserAgent)
	}
	now := s.now()
	if req.Mode == ModeToken {
		return s.loginTokens(ctx, u, req, device, now)
	}
	max := s.cfg.SessionMax
	if req.Remember {
		max = s.cfg.RememberMax
	}
	secret, hash := newSecret()
	l := Login{
		ID: newID(), UserID: u.ID, Mode: ModeSession, SecretHash: hash[:],
		Device: device, IP: req.Client.IP, UserAgent: truncate(req.Client.UserAgent, 512), Remember: req.Remember,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(max),
	}
	l.IdleExpiresAt = minTime(now.Add(s.cfg.SessionIdle), l.ExpiresAt)
	ev := AuditEvent{At: now, Type: EventLoginSucceeded, UserID: u.ID, IP: req.Client.IP, Detail: "mode=" + string(l.Mode)}
	if err := s.store.CreateLogin(ctx, l, ev); err != nil {
		return LoginResult{}, err
	}
	s.evictOldest(ctx, u.ID, req.Client)
	return LoginResult{User: u, Login: l, Secret: secret}, nil
}

// MaxLoginsPerUser is how many live logins one user may have; a new login
// beyond it ends the oldest, so an account cannot pile up logins (and
// rows) without bound.
const MaxLoginsPerUser = 100

// evictOldest ends the user's oldest logins beyond MaxLoginsPerUser. A
// failure is logged: the new login stands either way.
func (s *Service) evictOldest(ctx context.Context, userID string, c Client) {
	logins, err := s.store.ListLogins(ctx, userID, s.now())
	if err != nil {
		s.log.Warn("counting a user's logins failed", "user", userID, "err", err)
		return
	}
	for i := len(logins) - 1; i >= MaxLoginsPerUser; i-- { // newest first: the tail is oldest
		id := logins[i].ID
		if _, err := s.revoke(ctx, Revocation{UserID: userID, LoginID: id, Reason: ReasonEvicted},
			AuditEvent{Type: EventSessionEvicted, UserID: userID, IP: c.IP, Detail: "session=" + id}); err != nil {
			s.log.Warn("evicting an old login failed", "user", userID, "err", err)
		}
	}
}

// checkPassword finds the user and verifies the password, upgrading the
// stored hash when its parameters are out of date. On a wrong password it
// returns the user (for the audit log) with CodeInvalidCredentials.
func (s *Service) checkPassword(ctx context.Context, email, pw string) (User, error) {
	bad := Errorf(CodeInvalidCredentials, "the email or password is incorrect")
	var u User
	var err error
	if email != "" {
		u, err = s.store.UserByEmail(ctx, email)
	}
	if email == "" || ErrorCode(err) == CodeNotFound {
		if err := s.hasher.Dummy(ctx, pw); err != nil {
			return User{}, hashError(err)
		}
		return User{}, bad
	}
	if err != nil {
		return User{}, err
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return User{}, hashError(err)
	}
	if !ok {
		return u, bad
	}
	if rehash {
		if h, err := s.hasher.Hash(ctx, pw); err == nil {
			u.PasswordHash = h
			if _, err := s.store.UpdateUser(ctx, u, nil); err != nil {
				s.log.Warn("upgrading a password hash failed", "user", u.ID, "err", err)
			}
		}
	}
	return u, nil
}

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
		e = &cacheEntry{login: l, user: u, fresh: now.Add(s.cfg.CacheTTL)}
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

// ring tells the other servers that this one changed the store.
func (s *Service) ring(ctx context.Context) {
	if s.cfg.Notifier != nil {
		s.cfg.Notifier.Notify(ctx) // the notifier logs its own outages
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

// ChangePassword sets a new password after checking the current one, and
// ends every other login of the user.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string, c Client) error {
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return hashError(err)
	}
	if !ok {
		return Errorf(CodeInvalidCredentials, "the current password is incorrect")
	}
	if err := checkPassword(next); err != nil {
		return err
	}
	return s.setPassword(ctx, u, next, p.Login.ID, c)
}

func (s *Service) setPassword(ctx context.Context, u User, pw, keep string, c Client) error {
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	u.PasswordHash = hash
	now := s.now()
	r := &Revocation{UserID: u.ID, KeepLoginID: keep, Reason: ReasonPasswordChanged, At: now}
	ids, err := s.store.UpdateUser(ctx, u, r, AuditEvent{At: now, Type: EventPasswordChanged, UserID: u.ID, IP: c.IP})
	s.forget(now, ids...)
	s.ring(ctx)
	return err
}

// User returns the account with that id.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	return s.store.UserByID(ctx, id)
}

// UserByEmail returns the account with that email.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	return s.store.UserByEmail(ctx, email)
}

// ListUsers returns up to limit users after the cursor, in creation order.
func (s *Service) ListUsers(ctx context.Context, after string, limit int) ([]User, error) {
	return s.store.ListUsers(ctx, after, limit)
}

// SetDisabled disables or enables an account. Disabling ends every login
// of the user at once.
func (s *Service) SetDisabled(ctx context.Context, userID string, disabled bool, c Client) (User, error) {
	u, err := s.store.UserByID(ctx, userID)
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
	ids, err := s.store.UpdateUser(ctx, u, r, ev)
	s.forget(now, ids...)
	s.cache.dropUser(u.ID)
	s.ring(ctx)
	return u, err
}

// SetRoles replaces a user's roles. Every role must exist.
func (s *Service) SetRoles(ctx context.Context, userID string, roles []string, c Client) (User, error) {
	if err := s.checkRoles(roles); err != nil {
		return User{}, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return User{}, err
	}
	old := u.Roles
	u.Roles = sortedRoles(roles)
	if slices.Equal(old, u.Roles) {
		return u, nil
	}
	now := s.now()
	detail := c.by(fmt.Sprintf("from=%v to=%v", old, u.Roles))
	r := &Revocation{UserID: u.ID, Reason: ReasonRolesChanged, At: now}
	if _, err = s.store.UpdateUser(ctx, u, r, AuditEvent{At: now, Type: EventUserRolesChanged, UserID: u.ID, IP: c.IP, Detail: detail}); err != nil {
		return User{}, err
	}
	s.cache.dropUser(u.ID)
	if s.tok != nil {
		s.tok.setRoles(u.ID, u.Roles, now)
	}
	s.feed.notify()
	s.ring(ctx)
	return u, nil
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

// LiveLogins counts the logins of both modes that are live now.
func (s *Service) LiveLogins(ctx context.Context) (int, error) {
	return s.store.CountLiveLogins(ctx, s.now())
}

// Audit returns up to limit audit events, newest first, of one user when
// userID is set.
func (s *Service) Audit(ctx context.Context, userID string, limit int) ([]AuditEvent, error) {
	return s.store.ListAudit(ctx, userID, limit)
}

// Ready reports whether the store (and the notifier, when there is one)
// answers.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return Unavailable(err)
	}
	if s.cfg.Notifier != nil {
		if err := s.cfg.Notifier.Ping(ctx); err != nil {
			return Unavailable(err)
		}
	}
	return nil
}

// CleanupExpired removes expired logins from the store and returns how
// many it removed.
func (s *Service) CleanupExpired(ctx context.Context) (int, error) {
	return s.store.DeleteExpiredLogins(ctx, s.now())
}

// Me returns the principal's account as stored now.
func (s *Service) Me(ctx context.Context, p Principal) (User, error) {
	if p.Login.Mode == ModeSession {
		return p.User, nil
	}
	return s.store.UserByID(ctx, p.User.ID)
}

// spend counts a request against an address's budget of one kind and
// refuses it with 429 when the budget is spent.
func (s *Service) spend(ctx context.Context, kind, ip string, budget int, window time.Duration) error {
	wait, err := s.limits.spend(ctx, kind, ip, budget, window)
	s.throttleError(err)
	if wait > 0 {
		s.cfg.Metrics.Throttled(kind)
		return tooMany(wait)
	}
	return nil
}

// throttleError logs a counter store failure; the throttle then fails
// open for that attempt (see throttle).
func (s *Service) throttleError(err error) {
	if err != nil {
		s.log.Warn("throttle counters unavailable; not counting this attempt", "err", err)
	}
}

func (s *Service) audit(ctx context.Context, ev AuditEvent) {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	if err := s.store.RecordAudit(ctx, ev); err != nil {
		s.log.Warn("recording an audit event failed", "type", ev.Type, "err", err)
	}
}

func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", hashError(err)
	}
	return h, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Now returns the time on the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// hashError turns a hasher failure into a retryable 503: the bound on
// concurrent hashing was reached, or the caller gave up.
func hashError(err error) error {
	return &Error{Code: CodeUnavailable, Detail: "too many sign-ins at once; try again shortly", Err: err, RetryAfter: time.Second}
}

func checkPassword(pw string) error {
	switch err := password.Check(pw); {
	case err == nil:
		return nil
	case errors.Is(err, password.ErrTooShort):
		return Errorf(CodeWeakPassword, fmt.Sprintf("the password must have at least %d characters", password.MinLength))
	case errors.Is(err, password.ErrTooLong):
		return Errorf(CodeWeakPassword, fmt.Sprintf("the password must be at most %d bytes", password.MaxLength))
	case errors.Is(err, password.ErrCommon):
		return Errorf(CodeWeakPassword, "this password is too common; choose another")
	default:
		return Errorf(CodeWeakPassword, "this password cannot be used")
	}
}

// secretLen is the length of an encoded 256-bit secret.
var secretLen = base64.RawURLEncoding.EncodedLen(32)

func newSecret() (string, [32]byte) {
	var b [32]byte
	rand.Read(b[:])
	s := base64.RawURLEncoding.EncodeToString(b[:])
	return s, sha256.Sum256([]byte(s))
}

// validSecret rejects anything that is not shaped like a secret this server
// issues, before any hashing or lookup.
func validSecret(s string) bool {
	if len(s) != secretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
