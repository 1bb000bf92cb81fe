package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The findings of an outside review, each reproduced against the built
// binary: these tests failed on the code the review tried.

// signInFrom signs email in from a client address given by
// X-Forwarded-For (the server trusts loopback as its proxy) and returns
// the status; it is safe to call from several goroutines.
func (s *server) signInFrom(email, pw, addr string) (int, http.Header, error) {
	body, _ := json.Marshal(map[string]any{"email": email, "password": pw, "mode": "token"})
	req, _ := http.NewRequest("POST", s.url+"/v1/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	res.Body.Close()
	return res.StatusCode, res.Header, nil
}

// auditCount adds an admin, signs in as them and counts the audit events
// of a type and detail for a user.
func (s *server) auditCount(userID, typ, detail string) int {
	s.t.Helper()
	cli(s.t, password+"\n", nil, "user", "add", "--db", s.db, "--email", "auditor@example.com", "--role", "admin", "--password-stdin")
	access := s.signIn("auditor@example.com", "token").body["access_token"].(string)
	r := s.bearer("GET", "/v1/admin/audit?limit=500&user="+userID, access)
	s.want(r, 200, "")
	n := 0
	for _, e := range r.body["events"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == typ && ev["detail"] == detail {
			n++
		}
	}
	return n
}

// userID registers email and returns the new user's id.
func (s *server) userID(email string) string {
	s.t.Helper()
	r := s.call(newClient(), "POST", "/v1/users", map[string]string{"email": email, "password": password})
	s.want(r, 201, "")
	return r.body["id"].(string)
}

// Finding 1: the lockout holds however many guesses arrive at once.
func TestSecurityParallelGuesses(t *testing.T) {
	s := start(t, "", "--trusted-proxies", "127.0.0.1/32")
	victim := s.userID("victim@example.com")

	const guesses = 200
	statuses := make([]int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			status, h, err := s.signInFrom("victim@example.com", fmt.Sprintf("wrong guess number %d", i), "198.51.100.7")
			if err != nil {
				t.Error(err)
			}
			if status == 429 && h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			statuses[i] = status
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	// A checked guess may also wait too long for a hashing slot on a
	// loaded machine (503, counted all the same); none gets in.
	if counts[401]+counts[429]+counts[503] != guesses || counts[429] < guesses-10 {
		t.Errorf("statuses %v, want only 401, 429 and 503, at least %d of them 429", counts, guesses-10)
	}
	// The right password from the guessing address waits too...
	if status, _, _ := s.signInFrom("victim@example.com", password, "198.51.100.7"); status != 429 {
		t.Errorf("right password from the locked address: %d, want 429", status)
	}
	// ...while the owner signs in from elsewhere.
	if status, _, _ := s.signInFrom("victim@example.com", password, "203.0.113.5"); status != 200 {
		t.Errorf("owner from another address: %d, want 200", status)
	}
	// login.failed counts the passwords checked: at most 10.
	if n := s.auditCount(victim, "login.failed", ""); n < 1 || n > 10 {
		t.Errorf("%d login.failed events, want 1 to 10", n)
	}
}

// Finding 2: IPv6 clients are counted by their /64, for logins and
// registrations alike.
func TestSecurityIPv6Network(t *testing.T) {
	s := start(t, "", "--trusted-proxies", "127.0.0.1/32", "--limit-registrations", "3")
	s.register("victim@example.com")
	var statuses []int
	for i := 1; i <= 12; i++ {
		status, _, err := s.signInFrom("victim@example.com", "a wrong password", fmt.Sprintf("2001:db8:0:1::%x", i))
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, status)
	}
	if statuses[8] != 401 || statuses[10] != 429 || statuses[11] != 429 {
		t.Errorf("12 guesses from one /64: %v, want 401 at first and 429 from the 11th", statuses)
	}
	if status, _, _ := s.signInFrom("victim@example.com", password, "2001:db8:0:2::1"); status != 200 {
		t.Errorf("right password from another /64: %d, want 200", status)
	}

	register := func(i int, addr string) int {
		r := s.call(newClient(), "POST", "/v1/users",
			map[string]string{"email": fmt.Sprintf("new%d@example.com", i), "password": password}, "X-Forwarded-For", addr)
		return r.status
	}
	for i := 1; i <= 3; i++ {
		if st := register(i, fmt.Sprintf("2001:db8:0:3::%x", i)); st != 201 {
			t.Fatalf("registration %d: %d, want 201", i, st)
		}
	}
	if st := register(4, "2001:db8:0:3:ffff::4"); st != 429 {
		t.Errorf("4th registration from one /64: %d, want 429", st)
	}
	if st := register(5, "2001:db8:0:4::1"); st != 201 {
		t.Errorf("registration from another /64: %d, want 201", st)
	}
}

// stream opens the revocation feed as an event stream with the given
// credential header and returns a channel that receives what it delivers
// and is closed when the server ends the stream.
func (s *server) stream(header, value string) <-chan string {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url+"/v1/revocations", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set(header, value)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	if res.StatusCode != 200 {
		s.t.Fatalf("stream: %d", res.StatusCode)
	}
	out := make(chan string, 100)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			out <- sc.Text()
		}
	}()
	s.t.Cleanup(func() { res.Body.Close() })
	return out
}

