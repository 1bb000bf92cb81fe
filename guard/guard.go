package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/token"
)

const (
	// callTimeout bounds each call to Gatehouse but the revocation stream.
	callTimeout = 5 * time.Second
	// leeway is the clock skew allowed on a token's exp, nbf and iat, as
	// on the server.
	leeway = 30 * time.Second
	// sweepEvery is how often expired entries leave the caches.
	sweepEvery = time.Minute
)

// Guard is net/http middleware that lets in only requests signed in with
// Gatehouse. Make one with New, share it between handlers (it is safe for
// concurrent use) and Close it when the program ends.
type Guard struct {
	base       string
	client     *http.Client
	log        *slog.Logger
	cookie     string
	sessionTTL time.Duration
	now        func() time.Time // see WithClock
	verifier   *token.Verifier
	keys       *keySet
	feed       *feed // nil without a service account
	tokens     *cache[tokenEntry]
	sessions   *cache[User]
	origin     *http.CrossOriginProtection

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// tokenEntry is a verified access token.
type tokenEntry struct {
	user   User
	issued time.Time // iat, for the stale-roles check
	signed string    // the token up to its signature: see Guard.bearer
}

// New returns a Guard for the Gatehouse server at baseURL (such as
// "https://auth.example.com"), once it has fetched the server's key set
// (GET /.well-known/jwks.json) and, with WithServiceAccount, signed in and
// read the recent revocation feed. It fails when it cannot: a Guard that
// could not check tokens would refuse them all, which is better found at
// start. ctx bounds these first calls only; the Guard then refreshes the
// key set and follows the feed in the background until Close.
func New(ctx context.Context, baseURL string, opts ...Option) (*Guard, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("guard: %q is not an http or https URL", baseURL)
	}
	base := strings.TrimSuffix(baseURL, "/")
	cfg := config{
		issuer: base, audience: "gatehouse", sessionTTL: 5 * time.Second,
		cookie: "__Host-gatehouse", maxStale: 30 * time.Second, now: time.Now,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.client == nil {
		cfg.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{
		base:       base,
		client:     cfg.client,
		log:        cfg.log,
		cookie:     cfg.cookie,
		sessionTTL: cfg.sessionTTL,
		now:        cfg.now,
		verifier:   token.NewVerifier(cfg.issuer, cfg.audience, leeway, cfg.now),
		tokens:     newCache[tokenEntry](),
		sessions:   newCache[User](),
		origin:     http.NewCrossOriginProtection(),
	}
	g.keys = &keySet{url: base + "/.well-known/jwks.json", client: cfg.client, verifier: g.verifier, log: cfg.log, now: cfg.now}
	refresh, err := g.keys.update(ctx)
	if err != nil {
		return nil, fmt.Errorf("guard: fetching the key set: %w", err)
	}
	if cfg.email != "" {
		g.feed = newFeed(base, cfg)
		if err := g.feed.start(ctx); err != nil {
			g.feed.logout()
			return nil, fmt.Errorf("guard: %w", err)
		}
	}
	bg, stop := context.WithCancel(context.Background())
	g.stop = stop
	g.wg.Go(func() { g.maintain(bg, refresh) })
	if g.feed != nil {
		g.wg.Go(func() { g.feed.run(bg) })
	}
	return g, nil
}

// Close stops the background work and, with a service account, signs it
// out. Requests are still checked after Close, with the last key set; with
// a service account, bearer tokens are then refused with 503 once the
// feed is older than WithFeedMaxStale.
func (g *Guard) Close() {
	g.stop()
	g.wg.Wait()
	if g.feed != nil {
		g.feed.logout()
	}
}

// Authenticate is middleware that lets a request through only when it is
// signed in, and gives next the user (see UserFrom). It refuses with
// RFC 9457 problem details of the same shape and codes as Gatehouse's:
//
//   - 401 unauthenticated without a credential or with a session cookie
//     Gatehouse refused;
//   - 401 invalid_token, with WWW-Authenticate: Bearer error="invalid_token",
//     for an access token that is invalid, expired, of a revoked login or
//     with stale roles (the client should refresh it), and for an
//     Authorization header that is not a bearer token;
//   - 403 cross_origin for a POST, PUT, PATCH or DELETE with the session
//     cookie from another origin (http.CrossOriginProtection's checks, as
//     the server makes them);
//   - 503 unavailable when Gatehouse cannot answer about a session, or,
//     with a service account, when the revocation feed has been down for
//     longer than WithFeedMaxStale. It fails closed: never 200.
//
// An Authorization header takes precedence over the cookie. CORS handling,
// if any, belongs in front of the Guard: a preflight request carries no
// credential.
func (g *Guard) Authenticate(next http.Handler) http.Handler {
	return g.Require()(next)
}

// Require returns middleware that does what Authenticate does and then
// refuses with 403 forbidden a user who lacks any of the permissions.
func (g *Guard) Require(permissions ...string) func(http.Handler) http.Handler {
	permissions = slices.Clone(permissions)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, refusal := g.check(r)
			if refusal != nil {
				refusal.write(w)
				return
			}
			for _, p := range permissions {
				if !u.Can(p) {
					newError(http.StatusForbidden, "forbidden", "missing permission "+p).write(w)
					return
				}
			}
			next.ServeHTTP(w, withUser(r, u))
		})
	}
}

