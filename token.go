package gatehouse

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/token"
)

// Token mode defaults, as the contract gives them.
const (
	DefaultAccessTTL    = 10 * time.Minute
	DefaultRefreshTTL   = 720 * time.Hour
	DefaultRefreshGrace = 10 * time.Second
	DefaultLeeway       = 30 * time.Second
	DefaultAudience     = "gatehouse"
)

// TokenConfig turns token mode on. The zero value of a field means its
// documented default, except RefreshGrace, where zero turns the grace off.
type TokenConfig struct {
	// Issuer is the "iss" of every access token; required.
	Issuer string
	// Audience is the "aud" of every access token; "" means "gatehouse".
	Audience string
	// Alg is the signing algorithm: token.EdDSA (default), ES256 or RS256.
	Alg string
	// AccessTTL is the lifetime of an access token (default 10m).
	AccessTTL time.Duration
	// RefreshTTL is the absolute lifetime of a token login and of its
	// refresh tokens (default 720h).
	RefreshTTL time.Duration
	// RefreshGrace is how long after a rotation the retired refresh token
	// may be presented again and get the same successor (racing tabs).
	RefreshGrace time.Duration
	// Leeway is the clock skew allowed on exp, nbf and iat (default 30s,
	// at most token.MaxLeeway).
	Leeway time.Duration
	// Secret is the deployment secret (at least 32 bytes): it seals the
	// signing keys and keys the derivation of refresh token successors.
	Secret []byte
}

// tokens is the token-mode state of a Service.
type tokens struct {
	cfg      TokenConfig
	sealer   *token.Sealer
	verifier *token.Verifier
	succKey  []byte // HMAC key deriving a refresh token's successor
	signing  atomic.Pointer[token.Key]
	keys     atomic.Pointer[[]token.Key] // the live keys, newest first
	jwks     atomic.Pointer[[]byte]

	mu      sync.RWMutex
	revoked map[string]time.Time   // login id → when it can be forgotten
	roles   map[string]rolesChange // user id → their roles' latest recent change

	verified verifiedCache
}

// verifiedCache remembers access tokens whose signature and claims were
// checked, keyed by the SHA-256 of the token, so a token presented again
// costs a hash and a map lookup instead of a signature check. An entry is
// used only until the token expires (plus leeway), and revocation and
// stale roles are checked on every request, after the cache. A token may
// have more than one spelling (an ES256 signature (r, s) verifies as
// (r, n-s) too): each is an entry of its own, verified in full, and the
// checks after the cache go by the login and user, whatever the spelling.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[[32]byte]*verifiedToken
}

// verifiedToken is what a checked token says, the parts a Principal is
// made of and its iat, and no more: an entry is allocated on every new
// token and kept until it expires.
type verifiedToken struct {
	userID, email, loginID string
	emailVerified          bool
	aal                    int
	amr                    []string
	roles, permissions     []string
	issued                 time.Time // iat, for the stale-roles check
	expires                time.Time // exp
	until                  time.Time // exp + leeway
}

// principal is the Principal the token stands for.
func (v *verifiedToken) principal() Principal {
	return Principal{
		User:        User{ID: v.userID, Email: v.email, EmailVerified: v.emailVerified, Roles: v.roles},
		Login:       Login{ID: v.loginID, UserID: v.userID, Mode: ModeToken, ExpiresAt: v.expires, AAL: v.aal, AMR: v.amr},
		Permissions: v.permissions,
	}
}

// maxVerifiedTokens bounds the verified-token cache; when it is full, a
// tenth of it is evicted (see evict).
const maxVerifiedTokens = 100_000

func (c *verifiedCache) get(h [32]byte, now time.Time) *verifiedToken {
	c.mu.RLock()
	v := c.m[h]
	c.mu.RUnlock()
	if v == nil || !now.Before(v.until) {
		return nil
	}
	return v
}

func (c *verifiedCache) put(h [32]byte, v *verifiedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[32]byte]*verifiedToken)
	}
	if len(c.m) >= maxVerifiedTokens {
		evict(c.m, func(v *verifiedToken) bool { return !now.Before(v.until) })
	}
	c.m[h] = v
}

func (c *verifiedCache) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(now)
}

func (c *verifiedCache) sweepLocked(now time.Time) {
	for h, v := range c.m {
		if !now.Before(v.until) {
			delete(c.m, h)
		}
	}
}

