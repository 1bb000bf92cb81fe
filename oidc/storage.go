package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse"
)

// storage is the library's op.Storage over the Service: it translates,
// and every rule it relies on is the Service's.
type storage struct {
	svc       *gatehouse.Service
	log       *slog.Logger
	loginURL  string
	accessTTL time.Duration
	alg       string
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

type ctxKey int

const (
	clientKey  ctxKey = iota // gatehouse.Client of the request
	callerKey                // the client id a token request names
	browserKey               // *browser, at the logout endpoint
)

// clientOf is where the request came from, as the JSON API counts it.
func clientOf(ctx context.Context) gatehouse.Client {
	c, _ := ctx.Value(clientKey).(gatehouse.Client)
	return c
}

// callerOf is the client id that a token request authenticated as (the
// library authenticates it before it asks the storage anything).
func callerOf(ctx context.Context) string {
	id, _ := ctx.Value(callerKey).(string)
	return id
}

// browser is the browser's Gatehouse login at the logout endpoint.
type browser struct {
	p     *gatehouse.Principal
	clear func() // forgets the session cookie
}

// oauthError translates a Service error into the OAuth error the
// protocol names; anything that is not a refusal is a server_error, with
// its cause kept for the log only.
func (s *storage) oauthError(err error) error {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) {
		return oidc.ErrServerError().WithParent(err)
	}
	switch ge.Code {
	case gatehouse.CodeInvalidGrant, gatehouse.CodeInvalidToken, gatehouse.CodeRefreshTokenReused:
		return oidc.ErrInvalidGrant().WithDescription("%s", ge.Detail)
	case gatehouse.CodeInvalidScope:
		return oidc.ErrInvalidScope().WithDescription("%s", ge.Detail)
	case gatehouse.CodeInvalidClient:
		return oidc.ErrInvalidClient().WithDescription("%s", ge.Detail)
	case gatehouse.CodeInvalidRequest, gatehouse.CodeNotFound:
		return oidc.ErrInvalidRequest().WithDescription("%s", ge.Detail)
	case gatehouse.CodeAccountDisabled:
		return oidc.ErrAccessDenied().WithDescription("%s", ge.Detail)
	default:
		return oidc.ErrServerError().WithParent(err)
	}
}

// CreateAuthRequest keeps the request through Service.StartAuthRequest.
// The library has matched the redirect URI exactly; only the query
// response mode is served, so that every answer is a redirect that
// carries iss (RFC 9207).
func (s *storage) CreateAuthRequest(ctx context.Context, oa *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if oa.ResponseMode != "" && oa.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("the only response_mode is query")
	}
	kept := *oa
	kept.IDTokenHint, kept.RequestParam = "", ""
	raw, err := json.Marshal(&kept)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	method := ""
	if oa.CodeChallenge != "" {
		method = string(oa.CodeChallengeMethod)
		if method == "" {
			method = string(oidc.CodeChallengeMethodPlain)
		}
	}
	r, err := s.svc.StartAuthRequest(ctx, gatehouse.NewAuthRequest{
		AppID: oa.ClientID, RedirectURI: oa.RedirectURI, Scopes: oa.Scopes,
		CodeChallengeMethod: method, Request: raw,
	})
	if err != nil {
		return nil, s.oauthError(err)
	}
	return &authRequest{r: r, oa: kept}, nil
}

// AuthRequestByID is the request the callback completes.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.svc.AuthRequest(ctx, id)
	if err != nil {
		return nil, s.oauthError(err)
	}
	return newAuthRequest(r)
}

// AuthRequestByCode is the request of a code (Service.AuthRequestByCode
// refuses a reused one and revokes what it issued).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.svc.AuthRequestByCode(ctx, code, clientOf(ctx))
	if err != nil {
		return nil, s.oauthError(err)
	}
	a, err := newAuthRequest(r)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	a.code = code
	return a, nil
}

// SaveAuthCode keeps the code's hash (Service.IssueAuthCode).
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	if err := s.svc.IssueAuthCode(ctx, id, code); err != nil {
		return s.oauthError(err)
	}
	return nil
}

// DeleteAuthRequest does nothing: the request is kept until it expires,
// so that a second use of its code is recognised (and revokes what the
// first issued) rather than found unknown.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// exchange makes the login of a code, once per token response.
func (s *storage) exchange(ctx context.Context, a *authRequest) (*gatehouse.AppLogin, error) {
	if a.login != nil {
		return a.login, nil
	}
	if a.code == "" {
		return nil, oidc.ErrInvalidGrant()
	}
	l, err := s.svc.ExchangeAuthCode(ctx, callerOf(ctx), a.code, clientOf(ctx))
	if err != nil {
		return nil, s.oauthError(err)
	}
	a.login = &l
	return a.login, nil
}