// RequireAAL returns middleware that does what Authenticate does and then
// refuses a login below the assurance level aal (2: two factors) with 401
// insufficient_user_authentication and WWW-Authenticate: Bearer
// error="insufficient_user_authentication", acr_values="2", as Gatehouse
// does (RFC 9470): the client signs in again, or steps up, with two
// factors.
func (g *Guard) RequireAAL(aal int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, refusal := g.check(r)
			if refusal == nil && u.AAL < aal {
				refusal = insufficientAAL(aal)
			}
			if refusal != nil {
				refusal.write(w)
				return
			}
			next.ServeHTTP(w, withUser(r, u))
		})
	}
}

// Check checks the request's credential as Authenticate does, without
// answering the request: it returns the user, or an *Error that says how
// Authenticate would have refused. Use it for pages that serve guests and
// signed-in users alike.
func (g *Guard) Check(r *http.Request) (User, error) {
	u, refusal := g.check(r)
	if refusal != nil {
		e := *refusal // the caller's own copy of a shared value
		return User{}, &e
	}
	return *u, nil
}

// check finds the request's credential and checks it.
func (g *Guard) check(r *http.Request) (*User, *Error) {
	// The key is canonical already: indexing the map spares Header.Get's
	// canonicalization on every request.
	if h := r.Header["Authorization"]; len(h) > 0 && h[0] != "" {
		scheme, tok, _ := strings.Cut(h[0], " ")
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return nil, errBadHeader
		}
		return g.bearer(r.Context(), tok)
	}
	secret := g.cookieSecret(r)
	if secret == "" {
		return nil, errNoCredential
	}
	if err := g.origin.Check(r); err != nil {
		return nil, errCrossOrigin
	}
	return g.session(r.Context(), secret)
}

// bearer checks an access token: the signature and claims once, through
// the verified-token cache; the revocation feed on every request.
//
// The cache is keyed by the SHA-256 of the token's signature (what follows
// its last dot), and an entry holds the rest of the token, the signed
// part, which a hit must match in full. The two parts make up the token,
// so this is the whole token compared, at the cost of hashing some 90
// bytes of an EdDSA token's 600 rather than all of them. The cache holds
// no usable token (the signed part is no secret without its signature),
// and only a request that bears a cached token's signature reaches the
// comparison of signed parts. Another spelling of a token (an ES256
// signature (r, s) verifies as (r, n-s) too) is a miss, verified in full;
// the feed is checked by sid and sub either way.
func (g *Guard) bearer(ctx context.Context, tok string) (*User, *Error) {
	now := g.now()
	if g.feed != nil && g.feed.stale(now) {
		return nil, errFeedStale
	}
	if len(tok) > token.MaxTokenBytes {
		return nil, errInvalidToken
	}
	dot := strings.LastIndexByte(tok, '.')
	signed, sig := tok[:dot+1], tok[dot+1:] // tok == signed+sig, even without a dot
	key := gatehouse.SHA256(sig)
	e, ok := g.tokens.get(key, now)
	if !ok || e.signed != signed {
		c, err := g.verify(ctx, tok)
		if err != nil {
			g.log.Debug("guard: access token refused", "err", err)
			return nil, errInvalidToken
		}
		e = &tokenEntry{
			user: User{
				ID: c.Subject, Email: c.Email, Roles: c.Roles, Permissions: strings.Fields(c.Scope),
				SessionID: c.SessionID, Mode: ModeToken, AAL: aalOf(c.ACR),
			},
			issued: c.IssuedAt,
			signed: strings.Clone(signed), // a copy, not to keep the whole header, signature included
		}
		g.tokens.put(key, e, c.ExpiresAt.Add(leeway))
	}
	if g.feed != nil {
		if refusal := g.feed.revs.check(e.user.SessionID, e.user.ID, e.issued); refusal != nil {
			return nil, refusal
		}
	}
	return &e.user, nil
}

// verify checks tok's signature and claims. A kid the key set lacks may
// be a key Gatehouse has just rotated to: the key set is fetched again,
// at most once per refetchEvery, and the token checked once more.
func (g *Guard) verify(ctx context.Context, tok string) (token.Claims, error) {
	gen := g.keys.gen.Load()
	c, err := g.verifier.Verify(tok)
	if errors.Is(err, token.ErrUnknownKey) && g.keys.refetch(ctx, gen) {
		c, err = g.verifier.Verify(tok)
	}
	return c, err
}

// maintain refreshes the key set when it is due and sweeps the caches,
// until ctx ends.
func (g *Guard) maintain(ctx context.Context, refresh time.Duration) {
	keys := time.NewTimer(refresh)
	defer keys.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keys.C:
			d, err := g.keys.update(ctx)
			if err != nil {
				g.log.Warn("guard: refreshing the key set failed", "err", err)
				d = refetchEvery
			}
			keys.Reset(d)
		case <-sweep.C:
			now := g.now()
			g.tokens.sweep(now)
			g.sessions.sweep(now)
			if g.feed != nil {
				g.feed.revs.sweep(now)
			}
		}
	}
}