// rolesChange is when a user's roles last changed, kept for as long as
// access tokens issued before the change can still be valid.
type rolesChange struct {
	at     time.Time // tokens issued before are stale: see RolesStale
	forget time.Time
}

func newTokens(cfg TokenConfig, now func() time.Time) (*tokens, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("token mode needs an issuer")
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.Alg == "" {
		cfg.Alg = token.EdDSA
	}
	if cfg.Alg != token.EdDSA && cfg.Alg != token.ES256 && cfg.Alg != token.RS256 {
		return nil, fmt.Errorf("unknown signing algorithm %q: want EdDSA, ES256 or RS256", cfg.Alg)
	}
	cfg.AccessTTL = orDefault(cfg.AccessTTL, DefaultAccessTTL)
	cfg.RefreshTTL = orDefault(cfg.RefreshTTL, DefaultRefreshTTL)
	cfg.Leeway = min(orDefault(cfg.Leeway, DefaultLeeway), token.MaxLeeway)
	cfg.RefreshGrace = max(cfg.RefreshGrace, 0)
	sealer, err := token.NewSealer(cfg.Secret)
	if err != nil {
		return nil, err
	}
	succKey, err := hkdf.Key(sha256.New, cfg.Secret, nil, "gatehouse refresh token successor", 32)
	if err != nil {
		return nil, err
	}
	return &tokens{
		cfg: cfg, sealer: sealer, succKey: succKey,
		verifier: token.NewVerifier(cfg.Issuer, cfg.Audience, cfg.Leeway, now),
		revoked:  make(map[string]time.Time), roles: make(map[string]rolesChange),
	}, nil
}

// window is how long an access token can stay valid after it was issued:
// what the revoked set and the role changes must remember.
func (t *tokens) window() time.Duration { return t.cfg.AccessTTL + t.cfg.Leeway }

// successor derives the refresh token that follows rt. Deriving it (an
// HMAC under a server key) rather than drawing it at random lets a racing
// tab that presents rt again within the grace get the same successor,
// without a plaintext token ever being stored.
func (t *tokens) successor(rt string) string {
	m := hmac.New(sha256.New, t.succKey)
	m.Write([]byte(rt))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (t *tokens) isRevoked(loginID string) bool {
	t.mu.RLock()
	_, ok := t.revoked[loginID]
	t.mu.RUnlock()
	return ok
}

func (t *tokens) revoke(at time.Time, ids ...string) {
	if len(ids) == 0 {
		return
	}
	t.mu.Lock()
	for _, id := range ids {
		t.revoked[id] = at.Add(t.window())
	}
	t.mu.Unlock()
}

// rolesChanged records that the user's roles changed at at, unless a
// later change is known: the user's tokens issued before are stale (see
// RolesStale) for as long as they can be valid.
func (t *tokens) rolesChanged(userID string, at time.Time) {
	t.mu.Lock()
	if c, ok := t.roles[userID]; !ok || at.After(c.at) {
		t.roles[userID] = rolesChange{at: at, forget: at.Add(t.window())}
	}
	t.mu.Unlock()
}

// staleRoles reports whether a token of the user issued at issued (its
// iat) is stale: issued before a change of the user's roles made while
// such tokens can still be valid.
func (t *tokens) staleRoles(userID string, issued time.Time) bool {
	t.mu.RLock()
	c, ok := t.roles[userID]
	t.mu.RUnlock()
	return ok && RolesStale(issued, c.at)
}

// sweep forgets revocations and role changes older than any valid token.
func (t *tokens) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, forget := range t.revoked {
		if now.After(forget) {
			delete(t.revoked, id)
		}
	}
	for id, c := range t.roles {
		if now.After(c.forget) {
			delete(t.roles, id)
		}
	}
	t.verified.sweep(now)
}

var errTokensOff = Errorf(CodeInvalidToken, "token mode is not enabled on this server")

