package gatehouse_test

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
)

// An ES256 signature (r, s) verifies as (r, n-s) too, so anyone who holds
// an ES256 access token can spell it a second way. The second spelling is
// another entry in the verified-token cache, keyed by the token's hash,
// and must never get around a revocation: whether it was checked before
// the revocation (and cached) or only after it (and verified again), it
// is refused once its login is revoked.
func TestMalleatedES256TokenOfRevokedLoginIsRefused(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
		Tokens: &gatehouse.TokenConfig{
			Issuer: "https://auth.example.test", Alg: token.ES256,
			Secret: []byte("a test secret of at least thirty-two bytes"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Register(ctx, "ada@example.com", testPassword, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	login := func() string {
		t.Helper()
		res, err := svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: testPassword, Mode: gatehouse.ModeToken})
		if err != nil {
			t.Fatal(err)
		}
		return res.Tokens.AccessToken
	}

	for _, checkedBefore := range []bool{true, false} {
		access := login()
		other := malleateES256(t, access)
		p, err := svc.AuthenticateToken(ctx, access)
		if err != nil {
			t.Fatalf("the token: %v", err)
		}
		if checkedBefore {
			// The second spelling verifies, as the same login.
			q, err := svc.AuthenticateToken(ctx, other)
			if err != nil || q.Login.ID != p.Login.ID {
				t.Fatalf("the malleated token before the revocation: login %q, %v; want %q", q.Login.ID, err, p.Login.ID)
			}
		}
		if err := svc.Logout(ctx, p, gatehouse.Client{}); err != nil {
			t.Fatal(err)
		}
		for name, tok := range map[string]string{"token": access, "malleated token": other} {
			if _, err := svc.AuthenticateToken(ctx, tok); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidToken {
				t.Errorf("checked before the revocation %v: the %s of the revoked login: error %v, want %s",
					checkedBefore, name, err, gatehouse.CodeInvalidToken)
			}
		}
	}
}

// malleateES256 returns the ES256 token tok with its signature (r, s)
// replaced by (r, n-s).
func malleateES256(t *testing.T, tok string) string {
	t.Helper()
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %d bytes, %v", len(sig), err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(sig[32:])
	other := tok[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
	if other == tok {
		t.Fatal("the malleated token is the token")
	}
	return other
}