// CreateAccessToken exchanges the code of a request without
// offline_access: the login lives as long as its access token.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	l, err := s.exchange(ctx, a)
	if err != nil {
		return "", time.Time{}, err
	}
	return tokenID(l.Login.ID), s.svc.Now().Add(s.accessTTL), nil
}

// CreateAccessAndRefreshTokens exchanges a code with offline_access, or
// rotates a refresh token (Service.RefreshAppLogin).
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	exp := s.svc.Now().Add(s.accessTTL)
	switch q := req.(type) {
	case *authRequest:
		l, err := s.exchange(ctx, q)
		if err != nil {
			return "", "", time.Time{}, err
		}
		if l.RefreshToken == "" {
			return "", "", time.Time{}, oidc.ErrServerError().WithDescription("no refresh token was issued")
		}
		return tokenID(l.Login.ID), l.RefreshToken, exp, nil
	case *refreshRequest:
		l, err := s.svc.RefreshAppLogin(ctx, callerOf(ctx), current, clientOf(ctx))
		if err != nil {
			return "", "", time.Time{}, s.oauthError(err)
		}
		q.login = l
		return tokenID(l.Login.ID), l.RefreshToken, exp, nil
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
}

// TokenRequestByRefreshToken finds the login of a refresh token without
// spending it; the rotation is CreateAccessAndRefreshTokens'.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, refresh string) (op.RefreshTokenRequest, error) {
	l, err := s.svc.AppRefreshToken(ctx, callerOf(ctx), refresh)
	if err != nil {
		return nil, s.oauthError(err)
	}
	return &refreshRequest{login: l, scopes: l.Grant.Scopes, token: refresh}, nil
}

// TerminateSession is not called: see TerminateSessionFromRequest.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest is RP-initiated logout. With a valid
// id_token_hint (expired is fine), it ends the app's login the token
// names (its sid) and the browser's Gatehouse session when it is the same
// user's; the browser then goes to the registered post_logout_redirect_uri
// the library checked, or to the sign-in page. Without a hint it ends
// nothing: a logout anyone's page could trigger is not one.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	claims := req.IDTokenHintClaims
	if claims == nil {
		return req.RedirectURI, nil
	}
	c := clientOf(ctx)
	sid, _ := claims.Claims["sid"].(string)
	if sid == "" {
		sid = claims.SessionID
	}
	if err := s.svc.EndAppLogin(ctx, claims.GetAuthorizedParty(), claims.Subject, sid, c); err != nil {
		return "", s.oauthError(err)
	}
	if b, _ := ctx.Value(browserKey).(*browser); b != nil && b.p != nil && b.p.User.ID == claims.Subject {
		if err := s.svc.Logout(ctx, *b.p, c); err != nil {
			return "", s.oauthError(err)
		}
		b.clear()
	}
	return req.RedirectURI, nil
}

// refreshPrefix marks, between GetRefreshTokenInfo and RevokeToken, a
// token that is a refresh token.
const refreshPrefix = "refresh:"

// GetRefreshTokenInfo says whether a token being revoked is a refresh
// token; ErrInvalidRefreshToken sends the library on to access tokens.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, tok string) (string, string, error) {
	l, err := s.svc.AppRefreshToken(ctx, clientID, tok)
	if gatehouse.ErrorCode(err) == gatehouse.CodeInvalidGrant {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	return l.User.ID, refreshPrefix + tok, nil
}

// RevokeToken is RFC 7009: a refresh token, or an access token (whose
// login the library found by its jti), ends its login.
func (s *storage) RevokeToken(ctx context.Context, tok, userID, clientID string) *oidc.Error {
	var err error
	switch {
	case strings.HasPrefix(tok, refreshPrefix):
		err = s.svc.RevokeAppLogin(ctx, clientID, strings.TrimPrefix(tok, refreshPrefix), "", clientOf(ctx))
	case userID != "":
		if id := loginOfTokenID(tok); id != "" {
			err = s.svc.RevokeAppLogin(ctx, clientID, "", id, clientOf(ctx))
		}
	default:
		// An expired or unknown token: RFC 7009 answers 200 all the same.
		err = s.svc.RevokeAppLogin(ctx, clientID, tok, "", clientOf(ctx))
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// SigningKey is the Service's active signing key, from memory.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	keys := s.svc.SigningKeys()
	if len(keys) == 0 {
		return nil, oidc.ErrServerError().WithDescription("no signing key is loaded")
	}
	return signingKey{keys[0]}, nil
}

// SignatureAlgorithms is the one algorithm of the deployment (--token-alg).
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(s.alg)}, nil
}

