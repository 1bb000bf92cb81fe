package gatehouse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// App is an OpenID Connect client: another app whose users sign in with
// Gatehouse. The contract, its JSON and its command line call it a
// client; in Go it is an App, because Client is a request's client.
type App struct {
	// ID is the client_id: random, URL-safe and public.
	ID   string
	Name string
	// SecretHash is the SHA-256 of the client secret; nil for a public
	// app, which has none. The secret itself is shown once, by AddApp.
	SecretHash []byte
	// RedirectURIs are the registered redirect URIs, compared exactly;
	// PostLogoutURIs those where a logout may send the browser.
	RedirectURIs   []string
	PostLogoutURIs []string
	// Public apps (native apps, single-page apps) cannot keep a secret;
	// Trusted apps skip the consent page.
	Public, Trusted bool
	CreatedAt       time.Time
}

// AppSpec is an app as an administrator asks for it (see AddApp for its
// rules).
type AppSpec struct {
	Name                         string
	RedirectURIs, PostLogoutURIs []string
	Public, Trusted              bool
}

// Consent is a user's remembered consent to an app: the scopes it may
// have without asking again.
type Consent struct {
	UserID, AppID string
	Scopes        []string
	GrantedAt     time.Time
}

// AppAccess is one of the apps a user has given access to, as their
// account page lists them ("Apps with access").
type AppAccess struct {
	App       App
	Scopes    []string
	GrantedAt time.Time
}

// CodeInvalidClient refuses an app that does not authenticate: an
// unknown client id, a wrong or missing secret, or a secret given for a
// public app. It is OAuth 2.0's code of the same name.
const CodeInvalidClient Code = "invalid_client"

// Limits of an app's registration.
const (
	maxAppName   = 100 // characters
	maxAppURIs   = 20  // of each kind
	maxAppURILen = 2000
	maxScopes    = 50
	maxScopeLen  = 200
	// appIDBytes is the randomness of a client id: enough that ids are
	// never guessed or repeated, though they are not secrets.
	appIDBytes = 16
)

// AddApp validates spec and adds the app. It returns the app and, for a
// confidential app, its secret: 256 random bits, base64url, shown this
// once and stored only as its SHA-256 ("" for a public app).
//
// The name is plain text of 1 to 100 characters. An app has at least one
// redirect URI. Redirect and post-logout URIs are absolute, without a
// fragment or user info, and use https, or http on a loopback host
// (127.0.0.1, [::1], localhost) for apps on the user's own machine; a
// public app (a native one) may also use a private scheme such as
// com.example.app:/callback. Duplicates are dropped. Any refusal is
// CodeInvalidRequest and names what is wrong.
func (s *Service) AddApp(ctx context.Context, spec AppSpec, c Client) (App, string, error) {
	a, err := checkAppSpec(spec)
	if err != nil {
		return App{}, "", err
	}
	a.ID, a.CreatedAt = newAppID(), s.now()
	var secret string
	if !a.Public {
		var hash [32]byte
		secret, hash = newSecret()
		a.SecretHash = hash[:]
	}
	ev := AuditEvent{At: a.CreatedAt, Type: EventClientCreated, IP: c.IP, Detail: c.by("client=" + a.ID)}
	if err := s.store.CreateApp(ctx, a, ev); err != nil {
		return App{}, "", err
	}
	return a, secret, nil
}

