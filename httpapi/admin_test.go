package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// adminEnv has an admin signed in with a session, and a customer.
func adminEnv(t *testing.T) (*env, *http.Client, *http.Client) {
	t.Helper()
	e := newEnv(t, options{})
	if _, err := e.svc.CreateUser(context.Background(), "root@example.com", pw, []string{"admin"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	e.register("ada@example.com")
	admin, customer := e.client(), e.client()
	e.login(admin, "root@example.com")
	e.login(customer, "ada@example.com")
	return e, admin, customer
}

func (e *env) userID(email string) string {
	e.t.Helper()
	u, err := e.svc.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func TestAdminListUsers(t *testing.T) {
	e, admin, customer := adminEnv(t)
	for i := range 3 {
		e.register(fmt.Sprintf("user%d@example.com", i))
	}
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		r := e.do(admin, "GET", "/v1/admin/users?limit=2&after="+after, nil)
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		body := r.json(t)
		for _, u := range body["users"].([]any) {
			seen = append(seen, u.(map[string]any)["email"].(string))
		}
		next, _ := body["next"].(string)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		after = next
	}
	want := "root@example.com ada@example.com user0@example.com user1@example.com user2@example.com"
	if strings.Join(seen, " ") != want {
		t.Errorf("paged users = %v, want %s", seen, want)
	}
	wantProblem(t, e.do(admin, "GET", "/v1/admin/users?limit=0", nil), 400, "invalid_request")
	wantProblem(t, e.do(admin, "GET", "/v1/admin/users?limit=x", nil), 400, "invalid_request")
	wantProblem(t, e.do(customer, "GET", "/v1/admin/users", nil), 403, "forbidden")
	wantProblem(t, e.do(e.srv.Client(), "GET", "/v1/admin/users", nil), 401, "unauthenticated")
}

func TestAdminPatchUser(t *testing.T) {
	e, admin, customer := adminEnv(t)
	ada := e.userID("ada@example.com")
	token := e.tokenLogin("ada@example.com")["access_token"].(string)

	wantProblem(t, e.do(admin, "PATCH", "/v1/admin/users/"+ada, map[string]any{"roles": []string{"wizard"}}), 400, "invalid_request")
	wantProblem(t, e.do(admin, "PATCH", "/v1/admin/users/"+ada, `{"roles":"admin"}`), 400, "invalid_request")
	wantProblem(t, e.do(admin, "PATCH", "/v1/admin/users/nobody", map[string]any{"disabled": true}), 404, "not_found")
	wantProblem(t, e.do(customer, "PATCH", "/v1/admin/users/"+ada, map[string]any{"roles": []string{"admin"}}), 403, "forbidden")
	if r := e.do(customer, "GET", "/v1/me", nil); r.json(t)["user"].(map[string]any)["roles"].([]any)[0] != "customer" {
		t.Fatal("a refused change changed the roles")
	}

	e.clock.Advance(time.Second) // after the token's second (gatehouse.RolesStale)
	r := e.do(admin, "PATCH", "/v1/admin/users/"+ada, map[string]any{"roles": []string{"service", "customer"}})
	if r.status != 200 || fmt.Sprint(r.json(t)["roles"]) != "[customer service]" {
		t.Fatalf("set roles: %d %s", r.status, r.body)
	}
	// Session mode reads current roles; the token with old roles is stale.
	if perms := e.do(customer, "GET", "/v1/me", nil).json(t)["permissions"].([]any); !contains(perms, "revocations:read") {
		t.Errorf("session permissions after the change = %v", perms)
	}
	wantInvalidToken(t, e.bearer("GET", "/v1/me", token))

	if r := e.do(admin, "PATCH", "/v1/admin/users/"+ada, map[string]any{"disabled": true}); r.status != 200 || r.json(t)["disabled"] != true {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(customer, "GET", "/v1/me", nil), 401, "unauthenticated")

	events, _, _ := e.svc.Audit(context.Background(), gatehouse.AuditQuery{UserID: ada, Limit: 10})
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
		if (ev.Type == "user.disabled" || ev.Type == "user.roles_changed") && !strings.Contains(ev.Detail, "by="+e.userID("root@example.com")) {
			t.Errorf("%s does not name the admin: %q", ev.Type, ev.Detail)
		}
	}
	if types[0] != "user.disabled" || !strings.Contains(strings.Join(types, " "), "user.roles_changed") {
		t.Errorf("audit = %v", types)
	}
}

func TestAdminRevokeSessionsAndAudit(t *testing.T) {
	e, admin, customer := adminEnv(t)
	ada := e.userID("ada@example.com")
	if r := e.do(admin, "DELETE", "/v1/admin/users/"+ada+"/sessions", nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(customer, "GET", "/v1/me", nil), 401, "unauthenticated")
	wantProblem(t, e.do(admin, "DELETE", "/v1/admin/users/nobody/sessions", nil), 404, "not_found")

	r := e.do(admin, "GET", "/v1/admin/audit?user="+ada+"&limit=2", nil)
	if r.status != 200 {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	events := r.json(t)["events"].([]any)
	first := events[0].(map[string]any)
	if len(events) != 2 || first["type"] != "session.revoked" || first["user_id"] != ada || first["at"] == nil || first["ip"] != "127.0.0.1" {
		t.Errorf("audit = %s", r.body)
	}
	e.login(customer, "ada@example.com")
	wantProblem(t, e.do(customer, "GET", "/v1/admin/audit", nil), 403, "forbidden")

	roles := e.do(customer, "GET", "/v1/roles", nil)
	if roles.status != 200 || !strings.Contains(string(roles.body), `"service":["revocations:read"]`) {
		t.Errorf("roles: %d %s", roles.status, roles.body)
	}
}

func TestRevocationFeed(t *testing.T) {
	e, admin, customer := adminEnv(t)
	if _, err := e.svc.CreateUser(context.Background(), "svc@example.com", pw, []string{"service"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	service := e.tokenLogin("svc@example.com")["access_token"].(string)
	wantProblem(t, e.do(customer, "GET", "/v1/revocations", nil), 403, "forbidden")

	victim := e.tokenLogin("ada@example.com")
	sid := victim["session"].(map[string]any)["id"].(string)
	e.do(admin, "DELETE", "/v1/sessions", nil) // the admin's own logout-everywhere
	r := e.bearer("GET", "/v1/revocations", service)
	if r.status != 200 {
		t.Fatalf("feed: %d %s", r.status, r.body)
	}
	page := r.json(t)
	cursor := page["cursor"].(string)
	if len(page["events"].([]any)) != 1 || cursor == "0" {
		t.Fatalf("feed = %s", r.body)
	}

	// The stream delivers a revocation as it happens.
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/revocations", nil)
	req.Header.Set("Authorization", "Bearer "+service)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", cursor)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.srv.Client().Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
	}
	revoked := time.Now()
	if r := e.do(e.srv.Client(), "DELETE", "/v1/sessions/"+sid, nil, "Authorization", "Bearer "+victim["access_token"].(string)); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	sc := bufio.NewScanner(res.Body)
	var id, data string
	for sc.Scan() && data == "" {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			data = v
		}
	}
	if !strings.Contains(data, `"sid":"`+sid+`"`) || !strings.Contains(data, `"reason":"revoked"`) || id <= cursor {
		t.Fatalf("stream event id %q data %q", id, data)
	}
	if d := time.Since(revoked); d > time.Second {
		t.Errorf("the revocation took %v to reach the stream", d)
	}
	wantProblem(t, e.bearer("GET", "/v1/revocations?after=-1", service), 400, "invalid_request")
}

func TestAdminListUsersByEmail(t *testing.T) {
	e, admin, _ := adminEnv(t)
	for _, email := range []string{"adam@example.org", "ada_b@example.com", "bob@example.com", "xada@example.com"} {
		e.register(email)
	}
	emails := func(path string) (string, string) {
		t.Helper()
		r := e.do(admin, "GET", path, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		body := r.json(t)
		var got []string
		for _, u := range body["users"].([]any) {
			got = append(got, u.(map[string]any)["email"].(string))
		}
		next, _ := body["next"].(string)
		return strings.Join(got, " "), next
	}
	for _, tt := range []struct{ query, want string }{
		{"email=ada", "ada@example.com adam@example.org ada_b@example.com"},
		{"email=ADA_", "ada_b@example.com"},              // case does not matter; _ is no wildcard
		{"email=%25", ""},                                // nor is %
		{"email=+bob%40example.com+", "bob@example.com"}, // trimmed like an email
		{"email=", "root@example.com ada@example.com adam@example.org ada_b@example.com bob@example.com xada@example.com"},
	} {
		if got, _ := emails("/v1/admin/users?" + tt.query); got != tt.want {
			t.Errorf("?%s: users %q, want %q", tt.query, got, tt.want)
		}
	}
	// Pages keep the filter: the next of a page goes with the same email.
	got, next := emails("/v1/admin/users?email=ada&limit=2")
	if got != "ada@example.com adam@example.org" || next == "" {
		t.Fatalf("first page %q, next %q", got, next)
	}
	if got, next := emails("/v1/admin/users?email=ada&limit=2&after=" + next); got != "ada_b@example.com" || next != "" {
		t.Errorf("second page %q, next %q; want ada_b@example.com and no next", got, next)
	}

	for _, q := range []string{
		"email=" + strings.Repeat("a", gatehouse.MaxEmailLength+1),
		"email=ada%00", "email=ada%1b%5b31m", "email=%ff", "email=%e2%80%ae", "after=%00", "after=" + strings.Repeat("x", 200),
	} {
		wantProblem(t, e.do(admin, "GET", "/v1/admin/users?"+q, nil), 400, "invalid_request")
	}
}

func TestAdminAuditFilters(t *testing.T) {
	e, admin, customer := adminEnv(t)
	ada := e.userID("ada@example.com")
	for range 3 {
		e.do(e.srv.Client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "wrong password", "mode": "session"})
	}
	e.do(e.srv.Client(), "POST", "/v1/login", map[string]any{"email": "nobody@example.com", "password": "wrong password", "mode": "session"})

	types := func(path string) ([]string, string) {
		t.Helper()
		r := e.do(admin, "GET", path, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		body := r.json(t)
		var got []string
		for _, ev := range body["events"].([]any) {
			m := ev.(map[string]any)
			got = append(got, m["type"].(string)+"/"+m["user_id"].(string))
		}
		next, _ := body["next"].(string)
		return got, next
	}
	got, _ := types("/v1/admin/audit?type=login.failed&user=" + ada)
	if len(got) != 3 || got[0] != "login.failed/"+ada || got[2] != "login.failed/"+ada {
		t.Errorf("ada's login.failed = %v, want 3 of them", got)
	}
	if got, _ := types("/v1/admin/audit?type=login.failed"); len(got) != 4 {
		t.Errorf("every login.failed = %v, want 4", got)
	}
	if got, next := types("/v1/admin/audit?type=no.such_type"); len(got) != 0 || next != "" {
		t.Errorf("an unknown type = %v, %q; want none", got, next)
	}

	// Paging through ada's events, two at a time, visits each once.
	all, next := types("/v1/admin/audit?user=" + ada)
	var paged []string
	for q, pages := "/v1/admin/audit?limit=2&user="+ada, 0; ; pages++ {
		page, next := types(q)
		paged = append(paged, page...)
		if next == "" {
			break
		}
		if pages > len(all) {
			t.Fatal("pagination does not end")
		}
		q = "/v1/admin/audit?limit=2&user=" + ada + "&before=" + next
	}
	if next != "" || len(all) < 5 || fmt.Sprint(paged) != fmt.Sprint(all) {
		t.Errorf("paged = %v, want %v in one page", paged, all)
	}

	for _, q := range []string{
		"before=0", "before=-1", "before=x", "before=1.5", "before=99999999999999999999",
		"type=User.Created", "type=a%20b", "type=" + strings.Repeat("a", 65), "type=%00",
		"user=%00", "user=%ff", "user=" + strings.Repeat("x", 200),
	} {
		wantProblem(t, e.do(admin, "GET", "/v1/admin/audit?"+q, nil), 400, "invalid_request")
	}
	wantProblem(t, e.do(customer, "GET", "/v1/admin/audit?type=login.failed", nil), 403, "forbidden")
}