// KeySet is the live keys, the JWKS of /.well-known/jwks.json, from
// memory; the library checks id_token_hint and access tokens with it.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	keys := s.svc.SigningKeys()
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

// GetClientByClientID is the app with that id; an unknown one is
// invalid_client.
func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	app, err := s.svc.App(ctx, id)
	if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound || gatehouse.ErrorCode(err) == gatehouse.CodeInvalidRequest {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &client{app: app, loginURL: s.loginURL, idTTL: s.accessTTL}, nil
}

// AuthorizeClientIDSecret checks a confidential app's secret
// (Service.AuthenticateApp).
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.svc.AuthenticateApp(ctx, id, secret)
	switch gatehouse.ErrorCode(err) {
	case "":
		return nil
	case gatehouse.CodeUnavailable:
		return oidc.ErrServerError().WithParent(err)
	default:
		return oidc.ErrInvalidClient().WithDescription("invalid client_id or client_secret")
	}
}

// SetUserinfoFromScopes is the library's deprecated hook: see
// SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest writes an ID token's claims: the user's for the
// scopes granted, and sid, the app's login (and acr after a refresh,
// which the library takes only from an authorization request).
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	switch q := req.(type) {
	case *authRequest:
		if q.login == nil {
			return oidc.ErrServerError().WithDescription("an ID token without a login")
		}
		setUserinfo(info, q.login.User, scopes)
		info.AppendClaims("sid", q.login.Login.ID)
	case *refreshRequest:
		setUserinfo(info, q.login.User, scopes)
		info.AppendClaims("sid", q.login.Login.ID)
		info.AppendClaims("acr", strconv.Itoa(max(q.login.Login.AAL, gatehouse.AAL1)))
	default:
		return oidc.ErrServerError().WithDescription("an ID token for an unknown request")
	}
	return nil
}

// SetUserinfoFromToken answers /oauth2/userinfo: the login the access
// token names must still be live and its user enabled
// (Service.AppTokenLogin).
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	u, g, err := s.svc.AppTokenLogin(ctx, loginOfTokenID(tokenID), subject)
	if gatehouse.ErrorCode(err) == gatehouse.CodeInvalidToken {
		return &oidc.Error{ErrorType: "invalid_token", Description: "the access token's login has ended"}
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	setUserinfo(info, u, g.Scopes)
	return nil
}

// setUserinfo writes the user's claims for the scopes: email
// (email, email_verified), profile (preferred_username, the email; name,
// its local part) and roles.
func setUserinfo(info *oidc.UserInfo, u gatehouse.User, scopes []string) {
	info.Subject = u.ID
	if slices.Contains(scopes, gatehouse.ScopeEmail) {
		info.Email, info.EmailVerified = u.Email, oidc.Bool(u.EmailVerified)
		if !u.EmailVerified {
			info.AppendClaims("email_verified", false) // the field omits false
		}
	}
	if slices.Contains(scopes, gatehouse.ScopeProfile) {
		local, _, _ := strings.Cut(u.Email, "@")
		info.PreferredUsername, info.Name = u.Email, local
	}
	if slices.Contains(scopes, gatehouse.ScopeRoles) {
		roles := slices.Sorted(slices.Values(u.Roles))
		if roles == nil {
			roles = []string{}
		}
		info.AppendClaims("roles", roles)
	}
}

// GetPrivateClaimsFromRequest adds an access token's own claims: sid (the
// login), and the scopes granted.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	switch q := req.(type) {
	case *authRequest:
		if q.login == nil {
			return nil, oidc.ErrServerError().WithDescription("an access token without a login")
		}
		return map[string]any{"sid": q.login.Login.ID, "scope": strings.Join(q.login.Grant.Scopes, " ")}, nil
	case *refreshRequest:
		return map[string]any{"sid": q.login.Login.ID, "scope": strings.Join(q.scopes, " ")}, nil
	default:
		return nil, oidc.ErrServerError().WithDescription("an access token for an unknown request")
	}
}

// The library's other grants and introspection are not served.

var errNotServed = oidc.ErrUnsupportedGrantType()

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotServed
}
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotServed
}
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNotServed
}

// Health is the library's readiness probe, not served (/readyz is).
func (s *storage) Health(context.Context) error { return nil }
