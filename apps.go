package gatehouse

import (
	"context"
	"time"
)

// App is an OpenID Connect client (a "client" in the contract's JSON and
// CLI; the root package's Client is a request's client info).
type App struct {
	ID   string // client_id: random, URL-safe, public
	Name string
	// SecretHash is the SHA-256 of the client secret; nil for a public app.
	SecretHash     []byte
	RedirectURIs   []string
	PostLogoutURIs []string
	// Public apps (native, single-page) have no secret; Trusted apps are
	// never asked for consent.
	Public, Trusted bool
	CreatedAt       time.Time
}

// AppSpec is what an administrator asks for when adding an app.
type AppSpec struct {
	Name                         string
	RedirectURIs, PostLogoutURIs []string
	Public, Trusted              bool
}

// Consent is a user's remembered grant of scopes to an app.
type Consent struct {
	UserID, AppID string
	Scopes        []string
	GrantedAt     time.Time
}

// AppAccess is one line of a user's "Apps with access".
type AppAccess struct {
	App       App
	Scopes    []string
	GrantedAt time.Time
}

// CodeInvalidClient refuses an app that does not authenticate.
const CodeInvalidClient Code = "invalid_client"

var errNotImplemented = Errorf(CodeUnavailable, "not implemented")

// AddApp validates spec and adds the app. It returns the app and its
// secret, shown this once ("" for a public app).
func (s *Service) AddApp(ctx context.Context, spec AppSpec, c Client) (App, string, error) {
	return App{}, "", errNotImplemented
}

// Apps returns every app.
func (s *Service) Apps(ctx context.Context) ([]App, error) { return nil, errNotImplemented }

// App returns one app or CodeNotFound.
func (s *Service) App(ctx context.Context, id string) (App, error) { return App{}, errNotImplemented }

// RemoveApp removes the app, its consents, and ends every login of it.
func (s *Service) RemoveApp(ctx context.Context, id string, c Client) error {
	return errNotImplemented
}

// AuthenticateApp checks an app's credentials in constant time.
func (s *Service) AuthenticateApp(ctx context.Context, id, secret string) (App, error) {
	return App{}, errNotImplemented
}

// Consented reports whether a remembered consent covers every scope asked.
func (s *Service) Consented(ctx context.Context, userID, appID string, scopes []string) (bool, error) {
	return false, errNotImplemented
}

// GrantConsent remembers (replaces) the user's consent to the app.
func (s *Service) GrantConsent(ctx context.Context, p Principal, appID string, scopes []string, c Client) error {
	return errNotImplemented
}

// AppsWithAccess returns the apps the user consented to.
func (s *Service) AppsWithAccess(ctx context.Context, userID string) ([]AppAccess, error) {
	return nil, errNotImplemented
}

// RevokeConsent forgets the consent and revokes the user's logins of the app.
func (s *Service) RevokeConsent(ctx context.Context, p Principal, appID string, c Client) error {
	return errNotImplemented
}
