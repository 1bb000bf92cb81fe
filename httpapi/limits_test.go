package httpapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
)

func TestJSONDepthLimit(t *testing.T) {
	e := newEnv(t, options{})
	body := func(depth int) string {
		return `{"email":"ada@example.com","password":"` + pw + `","x":` +
			strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
	}
	wantProblem(t, e.do(e.srv.Client(), "POST", "/v1/users", body(httpapi.MaxJSONDepth+1)), 400, "invalid_request")
	if r := e.do(e.srv.Client(), "POST", "/v1/users", body(httpapi.MaxJSONDepth)); r.status != 201 {
		t.Fatalf("a body exactly %d deep: %d %s", httpapi.MaxJSONDepth, r.status, r.body)
	}
	// Brackets inside strings do not count.
	deepString := `{"email":"bob@example.com","password":"` + pw + `","x":"` + strings.Repeat("[{", 100) + `\"]"}`
	if r := e.do(e.srv.Client(), "POST", "/v1/users", deepString); r.status != 201 {
		t.Fatalf("brackets in a string counted as depth: %d %s", r.status, r.body)
	}
}

// A user's logins are capped; a new one beyond the cap ends the oldest,
// with an audit event.
func TestMaxLoginsPerUser(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	first := e.client()
	e.login(first, "ada@example.com")
	for range gatehouse.MaxLoginsPerUser - 1 {
		e.clock.Advance(time.Millisecond)
		e.tokenLogin("ada@example.com")
	}
	if r := e.do(first, "GET", "/v1/me", nil); r.status != 200 {
		t.Fatalf("the oldest login ended before the cap: %d", r.status)
	}
	e.clock.Advance(time.Millisecond)
	newest := e.client()
	e.login(newest, "ada@example.com")
	wantProblem(t, e.do(first, "GET", "/v1/me", nil), 401, "unauthenticated")
	list := e.do(newest, "GET", "/v1/sessions", nil).json(t)["sessions"].([]any)
	if len(list) != gatehouse.MaxLoginsPerUser {
		t.Errorf("%d live logins, want %d", len(list), gatehouse.MaxLoginsPerUser)
	}
	events, _, _ := e.svc.Audit(context.Background(), gatehouse.AuditQuery{UserID: e.userID("ada@example.com"), Limit: 3})
	if !slices.ContainsFunc(events, func(ev gatehouse.AuditEvent) bool { return ev.Type == gatehouse.EventSessionEvicted }) {
		t.Errorf("no %s event among %v", gatehouse.EventSessionEvicted, events)
	}
}

// A wrong email and a wrong password take the same time: the unknown
// email is checked against a dummy hash with the same parameters. Without
// it, a wrong email would answer some thirty times sooner (no hash at
// all); the test fails when the medians of interleaved samples differ by
// more than half, a margin that the noise of a loaded machine stays within.
func TestLoginTimingDoesNotRevealEmails(t *testing.T) {
	params := password.Params{Memory: 8 << 10, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	e := newEnv(t, options{svc: gatehouse.Config{
		Hasher: password.NewHasher(params, 1, time.Minute),
		Limits: gatehouse.Limits{AccountFailures: 1000, AddressFailures: 1000},
	}})
	e.register("ada@example.com")
	c := e.srv.Client()
	measure := func(email string) time.Duration {
		start := time.Now()
		r := e.do(c, "POST", "/v1/login", map[string]any{"email": email, "password": "not the password", "mode": "session"})
		if r.status != 401 {
			t.Fatalf("status %d", r.status)
		}
		return time.Since(start)
	}
	measure("warm@example.com")
	var known, unknown []time.Duration
	for range 25 {
		known = append(known, measure("ada@example.com"))
		unknown = append(unknown, measure("nobody@example.com"))
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	k, u := median(known), median(unknown)
	diff := k - u
	if diff < 0 {
		diff = -diff
	}
	t.Logf("median login: wrong password %v, wrong email %v", k, u)
	if diff > max(k, u)/2 {
		t.Errorf("wrong password takes %v and wrong email %v: the difference reveals which emails exist", k, u)
	}
}
