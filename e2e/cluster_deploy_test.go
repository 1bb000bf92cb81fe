package e2e_test

import (
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/redis/redistest"
)

// TestClusterBehindNginx runs deploy/cluster/nginx.conf as committed in
// front of three servers on one PostgreSQL and one Redis, as
// deploy/cluster/README.md describes: sign-in through nginx, a session and
// a token that every server honours, sign-out seen everywhere within a
// second, and one server dying without the clients noticing.
func TestClusterBehindNginx(t *testing.T) {
	nginx := needCommand(t, "nginx", "nginx")
	pg := pgtest.Start(t)
	db := pg.NewDatabase(t)
	rd := redistest.Start(t)

	// One secret and one issuer for all three servers; the issuer is the
	// public address, nginx's.
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte(rand.Text()+rand.Text()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	px := &server{t: t, url: "http://" + listen}

	// Migrations once, before the servers (which would also apply them,
	// one after the other, under a lock).
	if out, errOut, code := cli(t, "", nil, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	var gh [3]*server
	values := map[string]string{"LISTEN": listen}
	for i := range gh {
		addr := freeAddr(t)
		gh[i] = startArgs(t, db, addr, "serve", "--dev", "--addr", addr, "--db", db, "--redis", rd.URL(),
			"--secret-file", secret, "--issuer", px.url, "--trusted-proxies", "127.0.0.1",
			"--log-level", "debug") // a line for every request, successful reads included
		values["GATEHOUSE"+string(rune('1'+i))] = addr
	}
	dir := t.TempDir()
	values["TMP"] = dir
	conf := renderConfig(t, "deploy/cluster/nginx.conf", dir, values)
	startProxy(t, "nginx", nil, px.url+"/readyz", nginx, "-p", dir, "-c", conf, "-e", "stderr", "-g", "daemon off;")
	browser := []string{"Origin", px.url}

	// A browser signs up and in through nginx; a token client too.
	c := newClient()
	px.want(px.call(c, "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}, browser...), 201, "")
	login := px.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}, browser...)
	px.want(login, 200, "")
	cookie := sessionCookie(t, login.header)
	bob := px.tokenLogin("bob@example.com")
	access := bob["access_token"].(string)

	// 30 requests each way, spread by nginx over the three servers: every
	// one sees the same user and login.
	before := deployCounts(gh[:], "path=/v1/me ")
	deployAll(t, px, 30, c, nil, login.body["session"].(map[string]any)["id"].(string))
	deployAll(t, px, 30, newClient(), []string{"Authorization", "Bearer " + access}, bob["session"].(map[string]any)["id"].(string))
	// Each server logs a request just after answering it.
	eventually(t, 2*time.Second, "every server logging its share of the 60 requests", func() bool {
		after := deployCounts(gh[:], "path=/v1/me ")
		total := 0
		for i := range after {
			total += after[i] - before[i]
		}
		return total == 60
	})
	after := deployCounts(gh[:], "path=/v1/me ")
	for i := range gh {
		if got := after[i] - before[i]; got < 10 {
			t.Errorf("server %d answered %d of the 60 requests, want at least 10 (round robin over 3)", i+1, got)
		}
	}

	// Sign-out through nginx, by cookie and by bearer token: within a
	// second, whichever server a request reaches refuses both.
	px.want(px.call(c, "POST", "/v1/logout", nil, browser...), 204, "")
	px.want(px.call(newClient(), "POST", "/v1/logout", nil, "Authorization", "Bearer "+access), 204, "")
	signedOut := time.Now()
	replay := []string{"Cookie", "gatehouse=" + cookie}
	for !deployAllRefused(px, 30, replay) || !deployAllRefused(px, 30, []string{"Authorization", "Bearer " + access}) {
		if time.Since(signedOut) > time.Second {
			t.Fatalf("a server still accepted the signed-out cookie or token %v after sign-out", time.Since(signedOut).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("sign-out refused on every server %v after it", time.Since(signedOut).Round(time.Millisecond))

	// Sign in again, then one server dies (SIGKILL, like a crash): nginx
	// sends its share to the other two, and nothing fails.
	c = newClient()
	login = px.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}, browser...)
	px.want(login, 200, "")
	bob = px.tokenLogin("bob@example.com")
	access = bob["access_token"].(string)
	deployKill(t, gh[1])
	deployAll(t, px, 30, c, nil, login.body["session"].(map[string]any)["id"].(string))
	deployAll(t, px, 30, newClient(), []string{"Authorization", "Bearer " + access}, bob["session"].(map[string]any)["id"].(string))
	for _, path := range []string{"/healthz", "/readyz", "/.well-known/jwks.json"} {
		for range 3 {
			px.want(px.call(newClient(), "GET", path, nil), 200, "")
		}
	}
	// Writes too: nginx resends a POST only when it never reached a
	// server, which is what a dead one does (it refuses the connection).
	px.tokenLogin("carol@example.com")
	c2 := newClient()
	for range 3 {
		px.want(px.call(c2, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}, browser...), 200, "")
	}
	px.want(px.call(c, "POST", "/v1/logout", nil, browser...), 204, "")
	signedOut = time.Now()
	for !deployAllRefused(px, 30, []string{"Cookie", "gatehouse=" + sessionCookie(t, login.header)}) {
		if time.Since(signedOut) > time.Second {
			t.Fatal("with one server down, a server still accepted the signed-out cookie a second after sign-out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deployAll makes n GET /v1/me through the proxy with client c (and its
// cookie jar) and headers, and checks that each answers 200 for the login
// sid.
func deployAll(t *testing.T, px *server, n int, c *http.Client, headers []string, sid string) {
	t.Helper()
	for i := range n {
		r := px.call(c, "GET", "/v1/me", nil, headers...)
		if r.status != 200 {
			t.Fatalf("request %d of %d: GET /v1/me = %d %s, want 200", i+1, n, r.status, r.raw)
		}
		if auth, _ := r.body["auth"].(map[string]any); auth["session_id"] != sid {
			t.Fatalf("request %d of %d: GET /v1/me = %s, want the login %s", i+1, n, r.raw, sid)
		}
	}
}

// deployAllRefused reports whether n GET /v1/me through the proxy with
// headers all get 401.
func deployAllRefused(px *server, n int, headers []string) bool {
	for range n {
		if r := px.call(newClient(), "GET", "/v1/me", nil, headers...); r.status != 401 {
			return false
		}
	}
	return true
}

// deployCounts returns how many lines of each server's log contain s.
func deployCounts(servers []*server, s string) []int {
	out := make([]int, len(servers))
	for i, srv := range servers {
		out[i] = strings.Count(srv.logs.String(), s)
	}
	return out
}

// deployKill ends a server with SIGKILL, as a crash would.
func deployKill(t *testing.T, s *server) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-s.done
	s.done <- err // for the cleanup startArgs registered
}
