package token

import (
	"encoding/base64"
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

// accessClaims is the JSON form of Claims: plain numbers and strings,
// decoded once, rather than golang-jwt's RegisteredClaims, whose time and
// audience types each run a second json.Unmarshal.
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
	payload, err := json.Marshal(&accessClaims{
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
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	input := headerSegment(k.Alg, k.ID) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := jwt.GetSigningMethod(k.Alg).Sign(input, k.Private)
	if err != nil {
		return "", fmt.Errorf("token: sign with key %s: %w", k.ID, err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// headerSegment is the encoded header Sign writes for a key: the JSON of
// {"alg":alg,"kid":kid,"typ":"at+jwt"} as encoding/json writes a map, keys
// sorted, which is byte for byte what golang-jwt wrote before this package
// built tokens itself. Verify knows a token of ours by this segment.
func headerSegment(alg, kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "at+jwt"}) // strings always marshal
	return base64.RawURLEncoding.EncodeToString(h)
}