// endsWithout waits up to 3 s for the stream to end and fails if it
// delivered a line holding any of the given strings.
func endsWithout(t *testing.T, lines <-chan string, never ...string) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return
			}
			for _, n := range never {
				if strings.Contains(l, n) {
					t.Errorf("the stream delivered %q after its login ended", l)
				}
			}
		case <-deadline:
			t.Fatal("the stream was still open 3 s after its login ended")
		}
	}
}

// Finding 3: a revocation feed stream ends with its own login.
func TestSecurityFeedStreamEnds(t *testing.T) {
	s := start(t, "", "--session-idle", "4s")
	cli(t, password+"\n", nil, "user", "add", "--db", s.db, "--email", "svc@example.com", "--role", "service", "--password-stdin")
	s.register("other@example.com")
	// signOutOther revokes another user's login, which a live stream
	// would deliver.
	signOutOther := func() string {
		r := s.signIn("other@example.com", "session")
		sid := r.body["session"].(map[string]any)["id"].(string)
		cookie := strings.SplitN(r.header.Get("Set-Cookie"), ";", 2)[0]
		s.want(s.call(newClient(), "POST", "/v1/logout", nil, "Cookie", cookie), 204, "")
		return sid
	}

	t.Run("logout", func(t *testing.T) {
		secret := s.cookieLogin("svc@example.com")
		lines := s.stream("Cookie", "gatehouse="+secret)
		s.want(s.withCookie("POST", "/v1/logout", secret), 204, "")
		endsWithout(t, lines, signOutOther())
	})
	t.Run("token logout", func(t *testing.T) {
		access := s.accessLogin("svc@example.com")
		lines := s.stream("Authorization", "Bearer "+access)
		s.want(s.bearer("POST", "/v1/logout", access), 204, "")
		endsWithout(t, lines, signOutOther())
	})
	t.Run("role lost", func(t *testing.T) {
		access := s.accessLogin("svc@example.com")
		lines := s.stream("Authorization", "Bearer "+access)
		nextSecond() // a change in the token's own second would not stale it
		if _, stderr, code := cli(t, "", nil, "user", "roles", "--db", s.db, "svc@example.com", "--set", "customer"); code != 0 {
			t.Fatal(stderr)
		}
		endsWithout(t, lines, signOutOther())
		cli(t, "", nil, "user", "roles", "--db", s.db, "svc@example.com", "--set", "service")
	})
	t.Run("user disabled", func(t *testing.T) {
		secret := s.cookieLogin("svc@example.com")
		lines := s.stream("Cookie", "gatehouse="+secret)
		if _, stderr, code := cli(t, "", nil, "user", "disable", "--db", s.db, "svc@example.com"); code != 0 {
			t.Fatal(stderr)
		}
		endsWithout(t, lines, signOutOther())
		cli(t, "", nil, "user", "enable", "--db", s.db, "svc@example.com")
	})
	t.Run("idle", func(t *testing.T) {
		secret := s.cookieLogin("svc@example.com")
		lines := s.stream("Cookie", "gatehouse="+secret)
		time.Sleep(3 * time.Second) // the stream itself is no activity
		endsWithout(t, lines)
		if st := s.verifyCookie(secret); st != 401 {
			t.Errorf("the idle session after its stream: verify %d, want 401", st)
		}
	})
}

// Finding 4: an admin of users cannot grant what they do not hold.
func TestSecurityRolesNotWidened(t *testing.T) {
	roles := filepath.Join(t.TempDir(), "roles.json")
	os.WriteFile(roles, []byte(`{"support":["users:admin"]}`), 0o600)
	s := start(t, "", "--roles", roles)
	if _, stderr, code := cli(t, password+"\n", nil, "user", "add", "--db", s.db, "--roles", roles,
		"--email", "support@example.com", "--role", "support", "--password-stdin"); code != 0 {
		t.Fatal(stderr)
	}
	other := s.userID("customer@example.com")
	access := s.accessLogin("support@example.com")
	me := s.bearer("GET", "/v1/me", access)
	self := me.body["user"].(map[string]any)["id"].(string)

	patch := func(id, body string) reply {
		return s.call(newClient(), "PATCH", "/v1/admin/users/"+id, json.RawMessage(body), "Authorization", "Bearer "+access)
	}
	s.want(patch(self, `{"roles":["admin"]}`), 403, "forbidden")
	s.want(patch(self, `{"roles":["support","customer"]}`), 403, "forbidden")
	s.want(patch(other, `{"roles":["admin"],"disabled":true}`), 403, "forbidden")
	s.want(s.bearer("GET", "/v1/admin/audit", access), 403, "forbidden")
	r := s.bearer("GET", "/v1/me", access)
	s.want(r, 200, "")
	if got := fmt.Sprint(r.body["user"].(map[string]any)["roles"]); got != "[support]" {
		t.Errorf("support's roles after the refusals: %s", got)
	}
	// What support holds, it may give; what it takes away is no grant.
	r = patch(other, `{"roles":["support"]}`)
	s.want(r, 200, "")
	if r.body["disabled"] != false {
		t.Errorf("the refused change disabled the user: %s", r.raw)
	}
	s.want(patch(other, `{"roles":[]}`), 200, "")
	// The operator at the command line may grant anything.
	if _, stderr, code := cli(t, "", nil, "user", "roles", "--db", s.db, "--roles", roles, "support@example.com", "--set", "admin"); code != 0 {
		t.Errorf("CLI grant of admin: %s", stderr)
	}
}

