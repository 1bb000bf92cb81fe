package guard

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Guard; pass options to New.
type Option func(*config)

type config struct {
	issuer     string
	audience   string
	client     *http.Client
	sessionTTL time.Duration
	cookie     string
	email      string
	password   string
	maxStale   time.Duration
	log        *slog.Logger
	now        func() time.Time
}

// WithIssuer sets the "iss" that access tokens must carry: what
// `gatehouse serve --issuer` was given. The default is the base URL passed
// to New without a trailing slash, which is also the server's default
// when the guard reaches it at the address it listens on.
func WithIssuer(issuer string) Option {
	return func(c *config) { c.issuer = issuer }
}

// WithAudience sets the "aud" that access tokens must contain:
// `gatehouse serve --audience`, "gatehouse" by default.
func WithAudience(audience string) Option {
	return func(c *config) { c.audience = audience }
}

// WithHTTPClient sets the client for every call to Gatehouse. Each call but
// the revocation stream is bounded to 5 seconds whatever the client says;
// the stream ignores the client's Timeout, as it stays open. The default
// client follows no redirects, so a session cookie is only ever sent to the
// base URL.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) { c.client = client }
}

// WithSessionCache sets how long the answer of Gatehouse about a session
// cookie is trusted, 5 seconds by default. This is how late a revoked
// session can still be let in (plus the server's own cache, about a
// second, for a revocation made by another process). Refusals are cached
// for as long: a cookie Gatehouse refused can never become valid again.
// Zero or less asks Gatehouse on every request.
func WithSessionCache(d time.Duration) Option {
	return func(c *config) { c.sessionTTL = max(d, 0) }
}

// WithCookieName sets the name of Gatehouse's session cookie, which must
// be the one the server sets: "__Host-gatehouse" (the default),
// "__Secure-gatehouse" when the server runs with --cookie-domain, or
// "gatehouse" with --dev. Only this one name is read: a __Host- cookie can
// come only from the host itself, whereas accepting __Secure-gatehouse as
// well would let any subdomain sign the browser into another account.
func WithCookieName(name string) Option {
	return func(c *config) { c.cookie = name }
}

// WithServiceAccount makes the Guard follow Gatehouse's revocation feed,
// signed in as a user with the permission "revocations:read" (the built-in
// role "service" grants it). A revoked login's tokens are then refused
// within about a second, and a token issued before a change of its user's
// roles is refused so that the client refreshes it. Without a service
// account, an access token is refused only when it expires, up to
// `--access-ttl` (10 minutes by default) after its login was revoked.
func WithServiceAccount(email, password string) Option {
	return func(c *config) { c.email, c.password = email, password }
}

// WithFeedMaxStale sets how long the revocation feed may be disconnected
// before bearer requests are refused with 503 (fail closed), 30 seconds by
// default: a revocation made meanwhile would not be seen. Zero or less
// keeps the default. It matters only with WithServiceAccount.
func WithFeedMaxStale(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxStale = d
		}
	}
}

// WithClock sets the clock the Guard reads, time.Now by default (nil
// keeps it). It is what the Guard judges time by: access tokens' exp, nbf
// and iat, the deadlines of its caches, how long the revocation feed has
// been down, when the service account's token is due for renewal and
// when the key set may be fetched again for an unknown kid. Tests use it
// to move time forward without sleeping, the Gatehouse server they run
// given the same clock (gatehouse.Config.Now). Waits that are no reading
// of the clock (the key set's refresh period, reconnection backoff, the
// feed's idle timeout, the timeout of each call) stay in real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLogger sets where the Guard logs what goes wrong in the background
// (the key set or the feed cannot be reached) and, at debug level, why a
// credential was refused. The default discards everything. Nothing secret
// is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}
