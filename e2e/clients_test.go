package e2e_test

import (
	"regexp"
	"strings"
	"testing"
)

var (
	clientIDLine     = regexp.MustCompile(`(?m)^client_id: +(\S+)$`)
	clientSecretLine = regexp.MustCompile(`(?m)^client_secret: +(\S+)$`)
)

// TestClients manages OpenID Connect clients through the CLI and the
// admin API of the binary: clients:admin alone may, a secret is shown in
// the answer that creates its client and never again, and every change is
// audited.
func TestClients(t *testing.T) {
	s := start(t, "")
	dbFlag := []string{"--db", s.db}
	clientsCLI := func(args ...string) (string, string, int) {
		t.Helper()
		return cli(t, "", nil, append(append([]string{"clients"}, args...), dbFlag...)...)
	}

	// The CLI, beside the running server.
	out, errOut, code := clientsCLI("add", "--name", "Grafana", "--redirect-uri", "https://grafana.example.com/login/generic_oauth",
		"--post-logout-uri", "https://grafana.example.com/")
	id, secret := clientIDLine.FindStringSubmatch(out), clientSecretLine.FindStringSubmatch(out)
	if code != 0 || id == nil || secret == nil || !strings.Contains(out, "not be shown again") {
		t.Fatalf("clients add: %d %q %q", code, out, errOut)
	}
	out, errOut, code = clientsCLI("add", "--name", "Phone", "--redirect-uri", "com.example.app:/cb", "--public")
	pubID := clientIDLine.FindStringSubmatch(out)
	if code != 0 || pubID == nil || strings.Contains(out, "secret") {
		t.Fatalf("clients add --public: %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{
		{"add", "--name", "Evil", "--redirect-uri", "http://evil.example.com/cb"},
		{"add", "--name", "Evil", "--redirect-uri", "https://evil.example.com/cb#frag"},
		{"add", "--name", "Evil", "--redirect-uri", "com.example.evil:/cb"},
		{"remove", "no-such-client"},
	} {
		if out, errOut, code := clientsCLI(args...); code != 1 || len(lines(errOut)) != 1 || out != "" {
			t.Errorf("clients %v: exit %d %q %q, want exit 1 and one line on standard error", args, code, out, errOut)
		}
	}
	if _, errOut, code := clientsCLI("add", "--name", "No URI"); code != 2 || len(lines(errOut)) != 1 {
		t.Errorf("clients add without --redirect-uri: exit %d %q, want 2 and one line", code, errOut)
	}
	out, _, code = clientsCLI("list")
	if code != 0 || len(lines(out)) != 3 || !strings.Contains(out, id[1]) || !strings.Contains(out, pubID[1]) || strings.Contains(out, secret[1]) {
		t.Errorf("clients list: %d %q, want the two clients and no secret", code, out)
	}

	// The admin API.
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	if _, errOut, code := cli(t, password+"\n", nil, "user", "add", "--db", s.db, "--email", "root@example.com", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	admin, customer := newClient(), newClient()
	s.want(s.call(admin, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session"}), 200, "")
	s.want(s.call(customer, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}), 200, "")
	gitea := map[string]any{"name": "Gitea", "redirect_uris": []string{"https://git.example.com/user/oauth2/gatehouse/callback"}}
	s.want(s.call(customer, "GET", "/v1/admin/clients", nil), 403, "forbidden")
	s.want(s.call(customer, "POST", "/v1/admin/clients", gitea), 403, "forbidden")
	s.want(s.call(customer, "DELETE", "/v1/admin/clients/"+id[1], nil), 403, "forbidden")
	s.want(s.call(newClient(), "GET", "/v1/admin/clients", nil), 401, "unauthenticated")

	list := s.call(admin, "GET", "/v1/admin/clients", nil)
	s.want(list, 200, "")
	if clients, _ := list.body["clients"].([]any); len(clients) != 2 || strings.Contains(string(list.raw), secret[1]) || strings.Contains(string(list.raw), "client_secret") {
		t.Errorf("clients = %s, want the CLI's two without secrets", list.raw)
	}
	created := s.call(admin, "POST", "/v1/admin/clients", gitea)
	s.want(created, 201, "")
	apiID, _ := created.body["client_id"].(string)
	apiSecret, _ := created.body["client_secret"].(string)
	if apiID == "" || len(apiSecret) != 43 || created.body["name"] != "Gitea" {
		t.Fatalf("created = %s", created.raw)
	}
	s.want(s.call(admin, "POST", "/v1/admin/clients", map[string]any{"name": "Evil", "redirect_uris": []string{"http://evil.example.com/cb"}}), 400, "invalid_request")
	list = s.call(admin, "GET", "/v1/admin/clients", nil)
	if clients, _ := list.body["clients"].([]any); len(clients) != 3 || strings.Contains(string(list.raw), apiSecret) {
		t.Errorf("clients = %s, want three without secrets", list.raw)
	}
	if out, _, _ := clientsCLI("list"); strings.Contains(out, apiSecret) || !strings.Contains(out, apiID) {
		t.Errorf("clients list after the API's addition: %q", out)
	}

	s.want(s.call(admin, "DELETE", "/v1/admin/clients/"+id[1], nil), 204, "")
	s.want(s.call(admin, "DELETE", "/v1/admin/clients/"+id[1], nil), 404, "not_found")
	if out, errOut, code := clientsCLI("remove", apiID); code != 0 {
		t.Errorf("clients remove: %d %q %q", code, out, errOut)
	}
	list = s.call(admin, "GET", "/v1/admin/clients", nil)
	if clients, _ := list.body["clients"].([]any); len(clients) != 1 || clients[0].(map[string]any)["client_id"] != pubID[1] {
		t.Errorf("clients after the removals = %s, want Phone alone", list.raw)
	}

	// Audited, never with a secret.
	for typ, want := range map[string]int{"client.created": 3, "client.removed": 2} {
		r := s.call(admin, "GET", "/v1/admin/audit?type="+typ, nil)
		s.want(r, 200, "")
		if events, _ := r.body["events"].([]any); len(events) != want || strings.Contains(string(r.raw), secret[1]) || strings.Contains(string(r.raw), apiSecret) {
			t.Errorf("%s events = %s, want %d without secrets", typ, r.raw, want)
		}
	}
	if strings.Contains(s.logs.String(), secret[1]) || strings.Contains(s.logs.String(), apiSecret) {
		t.Error("the server log holds a client secret")
	}
}
