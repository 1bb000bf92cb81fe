package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse"
)

// Request body limits.
const (
	// MaxBodyBytes is the largest request body accepted (413 beyond it).
	MaxBodyBytes = 64 << 10
	// MaxJSONDepth is the deepest nesting of arrays and objects accepted;
	// no request needs more than two levels.
	MaxJSONDepth = 16
)

// decode reads one JSON value from the body into dst. Unknown fields are
// ignored; anything else that is not exactly one well-formed value of the
// right shape is CodeInvalidRequest, and an oversized body is a 413.
// decodeOptional is decode for a body that may be left out: an empty one
// leaves dst as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, dst any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(w, r, dst)
}

func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &gatehouse.Error{Code: gatehouse.CodeInvalidRequest, Detail: fmt.Sprintf("the body must be at most %d bytes", MaxBodyBytes), Err: errTooLarge}
	}
	if err != nil {
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the body could not be read")
	}
	if jsonDepth(body) > MaxJSONDepth {
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, fmt.Sprintf("the body nests deeper than %d levels", MaxJSONDepth))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	err = dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the body must hold exactly one JSON value")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the body must be a JSON object")
	case errors.As(err, &typeErr):
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, fmt.Sprintf("field %q has the wrong type", typeErr.Field))
	case errors.Is(err, io.EOF):
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the body must be a JSON object")
	default:
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the body is not valid JSON")
	}
}

// jsonDepth returns the deepest nesting of arrays and objects in b,
// skipping strings; it does not validate, the decoder does that after.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// errTooLarge is the cause of the error for a body over MaxBodyBytes,
// which is answered with 413.
var errTooLarge = errors.New("request body too large")

// required returns CodeInvalidRequest naming the first empty field.
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, fmt.Sprintf("field %q is required", fields[i]))
		}
	}
	return nil
}

// encode writes v as JSON with the status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// problem is an RFC 9457 problem details body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	// MFAToken and Methods come with mfa_required: what the second step
	// of the sign-in needs.
	MFAToken string   `json:"mfa_token,omitempty"`
	Methods  []string `json:"methods,omitempty"`
	// Passkey, when "passkey" is among the methods, are the request
	// options ({"publicKey":{...}}) of the second step.
	Passkey json.RawMessage `json:"passkey,omitempty"`
}

var statusOf = map[gatehouse.Code]int{
	gatehouse.CodeInvalidRequest:     http.StatusBadRequest,
	gatehouse.CodeInvalidEmail:       http.StatusBadRequest,
	gatehouse.CodeWeakPassword:       http.StatusBadRequest,
	gatehouse.CodeEmailTaken:         http.StatusConflict,
	gatehouse.CodeSignupDisabled:     http.StatusForbidden,
	gatehouse.CodeInvalidCredentials: http.StatusUnauthorized,
	gatehouse.CodeAccountDisabled:    http.StatusForbidden,
	gatehouse.CodeCrossOrigin:        http.StatusForbidden,
	gatehouse.CodeTooManyAttempts:    http.StatusTooManyRequests,
	gatehouse.CodeUnauthenticated:    http.StatusUnauthorized,
	gatehouse.CodeInvalidToken:       http.StatusUnauthorized,
	gatehouse.CodeRefreshTokenReused: http.StatusUnauthorized,
	gatehouse.CodeNotFound:           http.StatusNotFound,
	gatehouse.CodeForbidden:          http.StatusForbidden,
	gatehouse.CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	gatehouse.CodeUnavailable:        http.StatusServiceUnavailable,
	gatehouse.CodeEmailDisabled:      http.StatusForbidden,
	gatehouse.CodeAlreadyVerified:    http.StatusConflict,
	gatehouse.CodeEmailUnverified:    http.StatusForbidden,
	gatehouse.CodeMFARequired:        http.StatusUnauthorized,
	gatehouse.CodeInvalidCode:        http.StatusUnauthorized,
	gatehouse.CodeAlreadyEnrolled:    http.StatusConflict,
	gatehouse.CodeNotEnrolled:        http.StatusConflict,
	gatehouse.CodeInsufficientAuth:   http.StatusUnauthorized,
	gatehouse.CodeInvalidCredential:  http.StatusBadRequest,
	gatehouse.CodePasskeysDisabled:   http.StatusForbidden,
}

// Status is the HTTP status of an error code, the same whatever the
// endpoint or face (the pages answer with it too); an unknown code is 500.
func Status(code gatehouse.Code) int {
	if st, ok := statusOf[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// writeError answers err as problem details. It is the only place that
// maps an error code to an HTTP status (with Status). An error that is not a
// gatehouse.Error is a 500 whose cause goes to the log only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeErrorWith(w, r, err, Status)
}

// writeLinkError is writeError for the endpoints that spend a one-time
// link: see LinkStatus.
func (s *Server) writeLinkError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeErrorWith(w, r, err, LinkStatus)
}

func (s *Server) writeErrorWith(w http.ResponseWriter, r *http.Request, err error, statusOf func(gatehouse.Code) int) {
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal", "something went wrong on our side")
		return
	}
	status := statusOf(e.Code)
	if errors.Is(e, errTooLarge) {
		status = http.StatusRequestEntityTooLarge
	} else if e.Err != nil {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e.Err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+999_999_999)/1_000_000_000)))
	}
	pr := newProblem(status, string(e.Code), e.Detail)
	if e.MFA != nil {
		pr.MFAToken, pr.Methods, pr.Passkey = e.MFA.Token, e.MFA.Methods, e.MFA.Passkey
	}
	encodeProblem(w, pr)
}

func newProblem(status int, code, detail string) problem {
	return problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	encodeProblem(w, newProblem(status, code, detail))
}

func encodeProblem(w http.ResponseWriter, pr problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(pr.Status)
	json.NewEncoder(w).Encode(pr)
}
