package e2e_test

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Crash safety: a server killed with SIGKILL in the middle of a mixed load
// and restarted on the same database keeps every write it acknowledged,
// and leaves nothing half-written behind.
//
// Only an acknowledged result is a promise: a response read in full before
// the kill. A request in flight at the kill may or may not have taken
// effect, and the checks accept either outcome for it (and then remember
// which one happened, for the next cycle).

// crashCycles is how many times each store is killed and restarted.
const crashCycles = 3

// crashFlags are the serve flags of the crash tests. A fixed issuer keeps
// tokens valid across restarts on new ports. The throttles are lifted so
// that the load is not refused. The refresh grace is long because a
// refresh in flight at the kill may have rotated the token without the
// client hearing of it: the client can then only present the old token
// again, which the grace answers with the same successor; with the
// default 10s the answer would depend on how fast the restart and the
// checks are.
var crashFlags = []string{
	"--issuer", "http://gatehouse.crash",
	"--refresh-grace", "10m",
	"--limit-refreshes", "1000000",
	"--limit-registrations", "1000000",
}

func TestCrashSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	// The file is opened read-only so that the check does not itself
	// recover the write-ahead log: the restarted server must.
	runCrashCycles(t, db, "sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
}

func TestCrashPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	// PostgreSQL needs the deployment secret; every restart gets the same.
	t.Setenv("GATEHOUSE_SECRET", rand.Text()+rand.Text())
	runCrashCycles(t, url, "pgx", url)
}

// crashUser is an account whose creation was acknowledged (201).
type crashUser struct {
	email, password string
}

// crashSession is a session login acknowledged with its cookie.
type crashSession struct {
	user       *crashUser
	id, secret string
	loggedOut  bool   // a logout was acknowledged (204)
	pending    string // "logout" when a logout was in flight at the kill
	busy       bool   // a worker is using it
}

// crashChain is a token login and the newest refresh token acknowledged
// for it.
type crashChain struct {
	user                *crashUser
	id, refresh, access string
	refreshes           int
	loggedOut           bool
	pending             string // "refresh" or "logout" when in flight at the kill
	busy                bool
}

// crashModel is what the server acknowledged. Workers change it under mu.
type crashModel struct {
	mu       sync.Mutex
	users    []*crashUser
	sessions []*crashSession
	chains   []*crashChain
	emails   int
}

// crashTally counts one cycle's acknowledged writes and in-flight requests.
type crashTally struct {
	registered, sessionLogins, tokenLogins, refreshes, logouts, inFlight, unavailable atomic.Int64
}

func (c *crashTally) String() string {
	return fmt.Sprintf("acknowledged: %d registrations, %d session logins, %d token logins, %d refreshes, %d logouts; %d busy (503); %d in flight at the kill",
		c.registered.Load(), c.sessionLogins.Load(), c.tokenLogins.Load(), c.refreshes.Load(), c.logouts.Load(), c.unavailable.Load(), c.inFlight.Load())
}

// crashClient sends requests to the server at base. Unlike server.call
// it returns transport errors: the kill makes them.
type crashClient struct {
	http *http.Client
	base string
}

type crashReply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (c crashClient) do(method, path string, body any, headers ...string) (crashReply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return crashReply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return crashReply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return crashReply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return crashReply{}, err // a response cut short is no acknowledgement
	}
	r := crashReply{status: res.StatusCode, header: res.Header, raw: raw}
	json.Unmarshal(raw, &r.body)
	return r, nil
}

func (r crashReply) str(keys ...string) string {
	var v any = r.body
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func (r crashReply) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// cookie returns the session secret the reply sets ("" if none).
func (r crashReply) cookie() string {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "gatehouse" { // the --dev cookie
			return c.Value
		}
	}
	return ""
}

func newCrashClient(base string) crashClient {
	return crashClient{base: base, http: &http.Client{
		Timeout:   20 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
	}}
}