// checkAppSpec returns the app spec describes, or why it cannot be.
func checkAppSpec(spec AppSpec) (App, error) {
	name := strings.TrimSpace(spec.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > maxAppName {
		return App{}, Errorf(CodeInvalidRequest, fmt.Sprintf("name must have 1 to %d characters", maxAppName))
	}
	if err := CheckText("name", name, 4*maxAppName); err != nil {
		return App{}, err
	}
	redirect, err := checkAppURIs("redirect_uris", spec.RedirectURIs, spec.Public)
	if err != nil {
		return App{}, err
	}
	if len(redirect) == 0 {
		return App{}, Errorf(CodeInvalidRequest, "redirect_uris must have at least one URI")
	}
	logout, err := checkAppURIs("post_logout_redirect_uris", spec.PostLogoutURIs, spec.Public)
	if err != nil {
		return App{}, err
	}
	return App{Name: name, RedirectURIs: redirect, PostLogoutURIs: logout, Public: spec.Public, Trusted: spec.Trusted}, nil
}

// checkAppURIs checks each URI of a list (field names it) and returns the
// list without duplicates, in the order given.
func checkAppURIs(field string, uris []string, public bool) ([]string, error) {
	if len(uris) > maxAppURIs {
		return nil, Errorf(CodeInvalidRequest, fmt.Sprintf("%s may have at most %d URIs", field, maxAppURIs))
	}
	var out []string
	for _, u := range uris {
		if err := checkAppURI(u, public); err != nil {
			return nil, Errorf(CodeInvalidRequest, fmt.Sprintf("%s: %q %s", field, truncate(SafeText(u), 100), err.Error()))
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// checkAppURI is the rule of one redirect or post-logout URI; its error
// says what is wrong, to follow the URI in a message.
func checkAppURI(raw string, public bool) error {
	if len(raw) > maxAppURILen {
		return fmt.Errorf("is longer than %d bytes", maxAppURILen)
	}
	if CheckText("uri", raw, maxAppURILen) != nil || strings.ContainsAny(raw, " \t") {
		return fmt.Errorf("has spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a URI")
	}
	switch {
	case u.Scheme == "":
		return fmt.Errorf("is not absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("has a fragment")
	case u.User != nil:
		return fmt.Errorf("has user info")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("has no host")
		}
		return nil
	case "http":
		if !loopbackHost(u.Hostname()) {
			return fmt.Errorf("uses http on a host that is not loopback (127.0.0.1, [::1], localhost): use https")
		}
		return nil
	}
	// A private scheme, for a native app: RFC 8252 asks for a reverse
	// domain name (com.example.app), which keeps it apart from the
	// schemes browsers know (javascript:, data:, file:, ...).
	if !public {
		return fmt.Errorf("uses a custom scheme, which only public (native) apps may")
	}
	if !strings.Contains(u.Scheme, ".") {
		return fmt.Errorf("uses a custom scheme that is not a reverse domain name (such as com.example.app)")
	}
	return nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

// newAppID returns a random client id. It never begins with "-", which a
// command line (gatehouse clients remove ID, an app's own flags) would
// read as a flag: one id in 64 would.
func newAppID() string {
	b := make([]byte, appIDBytes)
	for {
		rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

// Apps returns every app, oldest first.
func (s *Service) Apps(ctx context.Context) ([]App, error) { return s.store.ListApps(ctx) }

// App returns one app, or CodeNotFound.
func (s *Service) App(ctx context.Context, id string) (App, error) {
	if !possibleID(id) {
		return App{}, Errorf(CodeNotFound, "no such client")
	}
	return s.store.AppByID(ctx, id)
}

// RemoveApp removes an app (CodeNotFound when there is none) with the
// consents given to it, and ends every login of it at once, through the
// revocation feed like any revocation: its refresh tokens stop working.
func (s *Service) RemoveApp(ctx context.Context, id string, c Client) error {
	if !possibleID(id) {
		return Errorf(CodeNotFound, "no such client")
	}
	now := s.now()
	ids, err := s.store.DeleteApp(ctx, id, AuditEvent{At: now, Type: EventClientRemoved, IP: c.IP, Detail: c.by("client=" + id)})
	if err != nil {
		return err
	}
	s.revoked(ctx, now, ids)
	return nil
}

// AuthenticateApp returns the app with that client id if secret is its
// secret; a public app authenticates with no secret. Anything else, an
// unknown id, a wrong or missing secret, a secret for a public app, is
// CodeInvalidClient, which does not say which. The secret is compared in
// constant time, and an unknown id costs the same comparison.
func (s *Service) AuthenticateApp(ctx context.Context, id, secret string) (App, error) {
	refused := Errorf(CodeInvalidClient, "client authentication failed")
	a, err := s.App(ctx, id)
	switch {
	case ErrorCode(err) == CodeNotFound:
		a = App{SecretHash: make([]byte, sha256.Size)} // compare anyway
	case err != nil:
		return App{}, err
	}
	if a.Public {
		if secret != "" {
			return App{}, refused
		}
		return a, nil
	}
	h := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(h[:], a.SecretHash) != 1 || secret == "" || a.ID == "" {
		return App{}, refused
	}
	return a, nil
}

// Consented reports whether the user's remembered consent to the app
// covers every scope asked. With no consent it is false, not an error.
func (s *Service) Consented(ctx context.Context, userID, appID string, scopes []string) (bool, error) {
	if !possibleID(userID) || !possibleID(appID) {
		return false, nil
	}
	c, err := s.store.ConsentOf(ctx, userID, appID)
	if ErrorCode(err) == CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			return false, nil
		}
	}
	return true, nil
}

// GrantConsent remembers that the principal consents to the app having
// scopes; it replaces a consent given before. The app must exist
// (CodeNotFound), and each scope must be an OAuth scope token
// (CodeInvalidRequest). Scopes are kept sorted, without duplicates.
func (s *Service) GrantConsent(ctx context.Context, p Principal, appID string, scopes []string, c Client) error {
	scopes, err := checkScopes(scopes)
	if err != nil {
		return err
	}
	if _, err := s.App(ctx, appID); err != nil {
		return err
	}
	now := s.now()
	detail := "client=" + appID
	if len(scopes) > 0 {
		detail += " scope=" + strings.Join(scopes, ",")
	}
	ev := AuditEvent{At: now, Type: EventConsentGranted, UserID: p.User.ID, IP: c.IP, Detail: c.by(detail)}
	return s.store.PutConsent(ctx, Consent{UserID: p.User.ID, AppID: appID, Scopes: scopes, GrantedAt: now}, ev)
}

// checkScopes returns scopes sorted and without duplicates, or
// CodeInvalidRequest when one is not a scope token (RFC 6749, 3.3).
func checkScopes(scopes []string) ([]string, error) {
	if len(scopes) > maxScopes {
		return nil, Errorf(CodeInvalidRequest, fmt.Sprintf("at most %d scopes", maxScopes))
	}
	for _, sc := range scopes {
		if sc == "" || len(sc) > maxScopeLen || strings.IndexFunc(sc, func(r rune) bool {
			return r < 0x21 || r > 0x7e || r == '"' || r == '\\'
		}) >= 0 {
			return nil, Errorf(CodeInvalidRequest, "a scope is not a scope token")
		}
	}
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// AppsWithAccess returns the apps the user has consented to, with what
// they consented to, most recent consent first.
func (s *Service) AppsWithAccess(ctx context.Context, userID string) ([]AppAccess, error) {
	if !possibleID(userID) {
		return nil, nil
	}
	consents, err := s.store.ListConsents(ctx, userID)
	if err != nil || len(consents) == 0 {
		return nil, err
	}
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AppAccess, 0, len(consents))
	for _, c := range consents {
		i := slices.IndexFunc(apps, func(a App) bool { return a.ID == c.AppID })
		if i < 0 {
			continue // removed meanwhile; its consent went with it
		}
		out = append(out, AppAccess{App: apps[i], Scopes: c.Scopes, GrantedAt: c.GrantedAt})
	}
	return out, nil
}

// RevokeConsent forgets the principal's consent to the app and ends
// every login of the principal's through the app (so its refresh tokens
// stop working), through the revocation feed. With no consent it is
// CodeNotFound and nothing changes.
func (s *Service) RevokeConsent(ctx context.Context, p Principal, appID string, c Client) error {
	if !possibleID(appID) {
		return Errorf(CodeNotFound, "no consent to this client")
	}
	now := s.now()
	ev := AuditEvent{At: now, Type: EventConsentRevoked, UserID: p.User.ID, IP: c.IP, Detail: c.by("client=" + appID)}
	ids, err := s.store.DeleteConsent(ctx, p.User.ID, appID, ev)
	if err != nil {
		return err
	}
	s.revoked(ctx, now, ids)
	return nil
}
