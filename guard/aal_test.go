package guard_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse"
)

// TestRequireAAL checks the login's assurance in both modes: a password
// login is refused by RequireAAL(2) as Gatehouse refuses it (401
// insufficient_user_authentication), a two-factor login passes.
func TestRequireAAL(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, func(c *gatehouse.Config) { c.Secret = []byte("0123456789abcdef0123456789abcdef") })
	s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s))
	weak := []credential{cookie(s.login(t, "ada@example.com", gatehouse.ModeSession)), bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))}
	for _, c := range weak {
		if res := call(t, h, "GET", "/me", c); res.status != http.StatusOK || res.user.AAL != 1 {
			t.Errorf("a password login: %d AAL %d", res.status, res.user.AAL)
		}
		res := call(t, h, "GET", "/strong", c)
		if res.status != http.StatusUnauthorized || res.code != "insufficient_user_authentication" ||
			!strings.Contains(res.header.Get("WWW-Authenticate"), `acr_values="2"`) {
			t.Errorf("RequireAAL(2) for a password login: %d %s %q", res.status, res.code, res.header.Get("WWW-Authenticate"))
		}
	}

	// Set up an authenticator app, then sign in with it in both modes.
	p, err := s.svc.AuthenticateSession(ctx, weak[0].cookie)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.svc.EnrollTOTP(ctx, p, testPassword, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	code := func(steps int) string {
		c, _ := pqtotp.GenerateCode(key.Secret, time.Now().Add(time.Duration(steps)*30*time.Second))
		return c
	}
	codes, err := s.svc.ConfirmTOTP(ctx, p, code(0), gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	var strong []credential
	for i, mode := range []gatehouse.Mode{gatehouse.ModeSession, gatehouse.ModeToken} {
		_, err := s.svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: testPassword, Mode: mode})
		var ge *gatehouse.Error
		if !errors.As(err, &ge) || ge.MFA == nil {
			t.Fatalf("Login = %v, want mfa_required", err)
		}
		req := gatehouse.MFARequest{Token: ge.MFA.Token, Code: code(1)}
		if i == 1 {
			req = gatehouse.MFARequest{Token: ge.MFA.Token, RecoveryCode: codes[0]}
		}
		res, err := s.svc.LoginMFA(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if mode == gatehouse.ModeSession {
			strong = append(strong, cookie(res.Secret))
		} else {
			strong = append(strong, bearer(res.Tokens.AccessToken))
		}
	}
	for _, c := range strong {
		if res := call(t, h, "GET", "/strong", c); res.status != http.StatusOK || res.user.AAL != 2 {
			t.Errorf("a two-factor login: %d %s AAL %d", res.status, res.code, res.user.AAL)
		}
	}
}