func runCrashCycles(t *testing.T, db, driver, dsn string) {
	seed := mrand.Uint64()
	t.Logf("random seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 0))
	m := &crashModel{}
	s := start(t, db, crashFlags...)
	for cycle := 1; cycle <= crashCycles; cycle++ {
		t0 := time.Now()
		load := time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
		tally := crashLoad(t, s, m, cycle, load, rng.Uint64())
		t.Logf("cycle %d: killed after %v of load; %v", cycle, load.Round(time.Millisecond), tally)
		if t.Failed() {
			return
		}
		crashCheckDatabase(t, driver, dsn)
		s = start(t, db, crashFlags...)
		crashVerify(t, s, m)
		t.Logf("cycle %d: restarted and checked %d users, %d sessions, %d token logins in %v",
			cycle, len(m.users), len(m.sessions), len(m.chains), time.Since(t0).Round(time.Millisecond))
		if t.Failed() {
			return
		}
	}
}

// crashLoad runs a mixed load against s from several workers and
// SIGKILLs s after d, while the workers are still busy. It records every
// acknowledged write in m.
func crashLoad(t *testing.T, s *server, m *crashModel, cycle int, d time.Duration, seed uint64) *crashTally {
	const workers = 7
	var (
		killed atomic.Bool
		tally  crashTally
		wg     sync.WaitGroup
	)
	c := newCrashClient(s.url)
	defer c.http.CloseIdleConnections()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := &crashWorker{t: t, c: c, m: m, tally: &tally, killed: &killed,
				rng: mrand.New(mrand.NewPCG(seed, uint64(w))), name: fmt.Sprintf("c%dw%d", cycle, w), hashes: w < 2}
			for !killed.Load() && lw.step() {
			}
		}()
	}
	time.Sleep(d)
	killed.Store(true)
	crashKill(t, s)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the load did not stop within 30s of the kill")
	}
	return &tally
}

// crashKill sends SIGKILL to s and waits until it is gone. It fails the
// test if s had exited on its own.
func crashKill(t *testing.T, s *server) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGKILL)
	var err error
	select {
	case err = <-s.done:
		s.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("gatehouse did not die within 10s of SIGKILL")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("gatehouse exited with %v before the kill\n%s", err, s.logs)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("gatehouse exited with %v before the kill\n%s", err, s.logs)
	}
}

// crashWorker is one client of the load.
type crashWorker struct {
	t      *testing.T
	c      crashClient
	m      *crashModel
	tally  *crashTally
	killed *atomic.Bool
	rng    *mrand.Rand
	name   string
	hashes bool // registers and logs in, rather than refreshing and logging out
}

// step runs one operation and reports whether the worker should go on.
// Registrations and logins hash a password (about 0.2s each in the race
// build, two at a time), refreshes and logouts are cheap: two workers
// hash, the others refresh and log out, so that every kind of write is in
// flight at the kill. Logouts are rare enough that the logins keep up.
func (w *crashWorker) step() bool {
	p := w.rng.IntN(100)
	if w.hashes {
		switch {
		case p < 30:
			return w.register()
		case p < 65:
			return w.login("session")
		default:
			return w.login("token")
		}
	}
	switch {
	case p < 94:
		return w.refresh()
	case p < 97:
		return w.logoutSession()
	default:
		return w.logoutToken()
	}
}

// idle waits a little when there is nothing to refresh or log out yet.
func (w *crashWorker) idle() bool {
	time.Sleep(5 * time.Millisecond)
	return true
}

// failed handles a transport error: after the kill the request was in
// flight (mark records that, when it is not nil); before it, the error
// is a failure. Either way the worker stops.
func (w *crashWorker) failed(what string, err error, mark func()) bool {
	if !w.killed.Load() {
		w.t.Errorf("%s %s: %v (before the kill)", w.name, what, err)
		return false
	}
	w.tally.inFlight.Add(1)
	if mark != nil {
		w.m.mu.Lock()
		mark()
		w.m.mu.Unlock()
	}
	return false
}

// unexpected reports a reply the contract does not allow here. A 503
// (hashing at capacity) is the contract's answer to overload, not a bug.
func (w *crashWorker) unexpected(what string, r crashReply) bool {
	if r.status == http.StatusServiceUnavailable && r.str("code") == "unavailable" {
		w.tally.unavailable.Add(1)
		return true
	}
	w.t.Errorf("%s %s: %v", w.name, what, r)
	return false
}

