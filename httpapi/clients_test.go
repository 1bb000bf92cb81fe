package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

var clientKeys = []string{"client_id", "created_at", "name", "post_logout_redirect_uris", "public", "redirect_uris", "trusted"}

func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestAdminClients(t *testing.T) {
	e, admin, customer := adminEnv(t)
	grafana := map[string]any{"name": "Grafana", "redirect_uris": []string{"https://grafana.example.com/login/generic_oauth"}}

	// Refusals first: nothing is added.
	for _, m := range []struct{ method, path string }{{"GET", "/v1/admin/clients"}, {"POST", "/v1/admin/clients"}, {"DELETE", "/v1/admin/clients/x"}} {
		wantProblem(t, e.do(customer, m.method, m.path, grafana), 403, "forbidden")
		wantProblem(t, e.do(e.srv.Client(), m.method, m.path, grafana), 401, "unauthenticated")
	}
	for name, body := range map[string]any{
		"http on a public host":       map[string]any{"name": "App", "redirect_uris": []string{"http://app.example.com/cb"}},
		"no redirect URI":             map[string]any{"name": "App"},
		"no name":                     map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}},
		"a fragment":                  map[string]any{"name": "App", "redirect_uris": []string{"https://app.example.com/cb#x"}},
		"custom scheme, confidential": map[string]any{"name": "App", "redirect_uris": []string{"com.example.app:/cb"}},
		"redirect_uris a string":      `{"name":"App","redirect_uris":"https://app.example.com/cb"}`,
		"not JSON":                    `{"name":`,
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, e.do(admin, "POST", "/v1/admin/clients", body), 400, "invalid_request")
		})
	}
	if r := e.do(admin, "GET", "/v1/admin/clients", nil); r.status != 200 || string(r.body) != "{\"clients\":[]}\n" {
		t.Fatalf("list of none: %d %s, want an empty list", r.status, r.body)
	}

	// A confidential client: its secret in the creation answer alone.
	r := e.do(admin, "POST", "/v1/admin/clients", grafana)
	if r.status != 201 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	conf := r.json(t)
	secret, _ := conf["client_secret"].(string)
	if len(secret) != 43 {
		t.Errorf("client_secret = %q, want 43 characters of base64url", secret)
	}
	if got, want := keysOf(conf), sortedCopy(append(slices.Clone(clientKeys), "client_secret")); !slices.Equal(got, want) {
		t.Errorf("created client has %v, want %v", got, want)
	}
	if conf["name"] != "Grafana" || conf["public"] != false || conf["trusted"] != false || conf["created_at"] == nil ||
		len(conf["redirect_uris"].([]any)) != 1 || conf["post_logout_redirect_uris"] == nil || len(conf["post_logout_redirect_uris"].([]any)) != 0 {
		t.Errorf("created client = %s", r.body)
	}
	confID := conf["client_id"].(string)
	if _, err := e.svc.AuthenticateApp(context.Background(), confID, secret); err != nil {
		t.Errorf("AuthenticateApp with the secret answered = %v, want nil", err)
	}

	// A public client: no secret at all.
	e.clock.Advance(time.Second)
	r = e.do(admin, "POST", "/v1/admin/clients", map[string]any{
		"name": "Phone", "redirect_uris": []string{"com.example.app:/cb", "com.example.app:/cb"},
		"post_logout_redirect_uris": []string{"com.example.app:/bye"}, "public": true, "trusted": true,
	})
	if r.status != 201 {
		t.Fatalf("add public: %d %s", r.status, r.body)
	}
	pub := r.json(t)
	if got := keysOf(pub); !slices.Equal(got, clientKeys) {
		t.Errorf("public client has %v, want %v", got, clientKeys)
	}
	if pub["public"] != true || pub["trusted"] != true || len(pub["redirect_uris"].([]any)) != 1 {
		t.Errorf("public client = %s", r.body)
	}

	r = e.do(admin, "GET", "/v1/admin/clients", nil)
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), "secret") {
		t.Errorf("the list shows a secret: %s", r.body)
	}
	clients := r.json(t)["clients"].([]any)
	if len(clients) != 2 || clients[0].(map[string]any)["client_id"] != confID || clients[1].(map[string]any)["client_id"] != pub["client_id"] {
		t.Fatalf("clients = %s, want Grafana then Phone", r.body)
	}
	for _, c := range clients {
		if got := keysOf(c.(map[string]any)); !slices.Equal(got, clientKeys) {
			t.Errorf("listed client has %v, want %v", got, clientKeys)
		}
	}

	// Removing a client ends its logins, on the revocation feed.
	ada := e.userID("ada@example.com")
	l := storetest.OIDCLogin("login-of-grafana", ada, confID, e.clock.Now())
	storetest.CreateLogin(t, e.store, l)
	if r := e.do(admin, "DELETE", "/v1/admin/clients/"+confID, nil); r.status != 204 || len(r.body) != 0 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	if _, err := e.store.LoginByID(context.Background(), l.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("the client's login after its removal: %v, want not_found", err)
	}
	if r := e.do(admin, "GET", "/v1/revocations", nil); r.status != 200 || !strings.Contains(string(r.body), `"sid":"login-of-grafana"`) {
		t.Errorf("feed after removing a client: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(admin, "DELETE", "/v1/admin/clients/"+confID, nil), 404, "not_found")
	wantProblem(t, e.do(admin, "DELETE", "/v1/admin/clients/nobody", nil), 404, "not_found")
	if r := e.do(admin, "GET", "/v1/admin/clients", nil); len(r.json(t)["clients"].([]any)) != 1 {
		t.Errorf("clients after removal = %s, want Phone alone", r.body)
	}

	// Audited with the admin's id, and never the secret.
	r = e.do(admin, "GET", "/v1/admin/audit?type=client.created", nil)
	if r.status != 200 || strings.Contains(string(r.body), secret) {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	root := e.userID("root@example.com")
	events := r.json(t)["events"].([]any)
	if len(events) != 2 || events[1].(map[string]any)["detail"] != "client="+confID+" by="+root {
		t.Errorf("client.created events = %s", r.body)
	}
	r = e.do(admin, "GET", "/v1/admin/audit?type=client.removed", nil)
	if events := r.json(t)["events"].([]any); len(events) != 1 || events[0].(map[string]any)["detail"] != "client="+confID+" by="+root {
		t.Errorf("client.removed events = %s", r.body)
	}
}

// TestClientsPermission: clients:admin, and it alone, opens the clients
// API; users:admin does not.
func TestClientsPermission(t *testing.T) {
	roles := gatehouse.BuiltinRoles()
	roles["integrator"] = []string{gatehouse.PermClientsAdmin}
	roles["helpdesk"] = []string{gatehouse.PermUsersAdmin}
	e := newEnv(t, options{svc: gatehouse.Config{Roles: roles}})
	for email, role := range map[string]string{"int@example.com": "integrator", "help@example.com": "helpdesk"} {
		if _, err := e.svc.CreateUser(context.Background(), email, pw, []string{role}, gatehouse.Client{}); err != nil {
			t.Fatal(err)
		}
	}
	integrator, helpdesk := e.client(), e.client()
	e.login(integrator, "int@example.com")
	e.login(helpdesk, "help@example.com")
	body := map[string]any{"name": "App", "redirect_uris": []string{"https://app.example.com/cb"}}
	if r := e.do(integrator, "POST", "/v1/admin/clients", body); r.status != http.StatusCreated {
		t.Errorf("add as integrator: %d %s", r.status, r.body)
	}
	if r := e.do(integrator, "GET", "/v1/admin/clients", nil); r.status != http.StatusOK {
		t.Errorf("list as integrator: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(integrator, "GET", "/v1/admin/users", nil), 403, "forbidden")
	wantProblem(t, e.do(helpdesk, "GET", "/v1/admin/clients", nil), 403, "forbidden")
	wantProblem(t, e.do(helpdesk, "POST", "/v1/admin/clients", body), 403, "forbidden")
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
