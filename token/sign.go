package token

import (
	"encoding/json"
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
	Roles     []string
	Scope     string // space-separated permissions

	IssuedAt  time.Time
	NotBefore time.Time // optional: the zero time leaves "nbf" out
	ExpiresAt time.Time
}

// accessClaims is the JSON form of Claims. It implements jwt.Claims itself
// rather than embed jwt.RegisteredClaims, whose time and audience types each
// run a second json.Unmarshal: decoding plain numbers and strings keeps
// Verify within its budget (see doc.go).
type accessClaims struct {
	Issuer    string      `json:"iss"`
	Subject   string      `json:"sub"`
	Audience  audience    `json:"aud"`
	ExpiresAt numericDate `json:"exp"`
	NotBefore numericDate `json:"nbf,omitempty"`
	IssuedAt  numericDate `json:"iat"`
	ID        string      `json:"jti"`
	SessionID string      `json:"sid"`
	Email     string      `json:"email,omitempty"`
	Roles     []string    `json:"roles,omitempty"`
	Scope     string      `json:"scope,omitempty"`
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

func (d numericDate) asTime() time.Time {
	if d == 0 {
		return time.Time{}
	}
	sec, frac := math.Modf(float64(d))
	return time.Unix(int64(sec), int64(frac*1e9))
}

// jwt converts d for golang-jwt's validator: nil when absent, an error when
// out of range.
func (d numericDate) jwt(claim string) (*jwt.NumericDate, error) {
	switch {
	case d == 0:
		return nil, nil
	case d < 0 || d > maxNumericDate:
		return nil, refusal{fmt.Errorf("%w: %q out of range", ErrInvalidClaims, claim)}
	}
	return jwt.NewNumericDate(d.asTime()), nil
}

// audience is "aud": one string or an array of strings (RFC 7519 section
// 4.1.3). A single audience is written as a string, as RFC 9068 shows it.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// GetExpirationTime, GetIssuedAt, GetNotBefore, GetIssuer, GetSubject and
// GetAudience implement jwt.Claims for golang-jwt's validator.

func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.ExpiresAt.jwt("exp")
}

func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return c.IssuedAt.jwt("iat")
}

func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error) {
	return c.NotBefore.jwt("nbf")
}

func (c *accessClaims) GetIssuer() (string, error) {
	return c.Issuer, nil
}

func (c *accessClaims) GetSubject() (string, error) {
	return c.Subject, nil
}

func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

// Validate refuses the claims RFC 9068 and Gatehouse require but golang-jwt
// does not check on its own. The validator calls it after its time, issuer
// and audience checks.
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
	return refusal{fmt.Errorf("%w: no %q claim", ErrInvalidClaims, claim)}
}

// Sign returns c as a JWS compact JWT signed by k, with the header
// {"alg":k.Alg,"kid":k.ID,"typ":"at+jwt"}. Times are written in whole
// seconds. It refuses claims that Verify would refuse whatever the clock:
// an empty Issuer, Subject, Audience, ID or SessionID, or a zero IssuedAt or
// ExpiresAt.
func Sign(k Key, c Claims) (string, error) {
	switch {
	case c.Issuer == "", c.Subject == "", c.Audience == "", c.ID == "", c.SessionID == "":
		return "", fmt.Errorf("%w: sign: iss, sub, aud, jti and sid are required", ErrInvalidClaims)
	case c.IssuedAt.IsZero(), c.ExpiresAt.IsZero():
		return "", fmt.Errorf("%w: sign: iat and exp are required", ErrInvalidClaims)
	case k.ID == "" || k.Private == nil:
		return "", fmt.Errorf("token: sign: key has no id or no private key")
	}
	if err := checkKey(k.Alg, k.Public()); err != nil {
		return "", fmt.Errorf("token: sign with key %s: %w", k.ID, err)
	}
	t := jwt.NewWithClaims(jwt.GetSigningMethod(k.Alg), &accessClaims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  audience{c.Audience},
		ExpiresAt: newNumericDate(c.ExpiresAt),
		NotBefore: newNumericDate(c.NotBefore),
		IssuedAt:  newNumericDate(c.IssuedAt),
		ID:        c.ID,
		SessionID: c.SessionID,
		Email:     c.Email,
		Roles:     c.Roles,
		Scope:     c.Scope,
	})
	t.Header["typ"] = "at+jwt"
	t.Header["kid"] = k.ID
	s, err := t.SignedString(k.Private)
	if err != nil {
		return "", fmt.Errorf("token: sign with key %s: %w", k.ID, err)
	}
	return s, nil
}
