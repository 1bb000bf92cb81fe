package gatehouse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
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
	DefaultCacheTTL    = 30 * time.Second
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
	// MFARoles are the roles whose permissions count only in a login at
	// AAL2 (two factors); at AAL1 a user has only their other roles'.
	MFARoles []string
	// DefaultRole is given to users who sign up; "" means RoleCustomer.
	DefaultRole string
	// NoSignup refuses self-service registration.
	NoSignup bool
	// SessionIdle, SessionMax and RememberMax bound session logins.
	SessionIdle, SessionMax, RememberMax time.Duration
	// CacheTTL is how long a session check trusts what it read from the
	// store before reading again, while this server follows the
	// revocation feed (Run reads it every second). Changes made on this
	// server take effect at once. Every change made by another process
	// (the CLI, another server) that a check must honour, a logout, a
	// revocation, a password change, disabling, a role change, adds to
	// the feed, which drops the affected sessions within about a second
	// (milliseconds with a Notifier) whatever CacheTTL is: CacheTTL only
	// bounds how long a change that bypasses the service (the database
	// edited by hand) may go unseen. It fails closed: when the last read
	// of the feed failed, or none succeeded in the last three seconds (a
	// service that is not Run), an entry is trusted for one second at
	// most. Zero means DefaultCacheTTL.
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
	// Email, when set, turns email on.
	Email *EmailConfig
	// Secret is the deployment secret (at least 32 bytes): it seals the
	// secrets of authenticator apps. Without it, second factors are off.
	Secret []byte
	// PublicURL is Gatehouse's public base URL (the issuer,
	// https://auth.example.com), where the links sent by email point.
	// Required with Email and by RecoveryLink.
	PublicURL string
	// Passkeys configures the WebAuthn relying party. Passkeys need
	// Secret and PublicURL; they are off (with a log line at start) when
	// the relying party id would be an IP address.
	Passkeys PasskeyConfig
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
	tok    *tokens       // nil when token mode is off
	mail   *mailer       // nil when email is off
	mfa    *mfaState     // nil without Config.Secret
	pk     *passkeyState // nil when passkeys are off
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
	if cfg.Secret != nil {
		m, err := newMFAState(cfg.Secret, cfg.PublicURL)
		if err != nil {
			return nil, err
		}
		s.mfa = m
		pk, why, err := newPasskeyState(cfg.Secret, cfg.PublicURL, cfg.Passkeys)
		if err != nil {
			return nil, err
		}
		if pk == nil && why != "" {
			cfg.Logger.Info("passkeys are off: "+why, "code", CodePasskeysDisabled)
		}
		s.pk = pk
	} else if cfg.Passkeys.RPID != "" {
		return nil, errors.New("gatehouse: passkeys need Config.Secret")
	}
	if cfg.Email != nil {
		if cfg.Email.Mailer == nil || cfg.PublicURL == "" {
			return nil, errors.New("gatehouse: Email.Mailer and PublicURL are required with Email")
		}
		m, err := newMailer(cfg.Email.withDefaults())
		if err != nil {
			return nil, err
		}
		s.mail = m
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
	// Lang is the client's Accept-Language: the messages sent for the
	// request are written in it when there are words for it.
	Lang string
}

// storedUserAgent is the user agent as a login keeps it: at most 512
// bytes, made safe to show (see SafeText).
func (c Client) storedUserAgent() string { return SafeText(truncate(c.UserAgent, 512)) }

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

// LiveLogins counts the logins of both modes that are live now.
func (s *Service) LiveLogins(ctx context.Context) (int, error) {
	return s.store.CountLiveLogins(ctx, s.now())
}

// Audit returns up to q.Limit audit events that q selects, newest first,
// and next, the Before of the following page, or 0 when no event
// follows. A user id that is not text of sane length, or a type not
// shaped like an event type, is CodeInvalidRequest.
func (s *Service) Audit(ctx context.Context, q AuditQuery) (events []AuditEvent, next int64, err error) {
	if err = q.check(); err != nil || q.Limit < 1 {
		return nil, 0, err
	}
	limit := q.Limit
	q.Limit++ // one more tells whether a next page exists
	if events, err = s.store.ListAudit(ctx, q); err != nil {
		return nil, 0, err
	}
	if len(events) > limit {
		events = events[:limit]
		next = events[limit-1].ID
	}
	return events, next, nil
}

// Ready reports whether the store answers: without it nothing can be
// checked. It also says how the notifier (Redis) is, "" when there is
// none: a server without Redis is still correct, only slower to see other
// servers' changes, so Redis alone never makes it unready (taking every
// server out of a load balancer because Redis is down would turn a slower
// cluster into no cluster).
func (s *Service) Ready(ctx context.Context) (notifier string, err error) {
	if s.cfg.Notifier != nil {
		notifier = "ok"
		if s.cfg.Notifier.Ping(ctx) != nil {
			notifier = "unreachable"
		}
	}
	if err := s.store.Ping(ctx); err != nil {
		return notifier, Unavailable(err)
	}
	return notifier, nil
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

// throttleError notes a counter store failure; the throttle then fails
// open for that attempt (see throttle). Only at debug level: the counters
// live in Redis, whose outages package redis logs once.
func (s *Service) throttleError(err error) {
	if err != nil {
		s.log.Debug("throttle counters unavailable; not counting this attempt", "err", err)
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