// AuthenticateToken checks a bearer access token: signature against the
// pinned keys and claims (or the verified-token cache), then, in memory,
// that its login is not revoked and that it was not issued before a
// change of its user's roles (see RolesStale). It reads no store. The
// returned principal's slices are shared: do not modify them.
func (s *Service) AuthenticateToken(ctx context.Context, tok string) (Principal, error) {
	t := s.tok
	if t == nil {
		return Principal{}, errTokensOff
	}
	if len(tok) > token.MaxTokenBytes {
		return Principal{}, Errorf(CodeInvalidToken, "the access token is too large")
	}
	h := SHA256(tok)
	now := s.now()
	v := t.verified.get(h, now)
	if v == nil {
		c, err := t.verifier.Verify(tok)
		if err != nil {
			return Principal{}, &Error{Code: CodeInvalidToken, Detail: "the access token is invalid or expired", Err: err}
		}
		v = &verifiedToken{
			userID: c.Subject, email: c.Email, emailVerified: c.EmailVerified, loginID: c.SessionID,
			aal: aalOfACR(c.ACR), amr: c.AMR,
			roles: c.Roles, permissions: strings.Fields(c.Scope),
			issued: c.IssuedAt, expires: c.ExpiresAt, until: c.ExpiresAt.Add(t.cfg.Leeway),
		}
		t.verified.put(h, v, now)
	}
	if t.isRevoked(v.loginID) {
		return Principal{}, Errorf(CodeInvalidToken, "the login of this token was revoked")
	}
	if t.staleRoles(v.userID, v.issued) {
		return Principal{}, Errorf(CodeInvalidToken, "the user's roles changed; refresh the token")
	}
	return v.principal(), nil
}

// TokenPair is what a token login or a refresh returns.
type TokenPair struct {
	AccessToken  string
	ExpiresIn    time.Duration
	RefreshToken string
}

// loginTokens makes l (its id, user, client and assurance set) a token
// login with its first refresh token, and issues its tokens.
func (s *Service) loginTokens(ctx context.Context, u User, l Login, ev AuditEvent) (LoginResult, error) {
	t := s.tok
	if t == nil {
		return LoginResult{}, errNoTokenMode
	}
	l.ExpiresAt = l.CreatedAt.Add(t.cfg.RefreshTTL)
	refresh, hash := newSecret()
	rt := RefreshToken{Hash: hash[:], LoginID: l.ID, CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt}
	if err := s.store.CreateTokenLogin(ctx, l, rt, ev); err != nil {
		return LoginResult{}, err
	}
	s.evictOldest(ctx, u.ID, Client{IP: l.IP})
	pair, err := s.issue(u, l, refresh, l.CreatedAt)
	return LoginResult{User: u, Login: l, Tokens: pair}, err
}

// aalOfACR reads a token's "acr": "2" is AAL2, anything else AAL1.
func aalOfACR(acr string) int {
	if acr == "2" {
		return AAL2
	}
	return AAL1
}

// issue signs an access token for the login and pairs it with refresh.
func (s *Service) issue(u User, l Login, refresh string, now time.Time) (TokenPair, error) {
	t := s.tok
	key := t.signing.Load()
	if key == nil {
		return TokenPair{}, Unavailable(errors.New("no signing key loaded"))
	}
	roles := slices.Sorted(slices.Values(u.Roles))
	access, err := token.Sign(*key, token.Claims{
		Issuer: t.cfg.Issuer, Audience: t.cfg.Audience, Subject: u.ID, ID: newID(), SessionID: l.ID,
		Email: u.Email, EmailVerified: u.EmailVerified, Roles: roles, Scope: strings.Join(s.permissions(roles, l.AAL), " "),
		ACR: strconv.Itoa(max(l.AAL, AAL1)), AMR: l.AMR,
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(t.cfg.AccessTTL),
	})
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, ExpiresIn: t.cfg.AccessTTL, RefreshToken: refresh}, nil
}

// Refresh exchanges a refresh token for a new pair and retires it. The
// retired token presented again is theft, and revokes the whole login,
// unless it is the immediate predecessor of a still unused successor
// within RefreshGrace: then it gets that same successor (racing tabs).
// Only a token login's refresh tokens are good here: an app's (mode oidc)
// are refreshed at its token endpoint (RefreshAppLogin).
func (s *Service) Refresh(ctx context.Context, refresh string, c Client) (LoginResult, error) {
	if s.tok == nil {
		return LoginResult{}, errTokensOff
	}
	if err := s.spend(ctx, "refresh", c.IP, s.cfg.Limits.Refreshes, time.Minute); err != nil {
		return LoginResult{}, err
	}
	u, l, next, err := s.rotate(ctx, refresh, c, func(l Login) error {
		if l.Mode != ModeToken {
			return errRefreshInvalid()
		}
		return nil
	})
	if err != nil {
		return LoginResult{}, err
	}
	pair, err := s.issue(u, l, next, s.now())
	return LoginResult{User: u, Login: l, Tokens: pair}, err
}

func errRefreshInvalid() error {
	return Errorf(CodeInvalidToken, "the refresh token is invalid or expired")
}

