package gatehouse

import (
	"context"
	"crypto/subtle"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lifetimes of the OpenID Connect authorization code flow (RFC 9700:
// codes are short-lived and single use).
const (
	// AuthRequestTTL is how long an authorization request waits for the
	// person to sign in, step up and consent.
	AuthRequestTTL = 10 * time.Minute
	// AuthCodeTTL is how long an authorization code may be exchanged.
	AuthCodeTTL = 60 * time.Second
)

// The scopes an app may ask for; any other is CodeInvalidScope.
const (
	ScopeOpenID        = "openid"
	ScopeEmail         = "email"
	ScopeProfile       = "profile"
	ScopeRoles         = "roles"
	ScopeOfflineAccess = "offline_access"
)

// AppScopes lists the scopes an app may ask for.
var AppScopes = []string{ScopeOpenID, ScopeEmail, ScopeProfile, ScopeRoles, ScopeOfflineAccess}

// OAuth 2.0 errors of the provider face that have no other code.
const (
	// CodeInvalidGrant refuses an authorization code or a refresh token
	// that is unknown, expired, spent, or another app's.
	CodeInvalidGrant Code = "invalid_grant"
	// CodeInvalidScope refuses a scope Gatehouse does not offer.
	CodeInvalidScope Code = "invalid_scope"
)

// EventCodeReused is the audit event of an authorization code presented a
// second time: the login its first use issued is revoked.
const EventCodeReused = "oidc.code_reused"

// AuthRequest is an OpenID Connect authorization request, from the app's
// redirect to /oauth2/authorize until its code is exchanged. It is kept in
// the store so that every server of a deployment can answer each step.
type AuthRequest struct {
	// ID is random and appears in the browser's URLs (the continue and
	// consent pages); it is not a credential: only the signed-in browser
	// can complete the request, and only the app can exchange its code.
	ID          string
	AppID       string
	RedirectURI string
	Scopes      []string
	// Request is the protocol's request as package oidc encodes it; the
	// service and the store keep it as it is.
	Request []byte
	// UserID, AuthTime, AAL and AMR are set when the signed-in browser
	// completes the request: who, when they signed in, and how.
	UserID   string
	AuthTime time.Time
	AAL      int
	AMR      []string
	// IP and UserAgent are the browser's that completed the request; the
	// app's login shows them.
	IP, UserAgent string
	// CodeHash is the SHA-256 of the authorization code, once issued;
	// CodeExpiresAt its end, CodeUsedAt its exchange (zero until then),
	// and LoginID the login the exchange made.
	CodeHash      []byte
	CodeExpiresAt time.Time
	CodeUsedAt    time.Time
	LoginID       string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Done reports whether a signed-in person completed the request.
func (r AuthRequest) Done() bool { return r.UserID != "" }

// AppGrant is what an app's login was granted: kept beside the login (and
// gone with it) for its refreshes.
type AppGrant struct {
	LoginID string
	AppID   string
	Scopes  []string
	// AuthTime is when the person signed in, for the auth_time of the ID
	// tokens that refreshes issue.
	AuthTime time.Time
}

// AuthRequestStore keeps authorization requests and the grants of the
// logins their codes made. Expired requests go with
// DeleteExpiredAuthRequests.
type AuthRequestStore interface {
	// CreateAuthRequest stores r.
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// AuthRequest returns the request with that id, or CodeNotFound. It
	// does not check the expiry; the caller does.
	AuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// AuthRequestByCode returns the request whose code has that hash,
	// exchanged or not, or CodeNotFound.
	AuthRequestByCode(ctx context.Context, codeHash []byte) (AuthRequest, error)
	// CompleteAuthRequest writes r's UserID, AuthTime, AAL, AMR, IP and
	// UserAgent, or, when r.CodeHash is set, its CodeHash and
	// CodeExpiresAt, to the request r.ID whose code is not yet issued;
	// CodeNotFound when there is none.
	CompleteAuthRequest(ctx context.Context, r AuthRequest) error
	// ExchangeAuthCode marks the code with that hash exchanged at
	// l.CreatedAt if it is not yet, records l.ID as the login it made,
	// and inserts the login l, its refresh token rt (if not nil) and its
	// grant g, and records ev, in one transaction. It reports false and
	// changes nothing when the code was exchanged already or is gone: of
	// concurrent exchanges of one code, one wins.
	ExchangeAuthCode(ctx context.Context, codeHash []byte, l Login, rt *RefreshToken, g AppGrant, ev AuditEvent) (bool, error)
	// AppGrant returns the grant of an app's login, or CodeNotFound (also
	// when the login was revoked).
	AppGrant(ctx context.Context, loginID string) (AppGrant, error)
	// DeleteExpiredAuthRequests removes the requests expired at now and
	// returns how many.
	DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int, error)
}

// NewAuthRequest is an authorization request as the app made it, already
// parsed by the protocol's library.
type NewAuthRequest struct {
	AppID       string
	RedirectURI string
	Scopes      []string
	// CodeChallengeMethod is the PKCE method: "S256", "plain", or "" when
	// the app sent no code challenge.
	CodeChallengeMethod string
	// Request is kept as it is (see AuthRequest.Request).
	Request []byte
}

// StartAuthRequest checks an authorization request and keeps it for
// AuthRequestTTL. The app must exist (CodeInvalidClient) and have
// registered the redirect URI exactly (CodeInvalidRequest: no leniency of
// case, trailing slash, port or query); the scopes must be among
// AppScopes and include openid (CodeInvalidScope); PKCE, when sent, must
// be S256, and a public app must send it (CodeInvalidRequest).
func (s *Service) StartAuthRequest(ctx context.Context, nr NewAuthRequest) (AuthRequest, error) {
	app, err := s.App(ctx, nr.AppID)
	if ErrorCode(err) == CodeNotFound {
		return AuthRequest{}, Errorf(CodeInvalidClient, "unknown client")
	}
	if err != nil {
		return AuthRequest{}, err
	}
	if !slices.Contains(app.RedirectURIs, nr.RedirectURI) {
		return AuthRequest{}, Errorf(CodeInvalidRequest, "the redirect_uri is not registered for this client")
	}
	var scopes []string
	for _, sc := range nr.Scopes {
		if !slices.Contains(AppScopes, sc) {
			return AuthRequest{}, Errorf(CodeInvalidScope, "unknown scope; this server offers "+strings.Join(AppScopes, " "))
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if !slices.Contains(scopes, ScopeOpenID) {
		return AuthRequest{}, Errorf(CodeInvalidScope, "the openid scope is required")
	}
	switch {
	case nr.CodeChallengeMethod == "" && app.Public:
		return AuthRequest{}, Errorf(CodeInvalidRequest, "a public client must use PKCE (code_challenge_method=S256)")
	case nr.CodeChallengeMethod != "" && nr.CodeChallengeMethod != "S256":
		return AuthRequest{}, Errorf(CodeInvalidRequest, "the only code_challenge_method is S256")
	}
	now := s.now()
	id, _ := newSecret()
	r := AuthRequest{
		ID: id, AppID: app.ID, RedirectURI: nr.RedirectURI, Scopes: scopes, Request: nr.Request,
		CreatedAt: now, ExpiresAt: now.Add(AuthRequestTTL),
	}
	if err := s.store.CreateAuthRequest(ctx, r); err != nil {
		return AuthRequest{}, err
	}
	return r, nil
}

// AuthRequest returns a live authorization request; an unknown or expired
// one is CodeNotFound.
func (s *Service) AuthRequest(ctx context.Context, id string) (AuthRequest, error) {
	if !validSecret(id) {
		return AuthRequest{}, Errorf(CodeNotFound, "no such authorization request")
	}
	r, err := s.store.AuthRequest(ctx, id)
	if err != nil {
		return AuthRequest{}, err
	}
	if !s.now().Before(r.ExpiresAt) {
		return AuthRequest{}, Errorf(CodeNotFound, "no such authorization request")
	}
	return r, nil
}

// Interaction is what an authorization request still needs from the
// person before it can be answered.
type Interaction int

// The interactions, in the order they are asked for.
const (
	InteractionNone    Interaction = iota
	InteractionLogin               // sign in (again)
	InteractionStepUp              // a second factor (acr 2)
	InteractionConsent             // the consent page
)

// Prompt is what an authorization request asks of the sign-in, as the
// protocol's library parsed it.
type Prompt struct {
	// Login (prompt=login) asks for a sign-in newer than the request.
	Login bool
	// Consent (prompt=consent) asks for consent even if remembered.
	Consent bool
	// MaxAge, when set, is how old the sign-in may be (max_age).
	MaxAge *time.Duration
	// AAL2 (acr_values containing "2") asks for a second factor.
	AAL2 bool
}

// ContinueAuthRequest decides what the authorization request id still
// needs from the browser whose login is p (nil when it has none) and, when
// it needs nothing, completes it with p's user, sign-in time and
// assurance. In order: no login, or a sign-in older than the request when
// prompt=login, or older than max_age, needs InteractionLogin; acr 2 asked
// of a login at AAL1 needs InteractionStepUp; an app that is not trusted
// needs InteractionConsent unless the user's remembered consent covers the
// scopes (and, with prompt=consent, was given after the request began).
func (s *Service) ContinueAuthRequest(ctx context.Context, id string, p *Principal, pr Prompt, c Client) (AuthRequest, Interaction, error) {
	r, err := s.AuthRequest(ctx, id)
	if err != nil {
		return AuthRequest{}, 0, err
	}
	if r.Done() {
		return r, InteractionNone, nil
	}
	now := s.now()
	switch {
	case p == nil,
		pr.Login && p.Login.CreatedAt.Before(r.CreatedAt),
		pr.MaxAge != nil && now.Sub(p.Login.CreatedAt) > *pr.MaxAge && p.Login.CreatedAt.Before(r.CreatedAt):
		return r, InteractionLogin, nil
	case p.User.Disabled:
		return r, 0, Errorf(CodeAccountDisabled, "this account is disabled")
	case pr.AAL2 && p.Login.AAL < AAL2:
		return r, InteractionStepUp, nil
	}
	app, err := s.App(ctx, r.AppID)
	if ErrorCode(err) == CodeNotFound {
		return r, 0, Errorf(CodeInvalidClient, "the client was removed")
	}
	if err != nil {
		return r, 0, err
	}
	if !app.Trusted {
		ok, err := s.consentedSince(ctx, p.User.ID, app.ID, r, pr.Consent)
		if err != nil {
			return r, 0, err
		}
		if !ok {
			return r, InteractionConsent, nil
		}
	}
	r.UserID, r.AuthTime, r.AAL, r.AMR = p.User.ID, p.Login.CreatedAt, max(p.Login.AAL, AAL1), p.Login.AMR
	r.IP, r.UserAgent = c.IP, c.storedUserAgent()
	if err := s.store.CompleteAuthRequest(ctx, r); err != nil {
		return AuthRequest{}, 0, err
	}
	return r, InteractionNone, nil
}

// consentedSince reports whether the user's remembered consent to the app
// covers the request's scopes; with fresh, only a consent given after the
// request began counts (prompt=consent).
func (s *Service) consentedSince(ctx context.Context, userID, appID string, r AuthRequest, fresh bool) (bool, error) {
	if !fresh {
		return s.Consented(ctx, userID, appID, r.Scopes)
	}
	access, err := s.AppsWithAccess(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, a := range access {
		if a.App.ID == appID && !a.GrantedAt.Before(r.CreatedAt) {
			return s.Consented(ctx, userID, appID, r.Scopes)
		}
	}
	return false, nil
}

// IssueAuthCode keeps the hash of code, the authorization code of the
// completed request id, for AuthCodeTTL. A request has one code: a second
// is CodeInvalidGrant.
func (s *Service) IssueAuthCode(ctx context.Context, id, code string) error {
	r, err := s.AuthRequest(ctx, id)
	if err != nil {
		return err
	}
	if !r.Done() || r.CodeHash != nil {
		return Errorf(CodeInvalidGrant, "this authorization request has no code to issue")
	}
	h := SHA256(code)
	r.CodeHash, r.CodeExpiresAt = h[:], s.now().Add(AuthCodeTTL)
	err = s.store.CompleteAuthRequest(ctx, r)
	if ErrorCode(err) == CodeNotFound {
		return Errorf(CodeInvalidGrant, "this authorization request has no code to issue")
	}
	return err
}

// AuthRequestByCode returns the request of an authorization code that
// may be exchanged. An unknown or expired code is CodeInvalidGrant; so is
// one already exchanged, and then the login its exchange made is revoked
// (RFC 6749 section 4.1.2, RFC 9700: a code seen twice was stolen), with
// the audit event oidc.code_reused.
func (s *Service) AuthRequestByCode(ctx context.Context, code string, c Client) (AuthRequest, error) {
	invalid := Errorf(CodeInvalidGrant, "the authorization code is invalid or expired")
	if !validSecret(code) {
		return AuthRequest{}, invalid
	}
	h := SHA256(code)
	r, err := s.store.AuthRequestByCode(ctx, h[:])
	if ErrorCode(err) == CodeNotFound {
		return AuthRequest{}, invalid
	}
	if err != nil {
		return AuthRequest{}, err
	}
	if !r.CodeUsedAt.IsZero() {
		return AuthRequest{}, s.codeReused(ctx, r, c)
	}
	if !s.now().Before(r.CodeExpiresAt) {
		return AuthRequest{}, invalid
	}
	return r, nil
}

// codeReused revokes the login a reused code made, records
// oidc.code_reused, and refuses the code.
func (s *Service) codeReused(ctx context.Context, r AuthRequest, c Client) error {
	refused := Errorf(CodeInvalidGrant, "this authorization code was already used; what it issued is revoked")
	ev := AuditEvent{Type: EventCodeReused, UserID: r.UserID, IP: c.IP, Detail: "client=" + r.AppID}
	if r.LoginID != "" {
		ev.Detail += " session=" + r.LoginID
		ids, err := s.revoke(ctx, Revocation{UserID: r.UserID, LoginID: r.LoginID, Reason: ReasonRevoked}, ev)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return refused // the revocation recorded ev
		}
	}
	s.audit(ctx, ev)
	return refused
}

// AppLogin is an app's login and what it may be told: the result of a
// code exchange or a refresh.
type AppLogin struct {
	User  User
	Login Login
	Grant AppGrant
	// RefreshToken is the new refresh token (with offline_access), shown
	// this once; "" otherwise.
	RefreshToken string
}

// ExchangeAuthCode exchanges the authorization code of the request r
// (from AuthRequestByCode) for a login of app appID: mode oidc, the app's
// name as device, the browser's address and the assurance of the sign-in
// that completed the request. With offline_access it has a refresh token
// and lives as long as a token login; without, as long as an access
// token. Another app's code, or a disabled user, is CodeInvalidGrant; a
// code exchanged meanwhile is judged as reused (see AuthRequestByCode).
func (s *Service) ExchangeAuthCode(ctx context.Context, appID, code string, c Client) (AppLogin, error) {
	t := s.tok
	if t == nil {
		return AppLogin{}, errTokensOff
	}
	r, err := s.AuthRequestByCode(ctx, code, c)
	if err != nil {
		return AppLogin{}, err
	}
	if subtle.ConstantTimeCompare([]byte(r.AppID), []byte(appID)) != 1 {
		return AppLogin{}, Errorf(CodeInvalidGrant, "the authorization code was issued to another client")
	}
	app, err := s.App(ctx, appID)
	if ErrorCode(err) == CodeNotFound {
		return AppLogin{}, Errorf(CodeInvalidClient, "unknown client")
	}
	if err != nil {
		return AppLogin{}, err
	}
	u, err := s.store.UserByID(ctx, r.UserID)
	if ErrorCode(err) == CodeNotFound || err == nil && u.Disabled {
		return AppLogin{}, Errorf(CodeInvalidGrant, "the account is disabled")
	}
	if err != nil {
		return AppLogin{}, err
	}
	now := s.now()
	l := Login{
		ID: newID(), UserID: u.ID, Mode: ModeOIDC, AppID: app.ID, Device: app.Name, IP: r.IP, UserAgent: r.UserAgent,
		CreatedAt: now, LastSeenAt: now, AAL: r.AAL, AMR: r.AMR,
	}
	g := AppGrant{LoginID: l.ID, AppID: app.ID, Scopes: r.Scopes, AuthTime: r.AuthTime}
	var rt *RefreshToken
	var refresh string
	if slices.Contains(r.Scopes, ScopeOfflineAccess) {
		l.ExpiresAt = now.Add(t.cfg.RefreshTTL)
		var hash [32]byte
		refresh, hash = newSecret()
		rt = &RefreshToken{Hash: hash[:], LoginID: l.ID, CreatedAt: now, ExpiresAt: l.ExpiresAt}
	} else {
		l.ExpiresAt = now.Add(t.cfg.AccessTTL)
	}
	ev := AuditEvent{At: now, Type: EventLoginSucceeded, UserID: u.ID, IP: r.IP,
		Detail: "mode=oidc client=" + app.ID + " aal=" + strconv.Itoa(l.AAL)}
	h := SHA256(code)
	won, err := s.store.ExchangeAuthCode(ctx, h[:], l, rt, g, ev)
	if err != nil {
		return AppLogin{}, err
	}
	if !won {
		// Another exchange of the code won the race: this one is a reuse.
		if r, err = s.store.AuthRequestByCode(ctx, h[:]); err != nil {
			if ErrorCode(err) == CodeNotFound {
				return AppLogin{}, Errorf(CodeInvalidGrant, "the authorization code is invalid or expired")
			}
			return AppLogin{}, err
		}
		return AppLogin{}, s.codeReused(ctx, r, c)
	}
	s.evictOldest(ctx, u.ID, c)
	return AppLogin{User: u, Login: l, Grant: g, RefreshToken: refresh}, nil
}

// AppRefreshToken returns the login of app appID that the refresh token
// belongs to, without spending it: for the protocol's checks before the
// refresh. An unknown or expired token, one of a revoked login, or
// another app's, is CodeInvalidGrant.
func (s *Service) AppRefreshToken(ctx context.Context, appID, refresh string) (AppLogin, error) {
	invalid := Errorf(CodeInvalidGrant, "the refresh token is invalid or expired")
	if s.tok == nil || !validSecret(refresh) {
		return AppLogin{}, invalid
	}
	h := SHA256(refresh)
	rt, l, u, err := s.store.RefreshToken(ctx, h[:])
	if ErrorCode(err) == CodeNotFound {
		return AppLogin{}, invalid
	}
	if err != nil {
		return AppLogin{}, err
	}
	now := s.now()
	if !now.Before(rt.ExpiresAt) || !l.Live(now) || u.Disabled || s.tok.isRevoked(l.ID) {
		return AppLogin{}, invalid
	}
	g, err := s.appGrant(ctx, l, appID)
	if err != nil {
		return AppLogin{}, err
	}
	l.AppID = g.AppID
	return AppLogin{User: u, Login: l, Grant: g}, nil
}

// appGrant returns the grant of an app's login l, CodeInvalidGrant when l
// is not a login of app appID.
func (s *Service) appGrant(ctx context.Context, l Login, appID string) (AppGrant, error) {
	if l.Mode != ModeOIDC {
		return AppGrant{}, Errorf(CodeInvalidGrant, "the refresh token is invalid or expired")
	}
	g, err := s.store.AppGrant(ctx, l.ID)
	if ErrorCode(err) == CodeNotFound {
		return AppGrant{}, Errorf(CodeInvalidGrant, "the refresh token is invalid or expired")
	}
	if err != nil {
		return AppGrant{}, err
	}
	if subtle.ConstantTimeCompare([]byte(g.AppID), []byte(appID)) != 1 {
		return AppGrant{}, Errorf(CodeInvalidGrant, "the refresh token was issued to another client")
	}
	return g, nil
}

// RefreshAppLogin rotates a refresh token of app appID's login, by the
// rule of Refresh (reuse revokes the login, but within the grace), and
// returns the login and its next refresh token. Another app's token, or a
// token login's, is CodeInvalidGrant, as is any refusal of Refresh.
func (s *Service) RefreshAppLogin(ctx context.Context, appID, refresh string, c Client) (AppLogin, error) {
	var g AppGrant
	u, l, next, err := s.rotate(ctx, refresh, c, func(l Login) error {
		var err error
		g, err = s.appGrant(ctx, l, appID)
		return err
	})
	switch ErrorCode(err) {
	case "":
	case CodeInvalidToken, CodeRefreshTokenReused:
		return AppLogin{}, &Error{Code: CodeInvalidGrant, Detail: err.(*Error).Detail}
	default:
		return AppLogin{}, err
	}
	l.AppID = g.AppID
	return AppLogin{User: u, Login: l, Grant: g, RefreshToken: next}, nil
}

// AppTokenLogin returns the user and grant of the live app login an
// access token names (its sid and sub), for /oauth2/userinfo:
// CodeInvalidToken when the login was revoked or has ended, is not an
// app's or not the user's, or the user is disabled.
func (s *Service) AppTokenLogin(ctx context.Context, loginID, userID string) (User, AppGrant, error) {
	invalid := Errorf(CodeInvalidToken, "the access token's login has ended")
	if s.tok == nil || !possibleID(loginID) || s.tok.isRevoked(loginID) {
		return User{}, AppGrant{}, invalid
	}
	l, err := s.store.LoginByID(ctx, loginID)
	if ErrorCode(err) == CodeNotFound {
		return User{}, AppGrant{}, invalid
	}
	if err != nil {
		return User{}, AppGrant{}, err
	}
	if l.UserID != userID || l.Mode != ModeOIDC || !l.Live(s.now()) {
		return User{}, AppGrant{}, invalid
	}
	g, err := s.appGrant(ctx, l, l.AppID)
	if ErrorCode(err) == CodeInvalidGrant {
		return User{}, AppGrant{}, invalid
	}
	if err != nil {
		return User{}, AppGrant{}, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if ErrorCode(err) == CodeNotFound || err == nil && u.Disabled {
		return User{}, AppGrant{}, invalid
	}
	return u, g, err
}

// RevokeAppLogin ends the login of app appID that a refresh token (or,
// with loginID set instead, an access token naming that login) belongs
// to: RFC 7009. A token that is unknown, already revoked or another app's
// changes nothing and is no error, as RFC 7009 asks.
func (s *Service) RevokeAppLogin(ctx context.Context, appID, refresh, loginID string, c Client) error {
	var l Login
	switch {
	case refresh != "":
		if s.tok == nil || !validSecret(refresh) {
			return nil
		}
		h := SHA256(refresh)
		_, rl, _, err := s.store.RefreshToken(ctx, h[:])
		if ErrorCode(err) == CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		l = rl
	case possibleID(loginID):
		var err error
		if l, err = s.store.LoginByID(ctx, loginID); ErrorCode(err) == CodeNotFound {
			return nil
		} else if err != nil {
			return err
		}
	default:
		return nil
	}
	if _, err := s.appGrant(ctx, l, appID); ErrorCode(err) == CodeInvalidGrant {
		return nil
	} else if err != nil {
		return err
	}
	_, err := s.revoke(ctx, Revocation{UserID: l.UserID, LoginID: l.ID, Reason: ReasonRevoked},
		AuditEvent{Type: EventSessionRevoked, UserID: l.UserID, IP: c.IP, Detail: "session=" + l.ID + " client=" + appID})
	return err
}

// EndAppLogin ends the user's login of app appID named by an ID token's
// sid (RP-initiated logout); one already ended, or not the user's or the
// app's, changes nothing.
func (s *Service) EndAppLogin(ctx context.Context, appID, userID, loginID string, c Client) error {
	if !possibleID(loginID) || !possibleID(userID) {
		return nil
	}
	l, err := s.store.LoginByID(ctx, loginID)
	if ErrorCode(err) == CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if l.UserID != userID {
		return nil
	}
	if _, err := s.appGrant(ctx, l, appID); ErrorCode(err) == CodeInvalidGrant {
		return nil
	} else if err != nil {
		return err
	}
	_, err = s.revoke(ctx, Revocation{UserID: userID, LoginID: l.ID, Reason: ReasonLogout},
		AuditEvent{Type: EventLogout, UserID: userID, IP: c.IP, Detail: "session=" + l.ID + " client=" + appID})
	return err
}
