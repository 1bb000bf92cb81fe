package gatehouse

import (
	"errors"
	"time"
)

// Code is the stable, machine-readable part of an error. The codes are
// exactly the codes of the API reference, docs/api.md.
type Code string

// The contract's error codes.
const (
	CodeInvalidRequest     Code = "invalid_request"
	CodeInvalidEmail       Code = "invalid_email"
	CodeWeakPassword       Code = "weak_password"
	CodeEmailTaken         Code = "email_taken"
	CodeSignupDisabled     Code = "signup_disabled"
	CodeInvalidCredentials Code = "invalid_credentials"
	CodeAccountDisabled    Code = "account_disabled"
	CodeCrossOrigin        Code = "cross_origin"
	CodeTooManyAttempts    Code = "too_many_attempts"
	CodeUnauthenticated    Code = "unauthenticated"
	CodeInvalidToken       Code = "invalid_token"
	CodeRefreshTokenReused Code = "refresh_token_reused"
	CodeNotFound           Code = "not_found"
	CodeForbidden          Code = "forbidden"
	CodeMethodNotAllowed   Code = "method_not_allowed"
	CodeUnavailable        Code = "unavailable"
	CodeEmailDisabled      Code = "email_disabled"
	CodeAlreadyVerified    Code = "already_verified"
	CodeEmailUnverified    Code = "email_unverified"
	CodeMFARequired        Code = "mfa_required"
	CodeInvalidCode        Code = "invalid_code"
	CodeAlreadyEnrolled    Code = "already_enrolled"
	CodeNotEnrolled        Code = "not_enrolled"
	// CodeInvalidCredential refuses a passkey registration that does not
	// verify; CodePasskeysDisabled answers the passkey endpoints of a
	// server without a relying party (its issuer is an IP address).
	CodeInvalidCredential Code = "invalid_credential"
	CodePasskeysDisabled  Code = "passkeys_disabled"
	// CodeInsufficientAuth is RFC 9470's: the login's assurance is too
	// low for what it asks.
	CodeInsufficientAuth Code = "insufficient_user_authentication"
)

// Error is the one error type of the domain. Stores translate driver errors
// into it (no rows → CodeNotFound, unique violation → CodeEmailTaken, any
// other failure → CodeUnavailable), so a store outage always fails closed.
type Error struct {
	Code   Code
	Detail string // safe to show to the client
	Err    error  // the cause, for the log only
	// RetryAfter, when set, tells the client when to try again.
	RetryAfter time.Duration
	// MFA, with CodeMFARequired, is what the second step of the sign-in
	// needs. Its token is a secret: never logged.
	MFA *MFAPending
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and client-safe detail.
func Errorf(code Code, detail string) *Error { return &Error{Code: code, Detail: detail} }

// Unavailable wraps a store or infrastructure failure. It is how stores
// report anything that is not a domain condition.
func Unavailable(err error) *Error {
	return &Error{Code: CodeUnavailable, Detail: "the service is temporarily unavailable", Err: err}
}

// ErrorCode returns the code of err, or "" when err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