func (w *crashWorker) register() bool {
	w.m.mu.Lock()
	w.m.emails++
	u := &crashUser{email: fmt.Sprintf("crash-%s-%d@example.com", w.name, w.m.emails), password: fmt.Sprintf("crash test passphrase %d", w.rng.Int())}
	w.m.mu.Unlock()
	r, err := w.c.do("POST", "/v1/users", map[string]string{"email": u.email, "password": u.password})
	if err != nil {
		return w.failed("register", err, nil)
	}
	if r.status != http.StatusCreated {
		return w.unexpected("register", r)
	}
	w.m.mu.Lock()
	w.m.users = append(w.m.users, u)
	w.m.mu.Unlock()
	w.tally.registered.Add(1)
	return true
}

func (w *crashWorker) login(mode string) bool {
	w.m.mu.Lock()
	var u *crashUser
	if len(w.m.users) > 0 {
		u = w.m.users[w.rng.IntN(len(w.m.users))]
	}
	w.m.mu.Unlock()
	if u == nil {
		return w.register()
	}
	r, err := w.c.do("POST", "/v1/login", map[string]any{"email": u.email, "password": u.password, "mode": mode})
	if err != nil {
		return w.failed(mode+" login", err, nil)
	}
	if r.status != http.StatusOK {
		return w.unexpected(mode+" login", r)
	}
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if mode == "session" {
		secret := r.cookie()
		if secret == "" || r.str("session", "id") == "" {
			w.t.Errorf("%s session login: no cookie or session id: %v", w.name, r)
			return false
		}
		w.m.sessions = append(w.m.sessions, &crashSession{user: u, id: r.str("session", "id"), secret: secret})
		w.tally.sessionLogins.Add(1)
		return true
	}
	ch := &crashChain{user: u, id: r.str("session", "id"), refresh: r.str("refresh_token"), access: r.str("access_token")}
	if ch.id == "" || ch.refresh == "" || ch.access == "" {
		w.t.Errorf("%s token login: incomplete reply %v", w.name, r)
		return false
	}
	w.m.chains = append(w.m.chains, ch)
	w.tally.tokenLogins.Add(1)
	return true
}

// claim picks a random element of list that ok accepts and marks it busy
// with take; it returns false when there is none.
func claim[T any](w *crashWorker, list []T, ok func(T) bool, take func(T)) (T, bool) {
	var zero T
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	var idle []T
	for _, x := range list {
		if ok(x) {
			idle = append(idle, x)
		}
	}
	if len(idle) == 0 {
		return zero, false
	}
	x := idle[w.rng.IntN(len(idle))]
	take(x)
	return x, true
}

func (w *crashWorker) chain() (*crashChain, bool) {
	w.m.mu.Lock()
	list := w.m.chains
	w.m.mu.Unlock()
	return claim(w, list, func(c *crashChain) bool { return !c.busy && !c.loggedOut && c.pending == "" },
		func(c *crashChain) { c.busy = true })
}

func (w *crashWorker) release(f func()) {
	w.m.mu.Lock()
	f()
	w.m.mu.Unlock()
}

func (w *crashWorker) refresh() bool {
	ch, ok := w.chain()
	if !ok {
		return w.idle()
	}
	defer w.release(func() { ch.busy = false })
	r, err := w.c.do("POST", "/v1/token/refresh", map[string]string{"refresh_token": ch.refresh})
	if err != nil {
		return w.failed("refresh", err, func() { ch.pending = "refresh" })
	}
	if r.status != http.StatusOK {
		return w.unexpected("refresh of login "+ch.id, r)
	}
	if r.str("session", "id") != ch.id || r.str("refresh_token") == "" || r.str("refresh_token") == ch.refresh {
		w.t.Errorf("%s refresh of login %s: %v", w.name, ch.id, r)
		return false
	}
	w.release(func() { ch.refresh, ch.access = r.str("refresh_token"), r.str("access_token"); ch.refreshes++ })
	w.tally.refreshes.Add(1)
	return true
}

