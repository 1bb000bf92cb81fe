package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// userJSON is the public shape of a user; it has no password hash.
type userJSON struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
	// EmailVerified says the user proved they receive mail at Email.
	EmailVerified bool      `json:"email_verified"`
	CreatedAt     time.Time `json:"created_at"`
}

func toUser(u gatehouse.User) userJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userJSON{ID: u.ID, Email: u.Email, Roles: roles, Disabled: u.Disabled, EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt}
}

func (s *Server) handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *Server) handleReady() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notifier, err := s.svc.Ready(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		body := map[string]string{"status": "ready"}
		if notifier != "" {
			body["redis"] = notifier
		}
		encode(w, http.StatusOK, body)
	})
}

func (s *Server) handleRegister() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := required("email", req.Email, "password", req.Password); err != nil {
			s.writeError(w, r, err)
			return
		}
		u, err := s.svc.Register(r.Context(), req.Email, req.Password, s.clientOf(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, toUser(u))
	})
}

func (s *Server) handleLogin() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Mode     string `json:"mode"`
		Remember bool   `json:"remember"`
		Device   string `json:"device"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := required("email", req.Email, "password", req.Password, "mode", req.Mode); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := s.svc.Login(r.Context(), gatehouse.LoginRequest{
			Email: req.Email, Password: req.Password, Mode: gatehouse.Mode(req.Mode),
			Remember: req.Remember, Device: req.Device, Client: s.clientOf(r),
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeLogin(w, res)
	})
}

// writeLogin answers a login made: its tokens in token mode; in session
// mode, the cookie and the session.
func (s *Server) writeLogin(w http.ResponseWriter, res gatehouse.LoginResult) {
	type session struct {
		ID            string    `json:"id"`
		ExpiresAt     time.Time `json:"expires_at"`
		IdleExpiresAt time.Time `json:"idle_expires_at"`
	}
	type response struct {
		User    userJSON `json:"user"`
		Session session  `json:"session"`
	}
	l := res.Login
	if l.Mode == gatehouse.ModeToken {
		encode(w, http.StatusOK, toTokenResponse(res))
		return
	}
	s.cookie.Set(w, res.Secret, l, l.CreatedAt)
	encode(w, http.StatusOK, response{
		User:    toUser(res.User),
		Session: session{ID: l.ID, ExpiresAt: l.ExpiresAt, IdleExpiresAt: l.IdleExpiresAt},
	})
}

func (s *Server) handleLogout() http.Handler {
	type request struct {
		RefreshToken string `json:"refresh_token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		var req request
		if err := decodeOptional(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if req.RefreshToken != "" {
			if err := s.svc.LogoutRefresh(r.Context(), p, req.RefreshToken, s.clientOf(r)); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := s.svc.Logout(r.Context(), p, s.clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		if p.Login.Mode == gatehouse.ModeSession {
			s.cookie.Clear(w)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) handleMe() http.Handler {
	type auth struct {
		Mode      gatehouse.Mode `json:"mode"`
		SessionID string         `json:"session_id"`
		ExpiresAt time.Time      `json:"expires_at"`
		AAL       int            `json:"aal"`
		AMR       []string       `json:"amr"`
	}
	type response struct {
		User        userJSON `json:"user"`
		Permissions []string `json:"permissions"`
		Auth        auth     `json:"auth"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		u, err := s.svc.Me(r.Context(), p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		perms := p.Permissions
		if perms == nil {
			perms = []string{}
		}
		encode(w, http.StatusOK, response{
			User: toUser(u), Permissions: perms,
			Auth: auth{Mode: p.Login.Mode, SessionID: p.Login.ID, ExpiresAt: p.Login.ExpiresAt, AAL: p.Login.AAL, AMR: p.Login.AMR},
		})
	})
}

func (s *Server) handleChangePassword() http.Handler {
	type request struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := required("current_password", req.Current, "new_password", req.New); err != nil {
			s.writeError(w, r, err)
			return
		}
		p, _ := gatehouse.FromContext(r.Context())
		if err := s.svc.ChangePassword(r.Context(), p, req.Current, req.New, s.clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) handleSessions() http.Handler {
	type session struct {
		ID         string         `json:"id"`
		Mode       gatehouse.Mode `json:"mode"`
		Device     string         `json:"device"`
		CreatedAt  time.Time      `json:"created_at"`
		LastSeenAt time.Time      `json:"last_seen_at"`
		ExpiresAt  time.Time      `json:"expires_at"`
		IP         string         `json:"ip"`
		UserAgent  string         `json:"user_agent"`
		Current    bool           `json:"current"`
		AAL        int            `json:"aal"`
		AMR        []string       `json:"amr"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		logins, err := s.svc.Sessions(r.Context(), p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out := make([]session, 0, len(logins))
		for _, l := range logins {
			out = append(out, session{
				ID: l.ID, Mode: l.Mode, Device: l.Device, CreatedAt: l.CreatedAt, LastSeenAt: l.LastSeenAt,
				ExpiresAt: l.ExpiresAt, IP: l.IP, UserAgent: l.UserAgent, Current: l.ID == p.Login.ID,
				AAL: l.AAL, AMR: l.AMR,
			})
		}
		encode(w, http.StatusOK, map[string]any{"sessions": out})
	})
}

func (s *Server) handleRevokeSession() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		id := r.PathValue("id")
		if err := s.svc.RevokeSession(r.Context(), p, id, s.clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		if id == p.Login.ID && p.Login.Mode == gatehouse.ModeSession {
			s.cookie.Clear(w)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) handleRevokeSessions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		keep := r.URL.Query().Get("keep_current") == "true"
		if err := s.svc.RevokeSessions(r.Context(), p, keep, s.clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		if !keep && p.Login.Mode == gatehouse.ModeSession {
			s.cookie.Clear(w)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleVerify is forward authentication for reverse proxies: 200 with the
// user in headers (X-Gatehouse-User, -Email, -Roles as the contract says,
// and -Permissions and -Session, both comma-separated/plain, for
// libraries), 401 without a valid credential, 403 without the permission
// asked for. With redirect=true, a browser navigation (Accept includes
// text/html) gets 302 to the sign-in page instead of 401, and the
// ForbiddenPage instead of the 403 problem (see Config).
func (s *Server) handleVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := verifyQuery(r.URL.RawQuery)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		perm, redirect := q.permission, q.redirect
		p, err := s.authenticate(r)
		if err == nil && p.Login.AAL < q.aal {
			err = insufficientAAL()
		}
		if err != nil {
			if redirect && s.cfg.SignInURL != "" && isNavigation(r) && signInWouldHelp(err) {
				loc := s.cfg.SignInURL
				if gatehouse.ErrorCode(err) == gatehouse.CodeInsufficientAuth && s.cfg.StepUpURL != "" {
					loc = s.cfg.StepUpURL
				}
				if orig := OriginalURL(r); orig != "" {
					loc += "?rd=" + url.QueryEscape(orig)
				}
				w.Header().Set("Location", loc)
				w.WriteHeader(http.StatusFound)
				return
			}
			s.writeAuthError(w, r, err)
			return
		}
		if perm != "" && !p.Can(perm) {
			if redirect && s.cfg.ForbiddenPage != nil && isNavigation(r) {
				s.cfg.ForbiddenPage(w, r, p, perm)
				return
			}
			s.writeError(w, r, gatehouse.Errorf(gatehouse.CodeForbidden, "missing permission "+perm))
			return
		}
		// One backing array for the five values: this runs on every
		// request a proxy lets through. The keys are already canonical.
		v := [...]string{p.User.ID, p.User.Email, joinRoles(p.User.Roles), joinRoles(p.Permissions), p.Login.ID}
		vals := v[:]
		h := w.Header()
		h["X-Gatehouse-User"] = vals[0:1:1]
		h["X-Gatehouse-Email"] = vals[1:2:2]
		h["X-Gatehouse-Roles"] = vals[2:3:3]
		h["X-Gatehouse-Permissions"] = vals[3:4:4]
		h["X-Gatehouse-Session"] = vals[4:5:5]
		h["X-Gatehouse-Aal"] = aalValues[min(max(p.Login.AAL, 1), 2)]
		w.WriteHeader(http.StatusOK)
	})
}

// verifyQuery reads the query of /v1/verify strictly, because a proxy
// that asks for a permission must never be answered as if it had not: a
// query that does not parse, a parameter other than permission and
// redirect, permission empty or given twice, or redirect given twice or
// other than "true" or "false" is CodeInvalidRequest.
// verifyParams is the query of /v1/verify.
type verifyParams struct {
	permission string
	redirect   bool
	aal        int // the assurance level asked for; 0 for any
}

func verifyQuery(raw string) (verifyParams, error) {
	var v verifyParams
	if raw == "" {
		return v, nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return v, gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the query does not parse")
	}
	for name, values := range q {
		switch name {
		case "permission":
			if len(values) != 1 || values[0] == "" {
				return v, gatehouse.Errorf(gatehouse.CodeInvalidRequest, "permission must be given once, not empty")
			}
			v.permission = values[0]
		case "redirect":
			if len(values) != 1 || (values[0] != "true" && values[0] != "false") {
				return v, gatehouse.Errorf(gatehouse.CodeInvalidRequest, `redirect must be given once, "true" or "false"`)
			}
			v.redirect = values[0] == "true"
		case "aal":
			if len(values) != 1 || (values[0] != "1" && values[0] != "2") {
				return v, gatehouse.Errorf(gatehouse.CodeInvalidRequest, `aal must be given once, "1" or "2"`)
			}
			v.aal = int(values[0][0] - '0')
		default:
			return v, gatehouse.Errorf(gatehouse.CodeInvalidRequest, fmt.Sprintf("unknown parameter %q", name))
		}
	}
	return v, nil
}

// isNavigation reports whether a request looks like a browser opening a
// page (its Accept names text/html), rather than an API client or a
// script, which keep getting 401.
func isNavigation(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// signInWouldHelp reports whether signing in answers err: a missing,
// expired or refused credential, not a store outage.
func signInWouldHelp(err error) bool {
	c := gatehouse.ErrorCode(err)
	return c == gatehouse.CodeUnauthenticated || c == gatehouse.CodeInvalidToken || c == gatehouse.CodeInsufficientAuth
}

// OriginalURL rebuilds the URL the browser asked the proxy for:
// X-Original-URL (nginx) when present, else X-Forwarded-Proto,
// X-Forwarded-Host and X-Forwarded-Uri (Caddy, Traefik); "" when the
// proxy sent neither. It is only a wish: the sign-in page honours it only
// when its host is allowed (see gatehouse.ReturnURLs).
func OriginalURL(r *http.Request) string {
	if u := r.Header.Get("X-Original-URL"); u != "" {
		return u
	}
	host := r.Header.Get("X-Forwarded-Host")
	if host == "" {
		return ""
	}
	proto := r.Header.Get("X-Forwarded-Proto")
	if proto == "" {
		proto = "https"
	}
	uri := r.Header.Get("X-Forwarded-Uri")
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	return proto + "://" + host + uri
}

func (s *Server) handleRoles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]any{"roles": s.svc.Roles()})
	})
}

