package oidc

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
)

// The provider's paths. The JWKS is Part 1's /.well-known/jwks.json,
// which the JSON API serves.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	AuthorizePath = "/oauth2/authorize"
	TokenPath     = "/oauth2/token"
	UserinfoPath  = "/oauth2/userinfo"
	RevokePath    = "/oauth2/revoke"
	LogoutPath    = "/oauth2/logout"
	JWKSPath      = "/.well-known/jwks.json"
	// ContinuePath is where a browser resumes an authorization request:
	// GET ContinuePath?id=<request id>. The sign-in, step-up and consent
	// pages send the browser back there when they are done; the consent
	// page adds &deny=1 when the person declined.
	ContinuePath = "/oauth2/continue"
)

// The pages the continue endpoint sends a browser to.
const (
	signInPath  = "/auth/signin"
	stepUpPath  = "/auth/step-up"
	consentPath = "/auth/consent"
)

// Config holds the provider's settings.
type Config struct {
	// Issuer is --issuer: the provider's "iss", exactly as discovery
	// gives it, and the base of every URL it names. Required. An http
	// issuer works (development, tests) and is logged as a warning.
	Issuer string
	// API is the JSON API's settings: the session cookie the continue
	// and logout endpoints read, and how the client address is found.
	API httpapi.Config
	// ErrorPage, when set, writes the page a browser gets when an
	// authorization request, its continuation or a logout is refused and
	// cannot be sent back to the app. reason is one of the Refused
	// constants, for the page to say in its own words, or "" for another
	// refusal, which detail says in the library's words (English).
	// Without it, the answer is plain text. serve sets it to the pages'
	// (pages.Handler's RequestRefused).
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, reason, detail string)
}

// Why a browser's request was refused, as Config.ErrorPage is told.
const (
	// RefusedClient: the client_id is unknown, or the app was removed.
	RefusedClient = "client"
	// RefusedRedirectURI: the redirect_uri (or post_logout_redirect_uri)
	// is missing or is not one the app registered.
	RefusedRedirectURI = "redirect_uri"
	// RefusedMalformed: the request does not parse (a parameter of the
	// wrong form, such as a negative max_age).
	RefusedMalformed = "malformed"
	// RefusedIDTokenHint: a logout's id_token_hint is not an ID token
	// this server issued, or is damaged.
	RefusedIDTokenHint = "id_token_hint"
	// RefusedRequest: the sign-in request is unknown, has expired, or was
	// completed in another browser.
	RefusedRequest = "request"
	// RefusedUnavailable: the store cannot answer now (503).
	RefusedUnavailable = "unavailable"
)

// Handler is the provider as an http.Handler: see New.
type Handler struct {
	svc       *gatehouse.Service
	cfg       Config
	log       *slog.Logger
	provider  *op.Provider
	cookie    httpapi.Cookie
	discovery []byte
	issuer    string
	handler   http.Handler
}

