package token_test

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/token"
)

// FuzzVerify feeds Verify hostile input. Its seed corpus in
// testdata/fuzz/FuzzVerify holds tokens signed by fixedKey, valid at t0,
// and broken ones. Verify must not panic, must refuse with one of its
// sentinels, and may accept only complete claims.
func FuzzVerify(f *testing.F) {
	v := newVerifier(fixedKey())
	sentinels := []error{
		token.ErrTooLarge, token.ErrMalformed, token.ErrUnknownKey, token.ErrSignature,
		token.ErrExpired, token.ErrNotYetValid, token.ErrInvalidClaims,
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(tok)
		if err != nil {
			if !slicesContainsIs(sentinels, err) {
				t.Fatalf("Verify error %v wraps no sentinel", err)
			}
			if len(tok) > token.MaxTokenBytes && !errors.Is(err, token.ErrTooLarge) {
				t.Fatalf("token of %d bytes: error %v, want %v", len(tok), err, token.ErrTooLarge)
			}
			return
		}
		if c.Issuer != testIssuer || c.Audience != testAudience || c.Subject == "" ||
			c.SessionID == "" || c.ID == "" || c.IssuedAt.IsZero() || !c.ExpiresAt.After(t0.Add(-token.MaxLeeway)) {
			t.Fatalf("Verify accepted incomplete claims %+v", c)
		}
	})
}

func slicesContainsIs(targets []error, err error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