// rotate is the rule of refresh token rotation, for token logins
// (Refresh) and apps' logins (RefreshAppLogin) alike: it retires the
// refresh token and returns its login, user and successor. belongs
// refuses a login the caller may not refresh (another mode, another app)
// before anything changes. A retired token presented again revokes the
// login (CodeRefreshTokenReused) unless it is the immediate predecessor of
// a still unused successor within RefreshGrace, which then gets that same
// successor. An unknown, expired or refused token is CodeInvalidToken.
func (s *Service) rotate(ctx context.Context, refresh string, c Client, belongs func(Login) error) (User, Login, string, error) {
	t := s.tok
	if t == nil {
		return User{}, Login{}, "", errTokensOff
	}
	if !validSecret(refresh) {
		return User{}, Login{}, "", errRefreshInvalid()
	}
	hash := sha256.Sum256([]byte(refresh))
	rt, l, u, err := s.store.RefreshToken(ctx, hash[:])
	if ErrorCode(err) == CodeNotFound {
		return User{}, Login{}, "", errRefreshInvalid()
	}
	if err != nil {
		return User{}, Login{}, "", err
	}
	now := s.now()
	if !now.Before(rt.ExpiresAt) || !l.Live(now) || u.Disabled || t.isRevoked(l.ID) {
		return User{}, Login{}, "", errRefreshInvalid()
	}
	if err := belongs(l); err != nil {
		return User{}, Login{}, "", err
	}
	next := t.successor(refresh)
	nextHash := sha256.Sum256([]byte(next))
	if rt.UsedAt.IsZero() {
		n := RefreshToken{Hash: nextHash[:], LoginID: l.ID, CreatedAt: now, ExpiresAt: rt.ExpiresAt}
		ev := AuditEvent{At: now, Type: EventTokenRefreshed, UserID: u.ID, IP: c.IP, Detail: "session=" + l.ID}
		won, err := s.store.RotateRefreshToken(ctx, hash[:], n, ev)
		if err != nil {
			return User{}, Login{}, "", err
		}
		if won {
			return u, l, next, nil
		}
		// Another request rotated it first: judge it as a used token.
		if rt, _, _, err = s.store.RefreshToken(ctx, hash[:]); err != nil {
			if ErrorCode(err) == CodeNotFound {
				return User{}, Login{}, "", errRefreshInvalid()
			}
			return User{}, Login{}, "", err
		}
	}
	if t.cfg.RefreshGrace > 0 && now.Sub(rt.UsedAt) <= t.cfg.RefreshGrace {
		succ, _, _, err := s.store.RefreshToken(ctx, nextHash[:])
		if err != nil && ErrorCode(err) != CodeNotFound {
			return User{}, Login{}, "", err
		}
		if err == nil && succ.UsedAt.IsZero() {
			return u, l, next, nil
		}
	}
	s.cfg.Metrics.RefreshReused()
	_, err = s.revoke(ctx, Revocation{UserID: u.ID, LoginID: l.ID, Reason: ReasonRefreshTokenReused},
		AuditEvent{Type: EventRefreshTokenReused, UserID: u.ID, IP: c.IP, Detail: "session=" + l.ID})
	if err != nil {
		return User{}, Login{}, "", err
	}
	return User{}, Login{}, "", Errorf(CodeRefreshTokenReused, "this refresh token was already used; the login is revoked")
}

// LogoutRefresh ends the login a refresh token belongs to, if it is one of
// the principal's.
func (s *Service) LogoutRefresh(ctx context.Context, p Principal, refresh string, c Client) error {
	if s.tok == nil || !validSecret(refresh) {
		return nil
	}
	hash := sha256.Sum256([]byte(refresh))
	_, l, _, err := s.store.RefreshToken(ctx, hash[:])
	if ErrorCode(err) == CodeNotFound || (err == nil && (l.UserID != p.User.ID || l.ID == p.Login.ID)) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.Logout(ctx, Principal{User: p.User, Login: l}, c)
}

// JWKS returns the public keys as a JSON Web Key Set; nil when token mode
// is off.
func (s *Service) JWKS() []byte {
	if s.tok == nil {
		return nil
	}
	if b := s.tok.jwks.Load(); b != nil {
		return *b
	}
	return nil
}

// SigningKeys returns the live token signing keys, the one that signs
// first, from memory; nil when token mode is off. Their private halves
// sign what the OpenID Connect provider issues (package oidc), whose ID
// tokens share the JWKS of access tokens: never expose or log them.
func (s *Service) SigningKeys() []token.Key {
	if s.tok == nil {
		return nil
	}
	if k := s.tok.keys.Load(); k != nil {
		return *k
	}
	return nil
}

