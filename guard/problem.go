package guard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error is why a Guard refused a request: the HTTP status and the problem
// code of the RFC 9457 answer Authenticate sends, such as 401
// "unauthenticated", 401 "invalid_token", 401
// "insufficient_user_authentication", 403 "forbidden", 403
// "cross_origin" or 503 "unavailable" (Gatehouse's codes).
type Error struct {
	Status int
	Code   string
	Detail string
	body   []byte // the problem details, encoded once
	aal    int    // the level asked for, with insufficient_user_authentication
}

func newError(status int, code, detail string) *Error {
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Code   string `json:"code"`
	}{"about:blank", http.StatusText(status), status, detail, code})
	return &Error{Status: status, Code: code, Detail: detail, body: append(body, '\n')}
}

// insufficientAAL refuses a login below the assurance level aal.
func insufficientAAL(aal int) *Error {
	e := newError(http.StatusUnauthorized, "insufficient_user_authentication", fmt.Sprintf("this needs a sign-in at assurance level %d (two factors)", aal))
	e.aal = aal
	return e
}

func (e *Error) Error() string {
	return fmt.Sprintf("guard: %d %s: %s", e.Status, e.Code, e.Detail)
}

// The refusals, made once so that refusing costs no encoding.
var (
	errNoCredential = newError(http.StatusUnauthorized, "unauthenticated", "sign in first")
	errSignedOut    = newError(http.StatusUnauthorized, "unauthenticated", "the session is not valid; sign in again")
	errBadHeader    = newError(http.StatusUnauthorized, "invalid_token", `the Authorization header must be "Bearer <token>"`)
	errInvalidToken = newError(http.StatusUnauthorized, "invalid_token", "the access token is invalid or expired")
	errRevoked      = newError(http.StatusUnauthorized, "invalid_token", "the login of this token was revoked")
	errStaleRoles   = newError(http.StatusUnauthorized, "invalid_token", "the user's roles changed; refresh the token")
	errCrossOrigin  = newError(http.StatusForbidden, "cross_origin", "cross-origin requests are refused")
	errUnavailable  = newError(http.StatusServiceUnavailable, "unavailable", "the sign-in service cannot be reached; try again shortly")
	errFeedStale    = newError(http.StatusServiceUnavailable, "unavailable", "revocations cannot be checked right now; try again shortly")
)

// write answers the request with the refusal; a refused bearer token gets
// the RFC 6750 challenge.
func (e *Error) write(w http.ResponseWriter) {
	h := w.Header()
	switch e.Code {
	case "invalid_token":
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case "insufficient_user_authentication":
		h.Set("WWW-Authenticate", `Bearer error="insufficient_user_authentication", acr_values="`+strconv.Itoa(e.aal)+`"`)
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	w.Write(e.body)
}