// New returns the OpenID Connect provider over svc, which must be in
// token mode (the provider signs with its keys) and started. It serves
// discovery at /.well-known/openid-configuration and, under /oauth2/,
// authorize, token, userinfo (GET and POST), revoke (RFC 7009), logout
// (RP-initiated) and continue (the bridge to the sign-in pages); the
// authorize endpoint's callback, /oauth2/authorize/callback, is the
// library's and issues the code. Mount it on those paths beside the JSON
// API, which serves the JWKS.
//
// RP-initiated logout with a valid id_token_hint ends the app's login the
// token names and the browser's Gatehouse session when it is the same
// user's, then redirects to the post_logout_redirect_uri only when the
// app registered it exactly, else to the sign-in page; without a hint it
// ends nothing.
func New(svc *gatehouse.Service, cfg Config, log *slog.Logger) (*Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tc, ok := svc.TokenConfig()
	if !ok {
		return nil, errors.New("oidc: the provider needs token mode (its signing keys)")
	}
	issuer := cfg.Issuer
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" ||
		strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("oidc: the issuer %q must be an http or https URL of a host, without path, query or fragment", issuer)
	}
	h := &Handler{svc: svc, cfg: cfg, log: log, cookie: httpapi.NewCookie(cfg.API), issuer: issuer}
	st := &storage{svc: svc, log: log, loginURL: strings.TrimSuffix(issuer, "/") + ContinuePath, accessTTL: tc.AccessTTL, alg: tc.Alg}
	opts := []op.Option{
		op.WithCrypto(codes{}),
		op.WithCustomAuthEndpoint(op.NewEndpoint(AuthorizePath)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(TokenPath)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(UserinfoPath)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(RevokePath)),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(LogoutPath)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(JWKSPath)),
		// The library's verifiers of access tokens (userinfo, revocation)
		// and of id_token_hint know only RS256 unless told.
		op.WithAccessTokenVerifierOpts(op.WithSupportedAccessTokenSigningAlgorithms(tc.Alg)),
		op.WithIDTokenHintVerifierOpts(op.WithSupportedIDTokenHintSigningAlgorithms(tc.Alg)),
		// Tokens are sent with client credentials or bearer tokens, never
		// cookies: any origin may call, without credentials.
		op.WithCORSOptions(&cors.Options{
			AllowedOrigins: []string{"*"},
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Authorization", "Content-Type"},
		}),
	}
	if u.Scheme == "http" {
		log.Warn("the OpenID Connect provider's issuer is plain http: for development only", "issuer", issuer)
		opts = append(opts, op.WithAllowInsecure())
	}
	h.provider, err = op.NewProvider(&op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       gatehouse.AppScopes,
		// Without a registered post_logout_redirect_uri, the browser lands
		// on the sign-in page.
		DefaultLogoutRedirectURI: strings.TrimSuffix(issuer, "/") + signInPath,
	}, st, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if h.discovery, err = discovery(h.provider, st, issuer); err != nil {
		return nil, err
	}

	lim := func(next http.Handler) http.Handler { return http.MaxBytesHandler(next, 64<<10) }
	mux := http.NewServeMux()
	mux.Handle("GET "+DiscoveryPath, h.serveDiscovery())
	mux.Handle(AuthorizePath, noStore(lim(h.withClient(h.refusalPage(h.iss(h.provider))))))
	mux.Handle(AuthorizePath+"/callback", noStore(lim(h.withClient(h.refusalPage(h.iss(h.sameBrowser(h.provider)))))))
	mux.Handle("GET "+ContinuePath, noStore(h.withClient(h.refusalPage(h.iss(h.continueHandler())))))
	mux.Handle("POST "+TokenPath, noStore(lim(h.withClient(h.tokenRequest(h.provider)))))
	mux.Handle(UserinfoPath, noStore(lim(h.withClient(bearerRefusal(h.provider)))))
	mux.Handle("POST "+RevokePath, noStore(lim(h.withClient(h.provider))))
	mux.Handle(LogoutPath, noStore(lim(h.withClient(h.refusalPage(h.withBrowser(h.provider))))))
	mux.Handle("/oauth2/", http.NotFoundHandler())
	h.handler = httpapi.LogRequests(log, cfg.API.OnRequest)(mux)
	return h, nil
}

// ServeHTTP serves the provider's paths.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// discovery is the provider's metadata, made once: the library's, less
// what Gatehouse does not serve (implicit and hybrid flows, other grants,
// introspection, device flow, request objects), with RFC 9207's flag.
func discovery(p *op.Provider, st *storage, issuer string) ([]byte, error) {
	d := op.CreateDiscoveryConfig(op.ContextWithIssuer(context.Background(), issuer), p, st)
	d.IntrospectionEndpoint, d.DeviceAuthorizationEndpoint, d.CheckSessionIframe = "", "", ""
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	methods := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.TokenEndpointAuthMethodsSupported, d.RevocationEndpointAuthMethodsSupported = methods, methods
	d.IntrospectionEndpointAuthMethodsSupported = nil
	d.TokenEndpointAuthSigningAlgValuesSupported, d.RevocationEndpointAuthSigningAlgValuesSupported = nil, nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported, d.RequestObjectSigningAlgValuesSupported = nil, nil
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.ACRValuesSupported = []string{"1", "2"}
	d.ClaimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
		"at_hash", "c_hash", "email", "email_verified", "preferred_username", "name", "roles"}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["authorization_response_iss_parameter_supported"] = true // RFC 9207
	m["request_uri_parameter_supported"] = false
	m["claims_parameter_supported"] = false
	return json.Marshal(m)
}

func (h *Handler) serveDiscovery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(h.discovery)
	})
}

// noStore keeps answers that carry tokens, codes or claims out of every
// cache (RFC 6749 section 5.1).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// bearerRefusal answers a refused access token at userinfo as RFC 6750
// asks: 401 with WWW-Authenticate (the library answers a token whose
// login has ended with 403).
func bearerRefusal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&bearerWriter{ResponseWriter: w}, r)
	})
}

type bearerWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *bearerWriter) WriteHeader(status int) {
	if !w.wrote && (status == http.StatusUnauthorized || status == http.StatusForbidden) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		status = http.StatusUnauthorized
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *bearerWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// withClient puts the request's client (address, user agent) in its
// context, for the Service's audit events and the logins it makes.
func (h *Handler) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), clientKey, h.cfg.API.Client(r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// tokenRequest serves only the two grants, and tells the storage which
// client the request authenticates as: the Authorization header's, else
// the form's client_id, as the library reads it (it refuses both at once).
func (h *Handler) tokenRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("the form cannot be read"), nil)
			return
		}
		switch oidc.GrantType(r.PostForm.Get("grant_type")) {
		case oidc.GrantTypeCode, oidc.GrantTypeRefreshToken:
		case "":
			op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("grant_type is missing"), nil)
			return
		default:
			op.RequestError(w, r, oidc.ErrUnsupportedGrantType().WithDescription("the grants are authorization_code and refresh_token"), nil)
			return
		}
		caller := r.PostForm.Get("client_id")
		if id, _, ok := r.BasicAuth(); ok {
			caller, _ = url.QueryUnescape(id)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey, caller)))
	})
}

// withBrowser puts the browser's Gatehouse login, if any, in the
// context of a logout request.
func (h *Handler) withBrowser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "the request cannot be read", http.StatusBadRequest)
			return
		}
		b := &browser{clear: func() { h.cookie.Clear(w) }}
		b.p, _ = h.session(r) // a store failure: the browser's session is left as it is
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), browserKey, b)))
	})
}

// session returns the browser's Gatehouse login, nil when it has none;
// an error only when the store cannot answer.
func (h *Handler) session(r *http.Request) (*gatehouse.Principal, error) {
	p, err := h.cookie.Session(r, h.svc)
	switch gatehouse.ErrorCode(err) {
	case "":
		return &p, nil
	case gatehouse.CodeUnauthenticated:
		return nil, nil
	default:
		return nil, err
	}
}

// sameBrowser lets only the browser that completed a request reach the
// callback that issues its code (Service.CompletedAuthRequest).
func (h *Handler) sameBrowser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.session(r)
		if err == nil {
			_, err = h.svc.CompletedAuthRequest(r.Context(), r.URL.Query().Get("id"), p)
		}
		if err != nil {
			h.page(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refusalPage turns the library's refusals on the browser's endpoints,
// in plain text (authorize) or JSON (logout), into Config.ErrorPage.
func (h *Handler) refusalPage(next http.Handler) http.Handler {
	if h.cfg.ErrorPage == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &refusalWriter{ResponseWriter: w}
		next.ServeHTTP(pw, r)
		if pw.status != 0 {
			detail := strings.TrimSpace(pw.body.String())
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if pw.json && json.Unmarshal(pw.body.Bytes(), &e) == nil {
				detail = cmp.Or(e.Description, e.Error)
			}
			h.cfg.ErrorPage(w, r, pw.status, refusalReason(detail), detail)
		}
	})
}

// refusalReason names the reason of one of the library's refusals, from
// its words: those of a browser's request name the parameter at fault.
func refusalReason(detail string) string {
	switch {
	case strings.Contains(detail, "cannot parse"):
		return RefusedMalformed
	case strings.Contains(detail, "id_token_hint"):
		return RefusedIDTokenHint
	case strings.Contains(detail, "redirect_uri"):
		return RefusedRedirectURI
	case strings.Contains(detail, "client"):
		return RefusedClient
	}
	return ""
}

// refusalWriter holds back an answer of status 400 or more in plain text
// or JSON, for refusalPage to write as a page; it lets anything else
// through.
type refusalWriter struct {
	http.ResponseWriter
	status int  // the status held back; 0 while none is
	json   bool // whether what is held back is JSON
	body   bytes.Buffer
}

func (w *refusalWriter) WriteHeader(status int) {
	ct := w.Header().Get("Content-Type")
	if w.status == 0 && status >= http.StatusBadRequest && (strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "application/json")) {
		w.status, w.json = status, strings.HasPrefix(ct, "application/json")
		w.Header().Del("Content-Type")
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *refusalWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		return w.ResponseWriter.Write(b)
	}
	if w.body.Len() < maxRefusal {
		w.body.Write(b[:min(len(b), maxRefusal-w.body.Len())])
	}
	return len(b), nil
}

// maxRefusal bounds the message a refusal page shows.
const maxRefusal = 1 << 10

// iss adds the issuer to every authorization response, success or error,
// sent to an app's redirect URI (RFC 9207), so that an app talking to
// several providers knows which one answered.
func (h *Handler) iss(next http.Handler) http.Handler {
	own := []string{strings.TrimSuffix(h.issuer, "/") + "/oauth2/", strings.TrimSuffix(h.issuer, "/") + "/auth/"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&issWriter{ResponseWriter: w, iss: h.issuer, own: own}, r)
	})
}

type issWriter struct {
	http.ResponseWriter
	iss  string
	own  []string
	done bool
}

