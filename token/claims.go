package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of an access token (RFC 9068). Roles and Scope say
// what the user may do; Email rides along so that forward authentication can
// answer without a store lookup. SessionID ("sid") names the login the token
// belongs to, which is what revocation acts on.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  string
	ID        string
	SessionID string
	Email     string
	// EmailVerified says the user proved they receive mail at Email.
	EmailVerified bool
	Roles         []string
	Scope         string // space-separated permissions
	// ACR is the login's assurance level ("1" or "2") and AMR its
	// authentication methods (RFC 8176).
	ACR string
	AMR []string

	IssuedAt  time.Time
	NotBefore time.Time // optional: the zero time leaves "nbf" out
	ExpiresAt time.Time
}

// accessClaims is the JSON form of Claims, as Sign writes it (the field
// order is the member order) and as golang-jwt's Parser reads it: it is a
// jwt.Claims, and a jwt.ClaimsValidator for the claims Gatehouse requires.
type accessClaims struct {
	Issuer        string      `json:"iss"`
	Subject       string      `json:"sub"`
	Audience      audience    `json:"aud"`
	ExpiresAt     numericDate `json:"exp"`
	NotBefore     numericDate `json:"nbf,omitempty"`
	IssuedAt      numericDate `json:"iat"`
	ID            string      `json:"jti"`
	SessionID     string      `json:"sid"`
	Email         string      `json:"email,omitempty"`
	EmailVerified bool        `json:"email_verified"`
	Roles         []string    `json:"roles,omitempty"`
	Scope         string      `json:"scope,omitempty"`
	ACR           string      `json:"acr,omitempty"`
	AMR           []string    `json:"amr,omitempty"`
}

// UnmarshalJSON reads the claims members by their exact names. JSON member
// names are case-sensitive (RFC 8259, RFC 7519 section 4), but
// encoding/json, decoding into a struct, matches them without regard to
// case (and to some Unicode foldings), so that "Sub" or "ROLES" would be
// read as "sub" or "roles". Decoded into an interface value, an object is
// a map that keeps the names as they are and, of repeated members, the
// last, as RFC 7519 section 4 allows; the members are taken from it.
// Other members are ignored, and a null member is an absent one.
func (c *accessClaims) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("the claims are not a JSON object")
	}
	r := members{m: m}
	*c = accessClaims{
		Issuer:        r.string("iss"),
		Subject:       r.string("sub"),
		Audience:      r.audience("aud"),
		ExpiresAt:     r.date("exp"),
		NotBefore:     r.date("nbf"),
		IssuedAt:      r.date("iat"),
		ID:            r.string("jti"),
		SessionID:     r.string("sid"),
		Email:         r.string("email"),
		EmailVerified: r.bool("email_verified"),
		Roles:         r.strings("roles"),
		Scope:         r.string("scope"),
		ACR:           r.string("acr"),
		AMR:           r.strings("amr"),
	}
	return r.err
}

// members reads the members of a JSON object decoded by encoding/json into
// an interface value. An absent or null member reads as the zero value; a
// member of the wrong type sets err.
type members struct {
	m   map[string]any
	err error
}

func (r *members) wrongType(name string) {
	if r.err == nil {
		r.err = fmt.Errorf("claim %q has the wrong type", name)
	}
}

func (r *members) string(name string) string {
	switch v := r.m[name].(type) {
	case nil:
	case string:
		return v
	default:
		r.wrongType(name)
	}
	return ""
}

func (r *members) date(name string) numericDate {
	switch v := r.m[name].(type) {
	case nil:
	case float64:
		return numericDate(v)
	default:
		r.wrongType(name)
	}
	return 0
}

func (r *members) bool(name string) bool {
	switch v := r.m[name].(type) {
	case nil:
	case bool:
		return v
	default:
		r.wrongType(name)
	}
	return false
}

// strings reads an array of strings.
func (r *members) strings(name string) []string {
	switch v := r.m[name].(type) {
	case nil:
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				r.wrongType(name)
				return nil
			}
			out[i] = s
		}
		return out
	default:
		r.wrongType(name)
	}
	return nil
}

// audience reads a string or an array of strings.
func (r *members) audience(name string) audience {
	if s, ok := r.m[name].(string); ok {
		return audience{s}
	}
	return r.strings(name)
}

// The jwt.Claims methods, through which the Parser checks exp, nbf, iat,
// iss and aud. A date out of range is an error wrapping ErrInvalidClaims.

func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.ExpiresAt.numericDate("exp")
}

func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error) {
	return c.NotBefore.numericDate("nbf")
}

func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return c.IssuedAt.numericDate("iat")
}

func (c *accessClaims) GetIssuer() (string, error)  { return c.Issuer, nil }
func (c *accessClaims) GetSubject() (string, error) { return c.Subject, nil }

func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

// Validate requires the claims the Parser's options leave optional: sub,
// sid, jti and iat (RFC 9068 section 2.2; sid for revocation).
func (c *accessClaims) Validate() error {
	switch {
	case c.Subject == "":
		return errMissing("sub")
	case c.SessionID == "":
		return errMissing("sid")
	case c.ID == "":
		return errMissing("jti")
	case c.IssuedAt == 0:
		return errMissing("iat")
	}
	return nil
}

func errMissing(claim string) error {
	return fmt.Errorf("%w: no %q claim", ErrInvalidClaims, claim)
}

// numericDate is a JWT NumericDate: seconds since the Unix epoch, possibly
// fractional. Zero stands for an absent claim; dates before 1970 or after
// maxNumericDate are refused rather than converted with overflow.
type numericDate float64

// maxNumericDate is the last second of year 9999.
const maxNumericDate = 253402300799

func newNumericDate(t time.Time) numericDate {
	if t.IsZero() {
		return 0
	}
	return numericDate(t.Unix())
}

// asTime returns d to the nanosecond; the zero time for 0.
func (d numericDate) asTime() time.Time {
	if d == 0 {
		return time.Time{}
	}
	sec, frac := math.Modf(float64(d))
	return time.Unix(int64(sec), int64(frac*1e9))
}

// numericDate returns d for golang-jwt, untruncated, so that times are
// compared to the nanosecond; nil for an absent claim.
func (d numericDate) numericDate(name string) (*jwt.NumericDate, error) {
	switch {
	case d == 0:
		return nil, nil
	case d < 0 || d > maxNumericDate:
		return nil, fmt.Errorf("%w: %q out of range", ErrInvalidClaims, name)
	}
	return &jwt.NumericDate{Time: d.asTime()}, nil
}

// audience is "aud": one string or an array of strings (RFC 7519 section
// 4.1.3). A single audience is written as a string, as RFC 9068 shows it.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}