func (w *crashWorker) logoutSession() bool {
	w.m.mu.Lock()
	list := w.m.sessions
	w.m.mu.Unlock()
	se, ok := claim(w, list, func(s *crashSession) bool { return !s.busy && !s.loggedOut && s.pending == "" },
		func(s *crashSession) { s.busy = true })
	if !ok {
		return w.idle()
	}
	defer w.release(func() { se.busy = false })
	r, err := w.c.do("POST", "/v1/logout", nil, "Cookie", "gatehouse="+se.secret)
	if err != nil {
		return w.failed("session logout", err, func() { se.pending = "logout" })
	}
	if r.status != http.StatusNoContent {
		return w.unexpected("logout of session "+se.id, r)
	}
	w.release(func() { se.loggedOut = true })
	w.tally.logouts.Add(1)
	return true
}

func (w *crashWorker) logoutToken() bool {
	ch, ok := w.chain()
	if !ok {
		return w.idle()
	}
	defer w.release(func() { ch.busy = false })
	r, err := w.c.do("POST", "/v1/logout", nil, "Authorization", "Bearer "+ch.access)
	if err != nil {
		return w.failed("token logout", err, func() { ch.pending = "logout" })
	}
	if r.status != http.StatusNoContent {
		return w.unexpected("logout of token login "+ch.id, r)
	}
	w.release(func() { ch.loggedOut = true })
	w.tally.logouts.Add(1)
	return true
}

// crashVerify checks, on the restarted server s, that every acknowledged
// write survived, and settles what was in flight at the kill.
func crashVerify(t *testing.T, s *server, m *crashModel) {
	t.Helper()
	c := newCrashClient(s.url)
	defer c.http.CloseIdleConnections()
	var checks []func() error
	// Every acknowledged account signs in with its password, in either
	// mode. The new logins are acknowledged too: they join the model, for
	// the next cycle's load and checks.
	var (
		newSessions []*crashSession
		newChains   []*crashChain
		mu          sync.Mutex
	)
	for i, u := range m.users {
		mode := []string{"session", "token"}[i%2]
		checks = append(checks, func() error {
			r, err := crashRetryBusy(func() (crashReply, error) {
				return c.do("POST", "/v1/login", map[string]any{"email": u.email, "password": u.password, "mode": mode})
			})
			if err != nil {
				return fmt.Errorf("%s login of %s: %v", mode, u.email, err)
			}
			if r.status != http.StatusOK {
				return fmt.Errorf("acknowledged user %s cannot sign in: %v", u.email, r)
			}
			mu.Lock()
			defer mu.Unlock()
			if mode == "session" {
				newSessions = append(newSessions, &crashSession{user: u, id: r.str("session", "id"), secret: r.cookie()})
			} else {
				newChains = append(newChains, &crashChain{user: u, id: r.str("session", "id"), refresh: r.str("refresh_token"), access: r.str("access_token")})
			}
			return nil
		})
	}
	// Every acknowledged session works, unless its logout was acknowledged.
	for _, se := range m.sessions {
		checks = append(checks, func() error {
			r, err := c.do("GET", "/v1/me", nil, "Cookie", "gatehouse="+se.secret)
			if err != nil {
				return fmt.Errorf("session %s: %v", se.id, err)
			}
			switch {
			case r.status == http.StatusOK && !se.loggedOut:
				if r.str("auth", "session_id") != se.id || r.str("user", "email") != se.user.email {
					return fmt.Errorf("session %s of %s answers as %v", se.id, se.user.email, r)
				}
				se.pending = "" // a logout in flight did not happen
			case r.status == http.StatusUnauthorized && (se.loggedOut || se.pending == "logout"):
				se.loggedOut, se.pending = true, ""
			case se.loggedOut:
				return fmt.Errorf("session %s was acknowledged logged out, but GET /v1/me answers %v", se.id, r)
			default:
				return fmt.Errorf("acknowledged session %s of %s lost: GET /v1/me answers %v", se.id, se.user.email, r)
			}
			return nil
		})
	}
	// Every token login's newest acknowledged refresh token still
	// refreshes. A refresh in flight at the kill may have rotated it
	// without the client hearing of it: the old token then gets the same
	// successor (the grace), so it must work either way.
	for _, ch := range m.chains {
		checks = append(checks, func() error {
			r, err := c.do("POST", "/v1/token/refresh", map[string]string{"refresh_token": ch.refresh})
			if err != nil {
				return fmt.Errorf("refresh of login %s: %v", ch.id, err)
			}
			switch {
			case r.status == http.StatusOK && !ch.loggedOut:
				if r.str("session", "id") != ch.id || r.str("refresh_token") == "" {
					return fmt.Errorf("refresh of login %s answers %v", ch.id, r)
				}
				ch.refresh, ch.access, ch.pending = r.str("refresh_token"), r.str("access_token"), ""
			case r.status == http.StatusUnauthorized && r.str("code") == "invalid_token" && (ch.loggedOut || ch.pending == "logout"):
				ch.loggedOut, ch.pending = true, ""
			case ch.loggedOut:
				return fmt.Errorf("token login %s was acknowledged logged out, but its refresh token answers %v", ch.id, r)
			case ch.pending == "refresh":
				return fmt.Errorf("token login %s (a refresh in flight at the kill, after %d acknowledged): its newest acknowledged refresh token answers %v", ch.id, ch.refreshes, r)
			default:
				return fmt.Errorf("token login %s of %s lost: its newest acknowledged refresh token (after %d refreshes) answers %v", ch.id, ch.user.email, ch.refreshes, r)
			}
			return nil
		})
	}
	errs := make(chan error, len(checks))
	work := make(chan func() error)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := f(); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, f := range checks {
		work <- f
	}
	close(work)
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 20 {
			t.Error(err)
		}
	}
	if n > 20 {
		t.Errorf("... and %d more", n-20)
	}
	m.sessions = append(m.sessions, newSessions...)
	m.chains = append(m.chains, newChains...)
}

