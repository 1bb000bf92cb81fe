package e2e_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const password = "correct horse battery staple"

// The README's walk-through, through the binary: register, log in, me,
// sessions, log out.
func TestSessionFlowThroughBinary(t *testing.T) {
	s := start(t, "")
	c := newClient()
	r := s.call(c, "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password})
	s.want(r, 201, "")
	r = s.call(c, "POST", "/v1/login", map[string]any{"email": "ADA@example.com", "password": password, "mode": "session"})
	s.want(r, 200, "")
	setCookie := r.header.Get("Set-Cookie")
	if !strings.HasPrefix(setCookie, "gatehouse=") || !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") || strings.Contains(setCookie, "Secure") {
		t.Errorf("dev cookie = %q", setCookie)
	}
	me := s.call(c, "GET", "/v1/me", nil)
	s.want(me, 200, "")
	if me.body["user"].(map[string]any)["email"] != "ada@example.com" {
		t.Errorf("me = %s", me.raw)
	}
	list := s.call(c, "GET", "/v1/sessions", nil)
	s.want(list, 200, "")
	if n := len(list.body["sessions"].([]any)); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	s.want(s.call(c, "POST", "/v1/logout", nil), 204, "")
	s.want(s.call(c, "GET", "/v1/me", nil), 401, "unauthenticated")
	s.want(s.call(c, "GET", "/v1/login", nil), 405, "method_not_allowed")

	// Stopping is clean and a restart keeps the account.
	if err := s.stop(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, s.logs)
	}
	if !strings.Contains(s.logs.String(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", s.logs)
	}
	s2 := start(t, s.db)
	s2.want(s2.call(newClient(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
	if strings.Contains(s.logs.String()+s2.logs.String(), password) {
		t.Error("the server log contains a password")
	}
}

// Without --dev the cookie is __Host- and Secure; --log-format json logs
// one JSON object a line.
func TestProductionDefaults(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	addr := freeAddr(t)
	srv := startArgs(t, db, addr, "serve", "--addr", addr, "--db", db, "--log-format", "json")
	c := newClient()
	srv.want(srv.call(c, "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	r := srv.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"})
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{"__Host-gatehouse=", "Path=/", "Secure", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	if strings.Contains(sc, "Domain=") {
		t.Errorf("__Host- cookie with a Domain: %q", sc)
	}
	// Headers are capped (32 KiB): a larger request is refused with 431.
	if r := srv.callOutside(newClient(), "GET", "/healthz", nil, "X-Big", strings.Repeat("a", 40<<10)); r.status != 431 {
		t.Errorf("a 40 KiB header: %d, want 431", r.status)
	}
	// The request line is written once the response has gone out.
	eventually(t, 5*time.Second, "one JSON request line for the login", func() bool {
		var requests int
		for _, line := range lines(srv.logs.String()) {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", line)
			}
			if rec["msg"] == "request" && rec["path"] == "/v1/login" && rec["status"] == float64(200) {
				requests++
			}
		}
		return requests == 1
	})
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cli.db")
	dbEnv := []string{"GATEHOUSE_DB=" + db}

	out, errOut, code := cli(t, password+"\n", dbEnv, "user", "add", "--email", "Root@Example.com", "--role", "admin", "--password-stdin")
	if code != 0 || !strings.Contains(out, "root@example.com") {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	_, errOut, code = cli(t, password+"\n", dbEnv, "user", "add", "--email", "root@example.com", "--password-stdin")
	if code != 1 || len(lines(errOut)) != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate user add: %d %q, want exit 1 and one line", code, errOut)
	}
	_, errOut, code = cli(t, "short\n", dbEnv, "user", "add", "--email", "x@example.com", "--password-stdin")
	if code != 1 || len(lines(errOut)) != 1 || !strings.Contains(errOut, "at least 8") {
		t.Errorf("weak password: %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", dbEnv, "user", "add", "--email", "x@example.com")
	if code != 2 {
		t.Errorf("user add without --password-stdin: exit %d %q, want 2", code, errOut)
	}
	out, _, code = cli(t, "", dbEnv, "user", "list")
	if code != 0 || !strings.Contains(out, "root@example.com") || !strings.Contains(out, "admin") || strings.Contains(out, "argon2") {
		t.Errorf("user list: %d %q", code, out)
	}

	s := start(t, db)
	c := newClient()
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session", "device": "laptop"}), 200, "")
	out, _, code = cli(t, "", dbEnv, "sessions", "list", "--email", "root@example.com")
	if code != 0 || !strings.Contains(out, "laptop") || !strings.Contains(out, "session") {
		t.Errorf("sessions list: %d %q", code, out)
	}
	out, _, code = cli(t, "", dbEnv, "sessions", "revoke", "--email", "root@example.com")
	if code != 0 || !strings.Contains(out, "revoked 1") {
		t.Errorf("sessions revoke: %d %q", code, out)
	}
	eventually(t, 3*time.Second, "a CLI revocation reaching the server", func() bool {
		return s.call(c, "GET", "/v1/me", nil).status == http.StatusUnauthorized
	})

	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session"}), 200, "")
	if _, e, code := cli(t, "", dbEnv, "user", "disable", "root@example.com"); code != 0 {
		t.Fatalf("disable: %d %q", code, e)
	}
	eventually(t, 3*time.Second, "disabling through the CLI reaching the server", func() bool {
		return s.call(c, "GET", "/v1/me", nil).status == http.StatusUnauthorized
	})
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session"}), 403, "account_disabled")
	if _, e, code := cli(t, "", dbEnv, "user", "enable", "root@example.com"); code != 0 {
		t.Fatalf("enable: %d %q", code, e)
	}
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session"}), 200, "")

	out, _, code = cli(t, "", dbEnv, "user", "roles", "root@example.com", "--set", "customer,service")
	if code != 0 || !strings.Contains(out, "customer,service") {
		t.Errorf("user roles: %d %q", code, out)
	}
	eventually(t, 3*time.Second, "a role change reaching the server", func() bool {
		me := s.call(c, "GET", "/v1/me", nil)
		roles, _ := me.body["user"].(map[string]any)["roles"].([]any)
		return len(roles) == 2
	})
	_, errOut, code = cli(t, "", dbEnv, "user", "roles", "root@example.com", "--set", "wizard")
	if code != 1 || !strings.Contains(errOut, "unknown role") {
		t.Errorf("unknown role: %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", dbEnv, "user", "disable", "nobody@example.com")
	if code != 1 || len(lines(errOut)) != 1 {
		t.Errorf("disable unknown user: %d %q", code, errOut)
	}

	out, _, code = cli(t, "", nil, "version")
	if code != 0 || !strings.HasPrefix(out, "gatehouse ") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"serve", "--no-such-flag"}, {"serve", "--log-level", "loud"}, {"user"}, {"sessions", "list"}, {"migrate", "extra"}} {
		if _, errOut, code := cli(t, "", dbEnv, args...); code != 2 || errOut == "" {
			t.Errorf("gatehouse %v: exit %d %q, want 2 with a message", args, code, errOut)
		}
	}
}

func TestMigrateAndEnvFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	if _, e, code := cli(t, "", []string{"GATEHOUSE_DB=" + db}, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %q", code, e)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("migrate did not create the database named by GATEHOUSE_DB: %v", err)
	}
	// A flag beats the environment; a bad value in the environment is usage.
	if _, e, code := cli(t, "", []string{"GATEHOUSE_SESSION_IDLE=soon"}, "serve", "--db", db); code != 2 || !strings.Contains(e, "GATEHOUSE_SESSION_IDLE") {
		t.Errorf("bad env value: %d %q", code, e)
	}
	if _, e, code := cli(t, "", nil, "migrate", "--db", filepath.Join(t.TempDir(), "missing", "dir", "x.db")); code != 1 || len(lines(e)) != 1 {
		t.Errorf("migrate into a missing directory: %d %q, want exit 1 and one line", code, e)
	}
}
