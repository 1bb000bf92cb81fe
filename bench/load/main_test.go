package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers GET /v1/verify with 200 when a cookie is sent, and
// POST /v1/login with loginStatus when the body names the bench account
// in session mode (400 otherwise); it counts the sign-ins.
func fakeServer(t *testing.T, loginStatus int) (url string, logins, badLogins *atomic.Int64) {
	t.Helper()
	logins, badLogins = new(atomic.Int64), new(atomic.Int64)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/verify", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /v1/login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Email, Password, Mode string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" ||
			body.Email != "a@example.com" || body.Password != "pass word" || body.Mode != "session" {
			badLogins.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		logins.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(loginStatus)
		w.Write([]byte(`{"user":{"id":"u1"}}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, logins, badLogins
}

// runJSON runs load run with args plus a -json file and returns what it
// wrote.
func runJSON(t *testing.T, args ...string) (result, map[string]any, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.jsonl")
	err := run(append(args, "-d", "300ms", "-warmup", "50ms", "-json", out))
	raw, readErr := os.ReadFile(out)
	if readErr != nil {
		t.Fatalf("no JSON written (run: %v): %v", err, readErr)
	}
	var r result
	var fields map[string]any
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &fields)
	return r, fields, err
}

func TestRunWithLogins(t *testing.T) {
	url, logins, bad := fakeServer(t, http.StatusOK)
	creds := filepath.Join(t.TempDir(), "creds")
	os.WriteFile(creds, []byte("cookie gatehouse=abc\n"), 0o600)
	r, fields, err := runJSON(t, "-url", url, "-creds", creds, "-c", "2", "-label", "x",
		"-login-conns", "1", "-login-email", "a@example.com", "-login-password", "pass word")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if r.Requests == 0 || r.Errors != 0 || r.LoginConns != 1 || r.LoginRequests == 0 || r.LoginErrors != 0 || r.LoginStatuses[200] != r.LoginRequests {
		t.Errorf("result = %+v; want checks and sign-ins, all 200", r)
	}
	if bad.Load() != 0 || logins.Load() < int64(r.LoginRequests) {
		t.Errorf("the server saw %d good and %d bad sign-ins; run reports %d", logins.Load(), bad.Load(), r.LoginRequests)
	}
	for _, f := range []string{"login_connections", "login_requests", "login_rps", "login_p50_us", "login_p90_us", "login_p99_us", "login_max_us", "login_statuses"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("JSON has no %q: %v", f, fields)
		}
	}
	rows := strings.Split(r.row(), "\n")
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "| x, checks | 1 | 2 |") || !strings.HasPrefix(rows[1], "| x, sign-ins | 1 | 1 |") {
		t.Errorf("rows = %q; want a checks row and a sign-ins row", rows)
	}
}

func TestRunWithoutLoginsKeepsItsJSON(t *testing.T) {
	url, logins, _ := fakeServer(t, http.StatusOK)
	creds := filepath.Join(t.TempDir(), "creds")
	os.WriteFile(creds, []byte("cookie gatehouse=abc\n"), 0o600)
	r, fields, err := runJSON(t, "-url", url, "-creds", creds, "-c", "2", "-label", "x")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for f := range fields {
		if strings.HasPrefix(f, "login_") {
			t.Errorf("JSON without -login-conns has %q", f)
		}
	}
	if logins.Load() != 0 || strings.Contains(r.row(), "\n") || !strings.HasPrefix(r.row(), "| x | 1 | 2 |") {
		t.Errorf("%d sign-ins, row %q; want none and one row", logins.Load(), r.row())
	}
}

func TestRunLoginsOnly(t *testing.T) {
	url, _, _ := fakeServer(t, http.StatusOK)
	r, _, err := runJSON(t, "-url", url, "-c", "0", "-label", "x",
		"-login-conns", "2", "-login-email", "a@example.com", "-login-password", "pass word")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if r.Requests != 0 || r.LoginRequests == 0 || !strings.HasPrefix(r.row(), "| x, sign-ins | 1 | 2 |") || strings.Contains(r.row(), "\n") {
		t.Errorf("result %+v, row %q; want sign-ins only, one row", r, r.row())
	}
}

func TestRunLoginRefusedIsAnError(t *testing.T) {
	url, _, _ := fakeServer(t, http.StatusServiceUnavailable)
	r, _, err := runJSON(t, "-url", url, "-c", "0", "-label", "x",
		"-login-conns", "1", "-login-email", "a@example.com", "-login-password", "pass word")
	if err == nil || r.LoginErrors == 0 || r.LoginStatuses[503] == 0 {
		t.Errorf("run = %v with result %+v; want an error counting the 503s", err, r)
	}
}

func TestRunLoginFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://127.0.0.1:1", "-c", "0"},
		{"-url", "http://127.0.0.1:1", "-c", "0", "-login-conns", "1"},
		{"-url", "http://127.0.0.1:1", "-c", "0", "-login-conns", "1", "-login-email", "a@example.com", "-login-password", "p", "-login-mode", "cookie"},
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func TestFloorServerMatchesServe(t *testing.T) {
	srv := floorServer()
	// The values of cmd/gatehouse/serve.go.
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 15*time.Second || srv.WriteTimeout != 30*time.Second ||
		srv.IdleTimeout != 2*time.Minute || srv.MaxHeaderBytes != 32<<10 {
		t.Errorf("floor server = %+v; want the settings of gatehouse serve", srv)
	}
}