func (w *issWriter) WriteHeader(status int) {
	if !w.done && (status == http.StatusFound || status == http.StatusSeeOther) {
		w.done = true
		loc := w.Header().Get("Location")
		if loc != "" && !slices.ContainsFunc(w.own, func(p string) bool { return strings.HasPrefix(loc, p) }) {
			if u, err := url.Parse(loc); err == nil {
				if q := u.Query(); q.Has("code") || q.Has("error") {
					q.Set("iss", w.iss)
					u.RawQuery = q.Encode()
					w.Header().Set("Location", u.String())
				}
			}
		}
	}
	w.done = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *issWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// continueHandler is the library's login URL: it reads the browser's
// session and, in order, sends it to sign in (no login; prompt=login or
// max_age and a sign-in older than the request), to step up (acr_values
// 2 and a login at aal1), to consent (an app not trusted without a
// remembered consent, or prompt=consent), or, with prompt=none, answers
// the app login_required, interaction_required or consent_required
// instead; deny=1 (from the consent page) is access_denied. When nothing
// is needed, the Service completes the request and the library's
// callback issues the code.
func (h *Handler) continueHandler() http.Handler {
	base := strings.TrimSuffix(h.issuer, "/")
	callback := op.AuthCallbackURL(h.provider)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := op.ContextWithIssuer(r.Context(), h.issuer)
		id := r.URL.Query().Get("id")
		req, err := h.svc.AuthRequest(ctx, id)
		if err != nil {
			h.page(w, r, err)
			return
		}
		a, err := newAuthRequest(req)
		if err != nil {
			h.page(w, r, err)
			return
		}
		toApp := func(e *oidc.Error) { op.AuthRequestError(w, r, a, e, h.provider) }
		if r.URL.Query().Get("deny") == "1" {
			toApp(oidc.ErrAccessDenied().WithDescription("the user did not consent"))
			return
		}
		p, err := h.session(r)
		if err != nil {
			h.page(w, r, err)
			return
		}
		none := slices.Contains(a.oa.Prompt, oidc.PromptNone)
		pr := gatehouse.Prompt{
			Login:   slices.Contains(a.oa.Prompt, oidc.PromptLogin),
			Consent: slices.Contains(a.oa.Prompt, oidc.PromptConsent),
			AAL2:    slices.Contains(a.oa.ACRValues, "2"),
			UserID:  a.hint,
		}
		if a.oa.MaxAge != nil {
			d := time.Duration(*a.oa.MaxAge) * time.Second
			pr.MaxAge = &d
		}
		_, need, err := h.svc.ContinueAuthRequest(ctx, id, p, pr, clientOf(ctx))
		if err != nil {
			switch gatehouse.ErrorCode(err) {
			case gatehouse.CodeAccountDisabled:
				toApp(oidc.ErrAccessDenied().WithDescription("the account is disabled"))
			case gatehouse.CodeInvalidClient:
				toApp(oidc.ErrUnauthorizedClient().WithDescription("the client was removed"))
			default:
				h.page(w, r, err)
			}
			return
		}
		here := base + ContinuePath + "?id=" + url.QueryEscape(id)
		switch need {
		case gatehouse.InteractionLogin:
			if none {
				toApp(oidc.ErrLoginRequired())
				return
			}
			http.Redirect(w, r, base+signInPath+"?rd="+url.QueryEscape(here), http.StatusSeeOther)
		case gatehouse.InteractionStepUp:
			if none {
				toApp(oidc.ErrInteractionRequired().WithDescription("a second factor is required"))
				return
			}
			http.Redirect(w, r, base+stepUpPath+"?rd="+url.QueryEscape(here), http.StatusSeeOther)
		case gatehouse.InteractionConsent:
			if none {
				toApp(&oidc.Error{ErrorType: "consent_required"})
				return
			}
			http.Redirect(w, r, base+consentPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		default:
			http.Redirect(w, r, callback(ctx, id), http.StatusSeeOther)
		}
	})
}

// page answers a browser whose request cannot go back to the app: an
// unknown or expired request, or a failure.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, err error) {
	status, reason, msg := http.StatusBadRequest, RefusedRequest, "This sign-in request is unknown or has expired. Go back to the app and sign in again."
	if code := gatehouse.ErrorCode(err); code != gatehouse.CodeNotFound && code != gatehouse.CodeInvalidRequest {
		h.log.Error("continuing an authorization request failed", "err", err)
		status, reason, msg = http.StatusServiceUnavailable, RefusedUnavailable, "The sign-in cannot continue right now. Try again shortly."
	}
	w.Header().Set("Cache-Control", "no-store")
	if h.cfg.ErrorPage != nil {
		h.cfg.ErrorPage(w, r, status, reason, msg)
		return
	}
	http.Error(w, msg, status)
}