// TokenConfig returns the token mode settings in force (defaults filled
// in), and false when token mode is off.
func (s *Service) TokenConfig() (TokenConfig, bool) {
	if s.tok == nil {
		return TokenConfig{}, false
	}
	c := s.tok.cfg
	c.Secret = nil
	return c, true
}

// KeyInfo describes a signing key for `gatehouse keys list`.
type KeyInfo struct {
	ID, Alg   string
	CreatedAt time.Time
	// Active is the key that signs new tokens.
	Active bool
	// VerifiesUntil is when the last token the key signed expires; zero
	// for the active key.
	VerifiesUntil time.Time
}

// Keys lists the signing keys still in use, the active one first.
func (s *Service) Keys(ctx context.Context) ([]KeyInfo, error) {
	if s.tok == nil {
		return nil, errTokensOff
	}
	keys, err := s.store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []KeyInfo
	for i, k := range s.tok.live(keys, s.now()) {
		info := KeyInfo{ID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt, Active: i == 0}
		if i > 0 {
			info.VerifiesUntil = keys[i-1].CreatedAt.Add(s.tok.window())
		}
		out = append(out, info)
	}
	return out, nil
}

// live returns the keys (newest first) whose tokens can still be valid at
// now: the newest, and each older one until its successor has been
// signing for longer than an access token lives.
func (t *tokens) live(keys []SigningKey, now time.Time) []SigningKey {
	for i := 1; i < len(keys); i++ {
		if !now.Before(keys[i-1].CreatedAt.Add(t.window())) {
			return keys[:i]
		}
	}
	return keys
}

// RotateKeys makes a new signing key the active one. Older keys keep
// verifying the tokens they signed until those expire.
func (s *Service) RotateKeys(ctx context.Context, c Client) (KeyInfo, error) {
	t := s.tok
	if t == nil {
		return KeyInfo{}, errTokensOff
	}
	now := s.now()
	k, err := token.GenerateKey(t.cfg.Alg, now)
	if err != nil {
		return KeyInfo{}, err
	}
	der, err := k.MarshalPrivate()
	if err != nil {
		return KeyInfo{}, err
	}
	sk := SigningKey{ID: k.ID, Alg: k.Alg, CreatedAt: now, Sealed: t.sealer.Seal(der, []byte(k.ID))}
	ev := AuditEvent{At: now, Type: EventKeysRotated, IP: c.IP, Detail: "kid=" + k.ID + " alg=" + k.Alg}
	if err := s.store.CreateKey(ctx, sk, ev); err != nil {
		return KeyInfo{}, err
	}
	if err := s.loadKeys(ctx); err != nil {
		return KeyInfo{}, err
	}
	s.ring(ctx)
	return KeyInfo{ID: k.ID, Alg: k.Alg, CreatedAt: now, Active: true}, nil
}

// loadKeys reads the signing keys, opens the live ones, and makes them the
// verifier's key set, the newest the signing key, and the JWKS. Keys that
// can no longer have valid tokens are deleted.
func (s *Service) loadKeys(ctx context.Context) error {
	t := s.tok
	stored, err := s.store.ListKeys(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	live := t.live(stored, now)
	if cur := t.signing.Load(); cur != nil && len(live) > 0 && cur.ID == live[0].ID && len(live) == len(stored) {
		return nil // nothing changed
	}
	keys := make([]token.Key, 0, len(live))
	for _, sk := range live {
		der, err := t.sealer.Open(sk.Sealed, []byte(sk.ID))
		if err != nil {
			return fmt.Errorf("opening signing key %s: %w (is this the deployment's secret?)", sk.ID, err)
		}
		k, err := token.ParseKey(sk.ID, sk.Alg, der, sk.CreatedAt)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
		keys = append(keys, k)
	}
	jwks, err := token.JWKS(keys)
	if err != nil {
		return err
	}
	t.verifier.SetKeys(keys)
	t.keys.Store(&keys)
	t.jwks.Store(&jwks)
	if len(keys) > 0 {
		t.signing.Store(&keys[0])
	}
	for _, sk := range stored[len(live):] {
		if err := s.store.DeleteKey(ctx, sk.ID); err != nil {
			s.log.Warn("deleting a retired signing key failed", "kid", sk.ID, "err", err)
		}
	}
	return nil
}
