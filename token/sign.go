package token

import (
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

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
	t := &jwt.Token{
		Method: jwt.GetSigningMethod(k.Alg),
		Header: map[string]any{"alg": k.Alg, "kid": k.ID, "typ": "at+jwt"},
		Claims: &accessClaims{
			Issuer:        c.Issuer,
			Subject:       c.Subject,
			Audience:      audience{c.Audience},
			ExpiresAt:     newNumericDate(c.ExpiresAt),
			NotBefore:     newNumericDate(c.NotBefore),
			IssuedAt:      newNumericDate(c.IssuedAt),
			ID:            c.ID,
			SessionID:     c.SessionID,
			Email:         c.Email,
			EmailVerified: c.EmailVerified,
			Roles:         c.Roles,
			Scope:         c.Scope,
			ACR:           c.ACR,
			AMR:           c.AMR,
		},
	}
	s, err := t.SignedString(k.Private)
	if err != nil {
		return "", fmt.Errorf("token: sign with key %s: %w", k.ID, err)
	}
	return s, nil
}