// tokenResponse is the body of a token login and of a refresh.
type tokenResponse struct {
	User         userJSON     `json:"user"`
	AccessToken  string       `json:"access_token"`
	TokenType    string       `json:"token_type"`
	ExpiresIn    int          `json:"expires_in"`
	RefreshToken string       `json:"refresh_token"`
	Session      tokenSession `json:"session"`
}

type tokenSession struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
}

func toTokenResponse(res gatehouse.LoginResult) tokenResponse {
	return tokenResponse{
		User: toUser(res.User), AccessToken: res.Tokens.AccessToken, TokenType: "Bearer",
		ExpiresIn: int(res.Tokens.ExpiresIn / time.Second), RefreshToken: res.Tokens.RefreshToken,
		Session: tokenSession{ID: res.Login.ID, ExpiresAt: res.Login.ExpiresAt},
	}
}

func (s *Server) handleRefresh() http.Handler {
	type request struct {
		RefreshToken string `json:"refresh_token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := required("refresh_token", req.RefreshToken); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := s.svc.Refresh(r.Context(), req.RefreshToken, s.clientOf(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, toTokenResponse(res))
	})
}

// jwksMaxAge is how long clients may cache the key set. New keys sign at
// once after a rotation, so verifiers should also refetch on an unknown
// kid (the guard package does).
const jwksMaxAge = "public, max-age=60"

func (s *Server) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwks := s.svc.JWKS()
		if jwks == nil {
			jwks = []byte(`{"keys":[]}`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", jwksMaxAge)
		w.Write(jwks)
	})
}
