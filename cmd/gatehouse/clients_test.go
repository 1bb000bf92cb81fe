package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
)

// gatehouseCLI runs the program as main does, without GATEHOUSE_*
// variables, and returns its standard output and error.
func gatehouseCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if errOut.Len() > 0 {
		t.Errorf("gatehouse %s wrote to standard error: %q", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

func TestClientsCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	out, err := gatehouseCLI(t, "clients", "add", "--db", db, "--name", "Grafana",
		"--redirect-uri", "https://grafana.example.com/login/generic_oauth", "--redirect-uri", "http://127.0.0.1:3000/cb,x",
		"--post-logout-uri", "https://grafana.example.com/")
	if err != nil {
		t.Fatalf("clients add = %v", err)
	}
	id := regexp.MustCompile(`(?m)^client_id: +(\S+)$`).FindStringSubmatch(out)
	secret := regexp.MustCompile(`(?m)^client_secret: +(\S+)$`).FindStringSubmatch(out)
	if id == nil || secret == nil || len(secret[1]) != 43 || !strings.Contains(out, "will not be shown again") {
		t.Fatalf("clients add printed %q, want the client id, a secret and that it will not be shown again", out)
	}

	out, err = gatehouseCLI(t, "clients", "add", "--db", db, "--name", "Phone", "--redirect-uri", "com.example.app:/cb", "--public", "--trusted")
	pubID := regexp.MustCompile(`(?m)^client_id: +(\S+)$`).FindStringSubmatch(out)
	if err != nil || pubID == nil || strings.Contains(out, "secret") {
		t.Fatalf("clients add --public = %q, %v; want a client id and no secret", out, err)
	}

	// Bad input: one line, and nothing changes.
	for name, args := range map[string][]string{
		"no name":                   {"--redirect-uri", "https://app.example.com/cb"},
		"no redirect URI":           {"--name", "App"},
		"http on a public host":     {"--name", "App", "--redirect-uri", "http://app.example.com/cb"},
		"a fragment":                {"--name", "App", "--redirect-uri", "https://app.example.com/cb#x"},
		"custom scheme, not public": {"--name", "App", "--redirect-uri", "com.example.app:/cb"},
		"bad post-logout URI":       {"--name", "App", "--redirect-uri", "https://app.example.com/cb", "--post-logout-uri", "ftp://app.example.com/"},
		"a name over 100":           {"--name", strings.Repeat("n", 101), "--redirect-uri", "https://app.example.com/cb"},
		"a newline in the name":     {"--name", "App\nsecond line", "--redirect-uri", "https://app.example.com/cb"},
		"a positional argument":     {"--name", "App", "--redirect-uri", "https://app.example.com/cb", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := gatehouseCLI(t, append([]string{"clients", "add", "--db", db}, args...)...)
			if err == nil || strings.Contains(err.Error(), "\n") || out != "" {
				t.Errorf("clients add = %q, %v; want one line of error and no output", out, err)
			}
		})
	}
	for _, args := range [][]string{{"clients"}, {"clients", "rename"}, {"clients", "remove", "--db", db}, {"clients", "remove", "--db", db, "no-such-client"}} {
		if out, err := gatehouseCLI(t, args...); err == nil || strings.Contains(err.Error(), "\n") || out != "" {
			t.Errorf("gatehouse %s = %q, %v; want one line of error", strings.Join(args, " "), out, err)
		}
	}

	out, err = gatehouseCLI(t, "clients", "list", "--db", db)
	if err != nil {
		t.Fatalf("clients list = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "CLIENT ID") ||
		!strings.Contains(lines[1], id[1]) || !strings.Contains(lines[1], "Grafana") || !strings.Contains(lines[1], "confidential") ||
		!strings.Contains(lines[1], "https://grafana.example.com/login/generic_oauth,http://127.0.0.1:3000/cb,x") ||
		!strings.Contains(lines[2], pubID[1]) || !strings.Contains(lines[2], "public") || !strings.Contains(lines[2], "true") {
		t.Errorf("clients list = %q, want a header, Grafana and Phone", out)
	}
	if strings.Contains(out, secret[1]) {
		t.Error("clients list shows the secret")
	}

	// The secret works, stored only hashed; the audit log says it was the CLI.
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := gatehouse.NewService(st, gatehouse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateApp(context.Background(), id[1], secret[1]); err != nil {
		t.Errorf("AuthenticateApp with the printed secret = %v, want nil", err)
	}
	events, _, err := svc.Audit(context.Background(), gatehouse.AuditQuery{Type: gatehouse.EventClientCreated, Limit: 10})
	if err != nil || len(events) != 2 || events[1].Detail != "client="+id[1] || events[1].IP != "cli" {
		t.Errorf("client.created events = %+v, %v", events, err)
	}
	st.Close()

	if out, err := gatehouseCLI(t, "clients", "remove", "--db", db, id[1]); err != nil || !strings.Contains(out, id[1]) {
		t.Errorf("clients remove = %q, %v", out, err)
	}
	if _, err := gatehouseCLI(t, "clients", "remove", "--db", db, id[1]); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("clients remove again = %v, want not_found", err)
	}
	out, _ = gatehouseCLI(t, "clients", "list", "--db", db)
	if strings.Contains(out, id[1]) || !strings.Contains(out, pubID[1]) {
		t.Errorf("clients list after remove = %q, want Phone alone", out)
	}
}
