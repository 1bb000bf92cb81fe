package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tokenLogin registers (if needed) and signs in for tokens.
func (s *server) tokenLogin(email string) map[string]any {
	s.t.Helper()
	s.call(newClient(), "POST", "/v1/users", map[string]string{"email": email, "password": password})
	r := s.call(newClient(), "POST", "/v1/login", map[string]any{"email": email, "password": password, "mode": "token"})
	s.want(r, 200, "")
	return r.body
}

func (s *server) bearer(method, path, access string) reply {
	s.t.Helper()
	return s.call(newClient(), method, path, nil, "Authorization", "Bearer "+access)
}

func (s *server) kids() []string {
	s.t.Helper()
	var ids []string
	for _, k := range s.call(newClient(), "GET", "/.well-known/jwks.json", nil).body["keys"].([]any) {
		ids = append(ids, k.(map[string]any)["kid"].(string))
	}
	return ids
}

func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	json.Unmarshal(b, &h)
	return h["kid"]
}

func TestTokenModeThroughBinary(t *testing.T) {
	// The issuer defaults to the listening address; a restart on another
	// port keeps accepting old tokens only with a fixed issuer.
	const issuer = "--issuer=http://gatehouse.e2e"
	s := start(t, "", issuer)
	info, err := os.Stat(s.db + ".secret")
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file beside the database: %v mode %v, want 0600", err, info)
	}
	if n := strings.Count(s.logs.String(), "created a new secret file"); n != 1 {
		t.Errorf("the log mentions the new secret file %d times, want once", n)
	}

	l := s.tokenLogin("ada@example.com")
	access, refresh := l["access_token"].(string), l["refresh_token"].(string)
	me := s.bearer("GET", "/v1/me", access)
	s.want(me, 200, "")
	if me.body["auth"].(map[string]any)["mode"] != "token" {
		t.Errorf("me = %s", me.raw)
	}
	r := s.call(newClient(), "POST", "/v1/token/refresh", map[string]string{"refresh_token": refresh})
	s.want(r, 200, "")
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("refresh without Cache-Control: no-store")
	}
	access2 := r.body["access_token"].(string)

	// keys rotate from the CLI reaches the running server within seconds.
	oldKid := kidOf(t, access)
	out, errOut, code := cli(t, "", nil, "keys", "rotate", "--db", s.db)
	if code != 0 || !strings.Contains(out, "new active key") {
		t.Fatalf("keys rotate: %d %q %q", code, out, errOut)
	}
	eventually(t, 5*time.Second, "the rotated key in the server's JWKS", func() bool { return len(s.kids()) == 2 })
	fresh := s.tokenLogin("carol@example.com")["access_token"].(string)
	if kidOf(t, fresh) == oldKid {
		t.Error("new tokens still signed with the old key after rotation")
	}
	s.want(s.bearer("GET", "/v1/me", access2), 200, "") // old key still verifies
	out, _, code = cli(t, "", nil, "keys", "list", "--db", s.db)
	if code != 0 || !strings.Contains(out, "active") || !strings.Contains(out, "verifies until") || !strings.Contains(out, oldKid) {
		t.Errorf("keys list: %d %q", code, out)
	}
	if strings.Contains(out, "PRIVATE") {
		t.Error("keys list prints private material")
	}

	// Logout by bearer: the token is refused at once by this server.
	s.want(s.bearer("POST", "/v1/logout", access2), 204, "")
	r = s.bearer("GET", "/v1/verify", access2)
	s.want(r, 401, "invalid_token")
	if r.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}

	// A CLI revocation reaches the token check within about a second.
	bob := s.tokenLogin("bob@example.com")["access_token"].(string)
	if _, e, code := cli(t, "", nil, "sessions", "revoke", "--email", "bob@example.com", "--db", s.db); code != 0 {
		t.Fatalf("sessions revoke: %d %q", code, e)
	}
	eventually(t, 3*time.Second, "a CLI revocation refusing the token", func() bool { return s.bearer("GET", "/v1/me", bob).status == 401 })

	// A restart keeps the keys and the revocations.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, s.db, issuer)
	s2.want(s2.bearer("GET", "/v1/me", fresh), 200, "")
	s2.want(s2.bearer("GET", "/v1/me", access2), 401, "invalid_token")
	s2.want(s2.bearer("GET", "/v1/me", bob), 401, "invalid_token")
}

func TestSecretHandling(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "g.db")
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("too short"), 0o600)
	_, errOut, code := cli(t, "", nil, "serve", "--db", db, "--secret-file", secret, "--addr", freeAddr(t))
	if code != 1 || len(lines(errOut)) != 1 || !strings.Contains(errOut, "at least 32 bytes") {
		t.Errorf("short secret: %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", []string{"GATEHOUSE_SECRET=" + strings.Repeat("s", 40)}, "keys", "rotate", "--db", db)
	if code != 0 {
		t.Fatalf("keys rotate with GATEHOUSE_SECRET: %d %q", code, errOut)
	}
	if _, err := os.Stat(db + ".secret"); err == nil {
		t.Error("a secret file was created although GATEHOUSE_SECRET was given")
	}
	// The wrong secret cannot open the keys: the server refuses to start.
	_, errOut, code = cli(t, "", []string{"GATEHOUSE_SECRET=" + strings.Repeat("x", 40)}, "serve", "--db", db, "--addr", freeAddr(t))
	if code != 1 || !strings.Contains(errOut, "secret") {
		t.Errorf("wrong secret: %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", nil, "serve", "--db", "postgres://localhost/x", "--addr", freeAddr(t))
	if code != 1 || len(lines(errOut)) != 1 {
		t.Errorf("postgres without a secret: %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", nil, "serve", "--db", db, "--jwt-alg", "HS256", "--addr", freeAddr(t))
	if code != 2 || !strings.Contains(errOut, "HS256") {
		t.Errorf("--jwt-alg HS256: %d %q, want usage error", code, errOut)
	}
}

func TestJWTAlgorithms(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			s := start(t, "", "--jwt-alg", alg)
			access := s.tokenLogin("ada@example.com")["access_token"].(string)
			b, _ := base64.RawURLEncoding.DecodeString(strings.Split(access, ".")[0])
			if !strings.Contains(string(b), `"alg":"`+alg+`"`) {
				t.Errorf("header = %s", b)
			}
			s.want(s.bearer("GET", "/v1/me", access), 200, "")
			keys := s.call(newClient(), "GET", "/.well-known/jwks.json", nil).body["keys"].([]any)
			if k := keys[0].(map[string]any); k["alg"] != alg || k["d"] != nil {
				t.Errorf("jwks key = %v", k)
			}
		})
	}
}
