package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"
)

// totpCode is the code of secret at now moved by steps of 30 s.
func totpCode(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := pqtotp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSecondFactors goes through an authenticator app with the binary:
// set up, sign in in two steps in both modes, the assurance shown and
// enforced, step-up, and the operator's reset.
func TestSecondFactors(t *testing.T) {
	s := start(t, "", "--mfa-roles", "admin")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	weak := newClient()
	s.want(s.call(weak, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")

	s.want(s.call(weak, "POST", "/v1/mfa/totp", map[string]string{"password": "wrong password!"}), 401, "invalid_credentials")
	key := s.call(weak, "POST", "/v1/mfa/totp", map[string]string{"password": password})
	s.want(key, 200, "")
	secret := key.body["secret"].(string)
	if !strings.HasPrefix(key.body["qr"].(string), "data:image/png;base64,") || !strings.HasPrefix(key.body["uri"].(string), "otpauth://totp/") {
		t.Errorf("enrolment: %s", key.raw)
	}
	s.want(s.call(weak, "POST", "/v1/mfa/totp/confirm", map[string]string{"code": "000000"}), 400, "invalid_code")
	confirmed := s.call(weak, "POST", "/v1/mfa/totp/confirm", map[string]string{"code": totpCode(t, secret, 0)})
	s.want(confirmed, 200, "")
	codes := confirmed.body["recovery_codes"].([]any)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	if f := s.call(weak, "GET", "/v1/mfa", nil); f.body["totp"] != true || f.body["recovery_codes_left"] != float64(10) {
		t.Errorf("factors: %s", f.raw)
	}

	// Signing in takes two steps now; the first gives no cookie.
	strong := newClient()
	first := s.call(strong, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"})
	s.want(first, 401, "mfa_required")
	if len(first.header.Values("Set-Cookie")) != 0 {
		t.Error("the first step set a cookie")
	}
	mfaToken := first.body["mfa_token"].(string)
	s.want(s.call(strong, "POST", "/v1/login/mfa", map[string]string{"mfa_token": mfaToken, "code": "000000"}), 401, "invalid_code")
	s.want(s.call(strong, "POST", "/v1/login/mfa", map[string]string{"mfa_token": mfaToken, "code": totpCode(t, secret, 1)}), 200, "")
	me := s.call(strong, "GET", "/v1/me", nil)
	if auth := me.body["auth"].(map[string]any); auth["aal"] != float64(2) {
		t.Errorf("me after two factors: %s", me.raw)
	}

	// The assurance at the proxy.
	r := s.call(weak, "GET", "/v1/verify?aal=2", nil)
	s.want(r, 401, "insufficient_user_authentication")
	if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_user_authentication"`) || !strings.Contains(got, `acr_values="2"`) {
		t.Errorf("WWW-Authenticate %q", got)
	}
	if r := s.call(strong, "GET", "/v1/verify?aal=2", nil); r.status != 200 || r.header.Get("X-Gatehouse-AAL") != "2" {
		t.Errorf("verify at aal 2: %d %q", r.status, r.header.Get("X-Gatehouse-AAL"))
	}
	if r := s.call(weak, "GET", "/v1/verify", nil); r.header.Get("X-Gatehouse-AAL") != "1" {
		t.Errorf("verify at aal 1: X-Gatehouse-AAL %q", r.header.Get("X-Gatehouse-AAL"))
	}

	// Token mode, with a recovery code.
	first = s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "token"})
	s.want(first, 401, "mfa_required")
	tokens := s.call(newClient(), "POST", "/v1/login/mfa", map[string]string{"mfa_token": first.body["mfa_token"].(string), "recovery_code": codes[0].(string)})
	s.want(tokens, 200, "")
	bearer := "Bearer " + tokens.body["access_token"].(string)
	if r := s.call(newClient(), "GET", "/v1/verify?aal=2", nil, "Authorization", bearer); r.status != 200 || r.header.Get("X-Gatehouse-AAL") != "2" {
		t.Errorf("a token at aal 2: %d %q", r.status, r.header.Get("X-Gatehouse-AAL"))
	}

	// Step-up (with a recovery code: the app's codes of this minute are
	// used): the old cookie goes, a new one at aal 2 comes.
	up := s.call(weak, "POST", "/v1/login/step-up", map[string]string{"recovery_code": codes[1].(string)})
	s.want(up, 200, "")
	if r := s.call(weak, "GET", "/v1/verify?aal=2", nil); r.status != 200 {
		t.Errorf("after stepping up: %d %s", r.status, r.raw)
	}

	// The operator removes the factor: one step again.
	if out, errOut, code := cli(t, "", nil, "user", "mfa", "reset", "ada@example.com", "--db", s.db); code != 0 || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("user mfa reset: %d %s %s", code, out, errOut)
	}
	s.want(s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
}

// TestMFARoles checks that --mfa-roles keeps a role's permissions from a
// login at aal 1.
func TestMFARoles(t *testing.T) {
	s := start(t, "", "--mfa-roles", "admin")
	if _, errOut, code := cli(t, password+"\n", nil, "user", "add", "--db", s.db, "--email", "root@example.com", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	c := newClient()
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session"}), 200, "")
	s.want(s.call(c, "GET", "/v1/verify?permission=users:admin", nil), 403, "forbidden")
	s.want(s.call(c, "GET", "/v1/admin/users", nil), 403, "forbidden")
	if r := s.call(c, "GET", "/v1/me", nil); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	if _, errOut, code := cli(t, "", nil, "serve", "--db", s.db, "--mfa-roles", "nosuchrole"); code != 2 || !strings.Contains(errOut, "--mfa-roles") {
		t.Errorf("serve --mfa-roles nosuchrole: %d %q", code, errOut)
	}
}
