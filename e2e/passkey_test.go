package e2e_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/passkey/passkeytest"
)

// TestPasskeys goes through passkeys with the binary and a software
// authenticator: register, a passwordless sign-in at aal 2, the passkey as
// the second factor after a password, rename and remove; and a server
// whose issuer is an IP address, without passkeys.
func TestPasskeys(t *testing.T) {
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	origin := "http://localhost:" + strings.Split(addr, ":")[1]
	s := startArgs(t, db, addr, "serve", "--dev", "--addr", addr, "--db", db, "--issuer", origin)
	uv := passkeytest.Ceremony{Flags: passkeytest.FlagUP | passkeytest.FlagUV, Origin: origin}
	up := passkeytest.Ceremony{Flags: passkeytest.FlagUP, Origin: origin}
	raw := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	credential := func(b []byte) json.RawMessage { return json.RawMessage(b) }

	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	weak := newClient()
	s.want(s.call(weak, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")

	// Register: the password is needed.
	s.want(s.call(weak, "POST", "/v1/passkeys/register/begin", map[string]string{}), 401, "invalid_credentials")
	begin := s.call(weak, "POST", "/v1/passkeys/register/begin", map[string]string{"password": password})
	s.want(begin, 200, "")
	a := passkeytest.New(t)
	bad := uv
	bad.Origin = "http://evil.localhost:1"
	s.want(s.call(weak, "POST", "/v1/passkeys/register/finish", map[string]any{"credential": credential(a.Create(t, begin.raw, bad))}), 400, "invalid_credential")
	begin = s.call(weak, "POST", "/v1/passkeys/register/begin", map[string]string{"password": password})
	added := s.call(weak, "POST", "/v1/passkeys/register/finish", map[string]any{"name": "Laptop", "credential": credential(a.Create(t, begin.raw, uv))})
	s.want(added, 201, "")
	id, _ := added.body["id"].(string)
	if added.body["name"] != "Laptop" || added.body["last_used_at"] != nil || id == "" {
		t.Errorf("passkey %s", added.raw)
	}
	if list := s.call(weak, "GET", "/v1/passkeys", nil); len(list.body["passkeys"].([]any)) != 1 {
		t.Errorf("passkeys %s", list.raw)
	}

	// A passwordless sign-in, at aal 2.
	login := s.call(newClient(), "POST", "/v1/login/passkey/begin", nil)
	s.want(login, 200, "")
	a.Counter = 1
	strong := newClient()
	done := s.call(strong, "POST", "/v1/login/passkey/finish", map[string]any{
		"challenge_id": login.body["challenge_id"], "mode": "session", "credential": credential(a.Get(t, login.raw, uv)),
	})
	s.want(done, 200, "")
	me := s.call(strong, "GET", "/v1/me", nil)
	if auth, _ := me.body["auth"].(map[string]any); auth == nil || auth["aal"] != float64(2) {
		t.Errorf("me after a passwordless sign-in: %s", me.raw)
	}
	// The same challenge again, and one without user verification.
	a.Counter = 2
	s.want(s.call(newClient(), "POST", "/v1/login/passkey/finish", map[string]any{
		"challenge_id": login.body["challenge_id"], "mode": "session", "credential": credential(a.Get(t, login.raw, uv)),
	}), 401, "invalid_credentials")
	login = s.call(newClient(), "POST", "/v1/login/passkey/begin", nil)
	s.want(s.call(newClient(), "POST", "/v1/login/passkey/finish", map[string]any{
		"challenge_id": login.body["challenge_id"], "mode": "token", "credential": credential(a.Get(t, login.raw, up)),
	}), 401, "invalid_credentials")

	// The passkey as the second factor after the password, in token mode.
	first := s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "token"})
	s.want(first, 401, "mfa_required")
	if m, _ := first.body["methods"].([]any); len(m) != 1 || m[0] != "passkey" {
		t.Errorf("methods %s", first.raw)
	}
	options := raw(first.body["passkey"])
	a.Counter = 3
	s.want(s.call(newClient(), "POST", "/v1/login/mfa", map[string]any{"mfa_token": first.body["mfa_token"], "code": "000000"}), 401, "invalid_code")
	tokens := s.call(newClient(), "POST", "/v1/login/mfa", map[string]any{"mfa_token": first.body["mfa_token"], "credential": credential(a.Get(t, options, up))})
	s.want(tokens, 200, "")
	if tokens.body["access_token"] == nil {
		t.Errorf("second step %s", tokens.raw)
	}

	// Rename and remove; another user's id is not found.
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "bob@example.com", "password": password}), 201, "")
	bob := newClient()
	s.want(s.call(bob, "POST", "/v1/login", map[string]any{"email": "bob@example.com", "password": password, "mode": "session"}), 200, "")
	s.want(s.call(bob, "PATCH", "/v1/passkeys/"+id, map[string]string{"name": "Mine"}), 404, "not_found")
	s.want(s.call(bob, "DELETE", "/v1/passkeys/"+id, map[string]string{"password": password}), 404, "not_found")
	renamed := s.call(weak, "PATCH", "/v1/passkeys/"+id, map[string]string{"name": "Work laptop"})
	s.want(renamed, 200, "")
	if renamed.body["name"] != "Work laptop" || renamed.body["last_used_at"] == nil {
		t.Errorf("renamed %s", renamed.raw)
	}
	s.want(s.call(weak, "DELETE", "/v1/passkeys/"+id, map[string]string{"password": "wrong password!"}), 401, "invalid_credentials")
	s.want(s.call(weak, "DELETE", "/v1/passkeys/"+id, map[string]string{"password": password}), 204, "")
	s.want(s.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
}

// TestPasskeysOnAnIP checks that a server whose issuer is an IP address
// runs without passkeys, and says why, and that a relying party id that
// does not fit the origins stops serve.
func TestPasskeysOnAnIP(t *testing.T) {
	s := start(t, "")
	s.want(s.call(newClient(), "POST", "/v1/login/passkey/begin", nil), 403, "passkeys_disabled")
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	c := newClient()
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
	s.want(s.call(c, "POST", "/v1/passkeys/register/begin", map[string]string{"password": password}), 403, "passkeys_disabled")
	s.want(s.call(c, "GET", "/v1/passkeys", nil), 403, "passkeys_disabled")
	if n := strings.Count(s.logs.String(), "passkeys are off"); n != 1 {
		t.Errorf("the log says passkeys are off %d times, want once:\n%s", n, s.logs)
	}

	db := filepath.Join(t.TempDir(), "gatehouse.db")
	_, stderr, code := cli(t, "", nil, "serve", "--dev", "--addr", freeAddr(t), "--db", db, "--issuer", "https://auth.example.com", "--webauthn-rp-id", "example.org")
	// One line says what is wrong (the log lines before it aside).
	last := lines(strings.TrimSpace(stderr))
	if code != 2 || len(last) == 0 || !strings.HasPrefix(last[len(last)-1], "gatehouse: --webauthn-rp-id") || !strings.Contains(last[len(last)-1], "example.org") {
		t.Errorf("serve with a relying party id that does not fit: exit %d, %q", code, stderr)
	}
}
