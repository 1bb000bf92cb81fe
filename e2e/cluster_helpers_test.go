package e2e_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/redis/redistest"
)

// clusterIssuer is the "iss" every server of a cluster shares, so that a
// token issued by one verifies on the others (the default issuer is the
// listening address, which differs from server to server).
const clusterIssuer = "http://gatehouse.cluster"

// cluster is a deployment of several `gatehouse serve` processes on one
// PostgreSQL database, and on one Redis when it has one. Every server
// gets the same deployment secret and issuer, as the contract requires.
type cluster struct {
	t      *testing.T
	db     string            // the database's URL
	redis  *redistest.Server // nil without --redis
	secret string            // path of the deployment secret file
	extra  []string          // flags every server gets
}

// newCluster creates a new database on pg (and a new Redis when
// withRedis) for one test. Servers are added with start.
func newCluster(t *testing.T, pg *pgtest.Server, withRedis bool) *cluster {
	t.Helper()
	c := &cluster{t: t, db: pg.NewDatabase(t)}
	c.secret = filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(c.secret, []byte(rand.Text()+rand.Text()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.extra = []string{"--secret-file", c.secret, "--issuer", clusterIssuer}
	if withRedis {
		c.redis = redistest.Start(t)
		c.extra = append(c.extra, "--redis", c.redis.URL())
	}
	return c
}

// start runs one more server of the cluster and waits until it answers.
// When the test ends, the server's log must hold neither the database
// password nor the deployment secret.
func (c *cluster) start() *server {
	c.t.Helper()
	s := start(c.t, c.db, c.extra...)
	c.t.Cleanup(func() {
		u, _ := url.Parse(c.db)
		pw, _ := u.User.Password()
		secret, _ := os.ReadFile(c.secret)
		logs := s.logs.String()
		for what, v := range map[string]string{"the database password": pw, "the deployment secret": strings.TrimSpace(string(secret))} {
			if v == "" || strings.Contains(logs, v) {
				c.t.Errorf("the log of %s holds %s (or it is empty)", s.url, what)
			}
		}
	})
	return s
}

// cli runs a gatehouse command against the cluster's database and fails
// the test unless it exits 0. Commands that open signing keys need the
// secret: pass withSecret.
func (c *cluster) cli(stdin string, withSecret bool, args ...string) string {
	c.t.Helper()
	args = append(args, "--db", c.db)
	if withSecret {
		args = append(args, "--secret-file", c.secret)
	}
	out, errOut, code := cli(c.t, stdin, nil, args...)
	if code != 0 {
		c.t.Fatalf("gatehouse %s: exit %d\n%s%s", strings.Join(args[:2], " "), code, out, errOut)
	}
	return out
}

// admin creates an administrator with the CLI and returns an access token
// of theirs, issued by s.
func (c *cluster) admin(s *server) string {
	c.t.Helper()
	c.cli(password+"\n", false, "user", "add", "--email", "root@example.com", "--role", "admin", "--password-stdin")
	return s.accessLogin("root@example.com")
}

// kill ends the server with SIGKILL, as a crash would: no shutdown, no
// goodbye to Redis or PostgreSQL.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	err := <-s.done
	s.done <- err // for the cleanup that startArgs registered
}

// alive reports whether the server process is still running.
func (s *server) alive() bool {
	select {
	case err := <-s.done:
		s.done <- err
		return false
	default:
		return true
	}
}

// register creates accounts through self-service sign-up on s.
func (s *server) register(emails ...string) {
	s.t.Helper()
	for _, email := range emails {
		s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": email, "password": password}), 201, "")
	}
}

// signIn signs email in on s in the given mode and returns the reply.
func (s *server) signIn(email, mode string) reply {
	s.t.Helper()
	r := s.call(newClient(), "POST", "/v1/login", map[string]any{"email": email, "password": password, "mode": mode})
	s.want(r, 200, "")
	return r
}

// cookieLogin signs email in for a session on s and returns the session
// cookie's value, which the caller sends to any server of the cluster by
// header (a cookie jar would tie it to s).
func (s *server) cookieLogin(email string) string {
	s.t.Helper()
	r := s.signIn(email, "session")
	ck, err := http.ParseSetCookie(r.header.Get("Set-Cookie"))
	if err != nil || ck.Name != "gatehouse" || ck.Value == "" {
		s.t.Fatalf("login Set-Cookie = %q (%v), want the dev cookie gatehouse", r.header.Get("Set-Cookie"), err)
	}
	return ck.Value
}

// accessLogin signs email in for tokens on s and returns the access
// token.
func (s *server) accessLogin(email string) string {
	s.t.Helper()
	return s.signIn(email, "token").body["access_token"].(string)
}

// withCookie calls s with the session cookie secret in a Cookie header.
func (s *server) withCookie(method, path, secret string) reply {
	s.t.Helper()
	return s.call(newClient(), method, path, nil, "Cookie", "gatehouse="+secret)
}

// verifyCookie and verifyBearer ask s's forward-auth endpoint about a
// credential and return the status.
func (s *server) verifyCookie(secret string) int {
	s.t.Helper()
	return s.withCookie("GET", "/v1/verify", secret).status
}

func (s *server) verifyBearer(access string) int {
	s.t.Helper()
	return s.bearer("GET", "/v1/verify", access).status
}

// ready returns the reply of s's /readyz.
func (s *server) ready() reply {
	s.t.Helper()
	return s.call(newClient(), "GET", "/readyz", nil)
}

// readyzWithin waits until s's /readyz answers status, then checks the
// problem code.
func (s *server) readyzWithin(timeout time.Duration, status int, code string) {
	s.t.Helper()
	var r reply
	eventually(s.t, timeout, fmt.Sprintf("/readyz of %s answering %d", s.url, status), func() bool {
		r = s.ready()
		return r.status == status
	})
	s.want(r, status, code)
}

// readyRedis waits until /readyz answers 200 and reports Redis as state.
func (s *server) readyRedis(timeout time.Duration, state string) {
	s.t.Helper()
	eventually(s.t, timeout, fmt.Sprintf("/readyz of %s reporting Redis %s", s.url, state), func() bool {
		r := s.ready()
		return r.status == 200 && r.body["redis"] == state
	})
}

// expect returns a request to s (with a JSON body unless body is "")
// that must get status, for propagation. It reports a failure as an
// error rather than through the test, so that it can run on a goroutine
// of its own.
func (s *server) expect(status int, method, path, body string, headers ...string) func() error {
	return func() error {
		req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode != status {
			return fmt.Errorf("%s %s: got %d %s, want %d", method, path, res.StatusCode, got, status)
		}
		return nil
	}
}

// signOut returns a sign-out on s with a cookie secret or, when bearer,
// with an access token.
func (s *server) signOut(credential string, bearer bool) func() error {
	if bearer {
		return s.expect(204, "POST", "/v1/logout", "", "Authorization", "Bearer "+credential)
	}
	return s.expect(204, "POST", "/v1/logout", "", "Cookie", "gatehouse="+credential)
}

// propagation measures how long a change takes to be seen. It sends
// change (nil: the change is already made) and, while that request is in
// flight and after, checks each condition of conds every few milliseconds
// until it holds; it returns, by name, how long after the change was sent
// each condition first held. The clock starts when the request is sent,
// not when it is answered, so that a slow answer (a sign-out that waits
// for an unreachable Redis, say) does not hide a slow propagation. A
// condition that has not held by limit fails the test; the checks go on
// until max(limit, 5s) so that the failure says how late it was.
func propagation(t *testing.T, limit time.Duration, change func() error, conds map[string]func() bool) map[string]time.Duration {
	t.Helper()
	since := time.Now()
	sent := make(chan error, 1)
	if change != nil {
		go func() { sent <- change() }()
	} else {
		sent <- nil
	}
	took := map[string]time.Duration{}
	deadline := since.Add(max(limit, 5*time.Second))
	for len(took) < len(conds) && time.Now().Before(deadline) {
		for name, cond := range conds {
			if _, done := took[name]; !done && cond() {
				took[name] = time.Since(since)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	for name := range conds {
		d, ok := took[name]
		switch {
		case !ok:
			t.Errorf("%s: not seen after %v, want within %v", name, time.Since(since).Round(time.Millisecond), limit)
		case d >= limit:
			t.Errorf("%s: took %v, want less than %v", name, d.Round(time.Millisecond), limit)
		default:
			t.Logf("%s: %v", name, d.Round(time.Millisecond))
		}
	}
	return took
}