// crashRetryBusy retries f while the server answers 503 (hashing at
// capacity), for up to ten seconds.
func crashRetryBusy(f func() (crashReply, error)) (crashReply, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := f()
		if err != nil || r.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return r, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// crashInvariants are queries (the same in SQLite and PostgreSQL) that
// count what a half-done write would leave behind; each must count 0.
var crashInvariants = []struct{ what, query string }{
	{"users without a password hash",
		`SELECT count(*) FROM users WHERE password_hash IS NULL OR password_hash NOT LIKE '$argon2id$v=19$%'`},
	{"users without their user.created audit event",
		`SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.user_id = u.id AND a.type = 'user.created')`},
	{"logins without their user",
		`SELECT count(*) FROM logins l WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = l.user_id)`},
	{"session logins without a secret hash",
		`SELECT count(*) FROM logins WHERE mode = 'session' AND secret_hash IS NULL`},
	{"refresh tokens without their login",
		`SELECT count(*) FROM refresh_tokens r WHERE NOT EXISTS (SELECT 1 FROM logins l WHERE l.id = r.login_id)`},
	{"token logins without an unused refresh token",
		`SELECT count(*) FROM logins l WHERE l.mode = 'token' AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.login_id = l.id AND r.used_at = 0)`},
	{"token logins with more than one unused refresh token",
		`SELECT count(*) FROM (SELECT login_id FROM refresh_tokens WHERE used_at = 0 GROUP BY login_id HAVING count(*) > 1) x`},
	{"revoked logins still present",
		`SELECT count(*) FROM logins l WHERE EXISTS (SELECT 1 FROM revocations r WHERE r.login_id = l.id)`},
	{"logout audit events without their revocation",
		`SELECT count(*) FROM audit_events a WHERE a.type = 'logout' AND NOT EXISTS (SELECT 1 FROM revocations r WHERE 'session=' || r.login_id = a.detail)`},
}

// crashCheckDatabase opens the database of the killed server directly and
// checks crashInvariants.
func crashCheckDatabase(t *testing.T, driver, dsn string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var users, logins, tokens int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM logins), (SELECT count(*) FROM refresh_tokens)`).Scan(&users, &logins, &tokens); err != nil {
		t.Fatalf("reading the database after the kill: %v", err)
	}
	t.Logf("database after the kill: %d users, %d logins, %d refresh tokens", users, logins, tokens)
	for _, inv := range crashInvariants {
		var n int
		if err := db.QueryRow(inv.query).Scan(&n); err != nil {
			t.Errorf("%s: %v", inv.what, err)
		} else if n != 0 {
			t.Errorf("after the kill, the database holds %d %s", n, inv.what)
		}
	}
}
