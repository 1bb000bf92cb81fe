package httpapi

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// authenticate finds the request's credential and checks it: a bearer
// token when the Authorization header uses the Bearer scheme (a bad one is
// refused even if a cookie comes too), else the session cookie (an
// Authorization header of another scheme, such as an app's own Basic
// auth behind a proxy, is not ours and is ignored). It only checks; the
// caller decides whether to refuse.
func (s *Server) authenticate(r *http.Request) (gatehouse.Principal, error) {
	return s.check(r, true)
}

// recheck checks the credential of a request that lasts (the revocation
// feed's stream) again, without counting as the session's activity (see
// Service.RecheckSession).
func (s *Server) recheck(r *http.Request) (gatehouse.Principal, error) {
	return s.check(r, false)
}

func (s *Server) check(r *http.Request, activity bool) (gatehouse.Principal, error) {
	if scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") {
		if token == "" {
			return gatehouse.Principal{}, gatehouse.Errorf(gatehouse.CodeInvalidToken, "the bearer token is missing")
		}
		return s.svc.AuthenticateToken(r.Context(), token)
	}
	if activity {
		return s.cookie.Session(r, s.svc)
	}
	secret := s.cookie.Secret(r)
	if secret == "" {
		return gatehouse.Principal{}, errNoSession
	}
	return s.svc.RecheckSession(r.Context(), secret)
}

// writeAuthError answers a failed authentication, adding the RFC 6750
// challenge when a bearer token was refused.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	switch gatehouse.ErrorCode(err) {
	case gatehouse.CodeInvalidToken:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case gatehouse.CodeInsufficientAuth:
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_user_authentication", acr_values="2"`)
	}
	s.writeError(w, r, err)
}

// joinRoles writes a list for a header, comma-separated.
func joinRoles(roles []string) string { return strings.Join(roles, ",") }