// Finding 5: a stolen session guesses the current password no faster
// than a stranger guesses at the login.
func TestSecurityPasswordChangeThrottled(t *testing.T) {
	s := start(t, "")
	id := s.userID("ada@example.com")
	secret := s.cookieLogin("ada@example.com")
	change := func(current string) reply {
		return s.call(newClient(), "PUT", "/v1/me/password",
			map[string]string{"current_password": current, "new_password": "another long passphrase"}, "Cookie", "gatehouse="+secret)
	}
	var statuses []int
	for i := range 12 {
		statuses = append(statuses, change(fmt.Sprintf("wrong guess %d", i)).status)
	}
	if statuses[0] != 401 || statuses[10] != 429 || statuses[11] != 429 {
		t.Errorf("12 wrong current passwords: %v, want 401 then 429", statuses)
	}
	s.want(change(password), 429, "too_many_attempts")
	if n := s.auditCount(id, "login.failed", "password change"); n < 9 || n > 10 {
		t.Errorf("%d login.failed events for the password change, want 9 or 10", n)
	}
}

// Finding 6: /v1/verify never answers 200 to a query it cannot read.
func TestSecurityVerifyQuery(t *testing.T) {
	s := start(t, "")
	s.register("ada@example.com")
	secret := s.cookieLogin("ada@example.com")
	verify := func(query string) reply {
		return s.call(newClient(), "GET", "/v1/verify?"+query, nil, "Cookie", "gatehouse="+secret)
	}
	for _, q := range []string{
		"permission=users:admin%zz", "permission=users:admin;x", "permission=users:admin%",
		"permission=&permission=users:admin", "Permission=users:admin", "permission=",
		"permission=cart:read&permission=cart:read", "perm=users:admin", "permission",
	} {
		t.Run(q, func(t *testing.T) { s.want(verify(q), 400, "invalid_request") })
	}
	s.want(verify("permission=users:admin"), 403, "forbidden")
	s.want(verify("permission=cart:read"), 200, "")
	s.want(s.withCookie("GET", "/v1/verify", secret), 200, "")
}

// Finding 7: X-Forwarded-For entries may carry a port.
func TestSecurityForwardedPort(t *testing.T) {
	s := start(t, "", "--trusted-proxies", "127.0.0.1/32")
	s.register("ada@example.com")
	for hop, want := range map[string]string{
		"198.51.100.7:4444":    "198.51.100.7",
		"[2001:db8::1]:4444":   "2001:db8::1",
		"192.0.2.1, 127.0.0.1": "192.0.2.1",
	} {
		r := s.call(newClient(), "POST", "/v1/login",
			map[string]any{"email": "ada@example.com", "password": password, "mode": "token"}, "X-Forwarded-For", hop)
		s.want(r, 200, "")
		sessions := s.bearer("GET", "/v1/sessions", r.body["access_token"].(string))
		for _, l := range sessions.body["sessions"].([]any) {
			if l := l.(map[string]any); l["current"] == true && l["ip"] != want {
				t.Errorf("X-Forwarded-For %q: the login's address is %v, want %s", hop, l["ip"], want)
			}
		}
	}
}

// Finding 8: free text is text.
func TestSecurityDeviceText(t *testing.T) {
	s := start(t, "")
	s.register("ada@example.com")
	for name, body := range map[string]string{
		"ANSI escape":   `"device":"\u001b[31mred"`,
		"CR":            `"device":"a\rb"`,
		"NUL":           `"device":"a\u0000b"`,
		"tab":           `"device":"a\tb"`,
		"C1":            `"device":"a\u009bb"`,
		"bidi override": `"device":"a\u202eb"`,
		"invalid UTF-8": "\"device\":\"a\xffb\"",
	} {
		t.Run(name, func(t *testing.T) {
			raw := `{"email":"ada@example.com","password":"` + password + `","mode":"session",` + body + `}`
			req, _ := http.NewRequest("POST", s.url+"/v1/login", strings.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 400 || res.Header.Get("Set-Cookie") != "" {
				t.Errorf("login with device %s: %d, cookie %q; want 400 and no cookie", name, res.StatusCode, res.Header.Get("Set-Cookie"))
			}
		})
	}
	out, _, _ := cli(t, "", nil, "sessions", "list", "--db", s.db, "--email", "ada@example.com")
	if n := len(lines(out)); n != 1 {
		t.Errorf("sessions list after refused logins:\n%s", out)
	}
	s.want(s.call(newClient(), "POST", "/v1/login",
		map[string]any{"email": "ada@example.com", "password": password, "mode": "session", "device": "Ada's phone ☎"}), 200, "")
}
