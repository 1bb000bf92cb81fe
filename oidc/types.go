package oidc

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/token"
)

// client is a gatehouse.App as the library sees it.
type client struct {
	app      gatehouse.App
	loginURL string // the continue endpoint, "?id=" follows
	idTTL    time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.app.ID }
func (c *client) RedirectURIs() []string           { return c.app.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.app.PostLogoutURIs }

// ApplicationType is web for confidential apps and user agent for public
// ones, never native: the library lets a native app's loopback redirect
// URI differ in its port, and Gatehouse matches redirect URIs exactly.
func (c *client) ApplicationType() op.ApplicationType {
	if c.app.Public {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

// AuthMethod is none for a public app; for a confidential one, basic,
// which the library takes from the Authorization header and from the form
// alike (client_secret_basic and client_secret_post).
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.app.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string                                    { return c.loginURL + "?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType                          { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration                               { return c.idTTL }
func (c *client) ClockSkew() time.Duration                                     { return 0 }
func (c *client) IDTokenUserinfoClaimsAssertion() bool                         { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string     { return same }
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string { return same }

// DevMode only relaxes the library's scheme policy (an http redirect URI
// of a public app) after an exact match, and for web and user agent apps
// it adds no leniency to the match itself. The redirect URIs were vetted
// when the app was added (Service.AddApp), so the library need not.
func (c *client) DevMode() bool { return true }

// IsScopeAllowed keeps every scope in the request: the library would drop
// unknown ones silently, and the Service refuses them (invalid_scope).
func (c *client) IsScopeAllowed(string) bool { return true }

func same(scopes []string) []string { return scopes }

// authRequest is a gatehouse.AuthRequest as the library sees it, with the
// protocol's fields decoded. At the token endpoint it also carries the
// code presented (never stored) and, once exchanged, the login it made.
type authRequest struct {
	r    gatehouse.AuthRequest
	oa   oidc.AuthRequest
	code string
	// login is set by the code exchange (Storage.CreateAccessToken), for
	// the claims of the tokens that follow it in the same response.
	login *gatehouse.AppLogin
}

var _ op.AuthRequest = (*authRequest)(nil)

func newAuthRequest(r gatehouse.AuthRequest) (*authRequest, error) {
	a := &authRequest{r: r}
	if err := json.Unmarshal(r.Request, &a.oa); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *authRequest) GetID() string { return a.r.ID }
func (a *authRequest) GetACR() string {
	if !a.r.Done() {
		return ""
	}
	return strconv.Itoa(max(a.r.AAL, gatehouse.AAL1))
}
func (a *authRequest) GetAMR() []string                   { return a.r.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.r.AppID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.r.AuthTime }
func (a *authRequest) GetClientID() string                { return a.r.AppID }
func (a *authRequest) GetNonce() string                   { return a.oa.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.oa.State }
func (a *authRequest) GetSubject() string                 { return a.r.UserID }
func (a *authRequest) Done() bool                         { return a.r.Done() }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.oa.ResponseMode }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.oa.CodeChallenge == "" {
		return nil
	}
	m := a.oa.CodeChallengeMethod
	if m == "" {
		m = oidc.CodeChallengeMethodPlain
	}
	return &oidc.CodeChallenge{Challenge: a.oa.CodeChallenge, Method: m}
}

// refreshRequest is an app's login at a refresh, as the library sees it.
type refreshRequest struct {
	login  gatehouse.AppLogin
	scopes []string
	// token is the refresh token presented, for the rotation.
	token string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (q *refreshRequest) GetAMR() []string            { return q.login.Login.AMR }
func (q *refreshRequest) GetAudience() []string       { return []string{q.login.Grant.AppID} }
func (q *refreshRequest) GetAuthTime() time.Time      { return q.login.Grant.AuthTime }
func (q *refreshRequest) GetClientID() string         { return q.login.Grant.AppID }
func (q *refreshRequest) GetScopes() []string         { return q.scopes }
func (q *refreshRequest) GetSubject() string          { return q.login.User.ID }
func (q *refreshRequest) SetCurrentScopes(s []string) { q.scopes = s }

// signingKey is the Service's active token signing key.
type signingKey struct{ k token.Key }

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(s.k.Alg)
}
func (s signingKey) Key() any   { return s.k.Private }
func (s signingKey) ID() string { return s.k.ID }

// publicKey is the public half of a live signing key.
type publicKey struct{ k token.Key }

func (p publicKey) ID() string                         { return p.k.ID }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(p.k.Alg) }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Public() }

// codes is the library's Crypto: it makes authorization codes, which are
// 256 random bits (the library would otherwise encrypt the request id),
// and it decrypts nothing: Gatehouse issues no opaque access tokens, so
// the library's opaque-token paths find none.
type codes struct{}

func (codes) Encrypt(string) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

var errNotOpaque = errors.New("not an opaque token of this server")

func (codes) Decrypt(string) (string, error) { return "", errNotOpaque }

// tokenID is the jti of an app's access token: its login's id, a dot,
// and random bits, so that userinfo and revocation find the login.
func tokenID(loginID string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return loginID + "." + base64.RawURLEncoding.EncodeToString(b)
}

// loginOfTokenID is the login id of a tokenID, "" when it is not one.
func loginOfTokenID(id string) string {
	i := len(id) - 17 // "." and 16 characters of random bits
	if i < 1 || id[i] != '.' {
		return ""
	}
	return id[:i]
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
