package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// aptMu keeps two tests from running apt-get at once.
var aptMu sync.Mutex

// needCommand returns the path of the program name, installing the Debian
// package pkg when it is missing. A failed install fails the test rather
// than skipping it: CI must run the proxies for real.
func needCommand(t *testing.T, name, pkg string) string {
	t.Helper()
	aptMu.Lock()
	defer aptMu.Unlock()
	find := func() string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		// nginx lives in /usr/sbin, which is not on every user's PATH.
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
			if p := filepath.Join(dir, name); isExecutable(p) {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	t.Logf("%s is missing: installing the Debian package %s", name, pkg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"update", "-qq"},
		{"install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=120", pkg},
	} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s\n(the %s test needs the Debian package %s: run it as root with apt, or install it first)",
				strings.Join(args, " "), err, out, name, pkg)
		}
	}
	p := find()
	if p == "" {
		t.Fatalf("installed %s but found no %s command", pkg, name)
	}
	return p
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode().Perm()&0o111 != 0
}

// renderConfig fills the placeholders of a committed config under deploy/
// and writes the result into dir.
func renderConfig(t *testing.T, template, dir string, values map[string]string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", template))
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for k, v := range values {
		pairs = append(pairs, "{{"+k+"}}", v)
	}
	out := strings.NewReplacer(pairs...).Replace(string(raw))
	if i := strings.Index(out, "{{"); i >= 0 {
		t.Fatalf("%s: placeholder left unfilled: %.40q", template, out[i:])
	}
	path := filepath.Join(dir, filepath.Base(template))
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startProxy runs a reverse proxy in the foreground in its own process
// group and waits until url answers 200. At cleanup the whole group
// (master and workers) is stopped, so nothing is left running.
func startProxy(t *testing.T, name string, env []string, url string, args ...string) {
	t.Helper()
	startProxyClient(t, name, env, http.DefaultClient, url, args...)
}

// startProxyClient is startProxy asking url with client, for a proxy that
// only a client of its own reaches (names that do not resolve, a test
// certificate).
func startProxyClient(t *testing.T, name string, env []string, client *http.Client, url string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s did not stop within 5s of SIGTERM; killing it", name)
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		// Whatever of the group outlived its leader (an orphaned worker).
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err == nil {
			t.Errorf("%s left processes behind after stopping", name)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := client.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s with 200 within 15s (last: %v)\n%s", name, url, err, logs)
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s exited: %v\n%s", name, err, logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// appHit is what the protected app received in one request.
type appHit struct {
	App    string              `json:"app,omitempty"` // the app's name, when it has one
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  string              `json:"query"` // the raw query, as the browser sent it
	Body   string              `json:"body"`
	Header map[string][]string `json:"header"` // the X-Gatehouse-* headers only
}

// app is the protected upstream: it records every request that reaches it
// and echoes the X-Gatehouse-* headers it got back as JSON, inside a small
// HTML page for a browser (Accept: text/html).
type protectedApp struct {
	addr string
	name string // shown on its page; set before the first request
	mu   sync.Mutex
	hits []appHit
}

// appPage is the protected app's page for a browser: the request as JSON
// in #hit, for the test to read.
var appPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.App}}</title></head>
<body><h1>{{.App}}: signed in as {{.Email}}</h1>
<p>What the proxy let through:</p>
<pre id="hit" style="white-space: pre-wrap">{{.JSON}}</pre></body></html>
`))

func startProtectedApp(t *testing.T) *protectedApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &protectedApp{addr: ln.Addr().String()}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			srv.Close()
		}
	})
	return a
}

func (a *protectedApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	s := appHit{App: a.name, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Header: map[string][]string{}}
	for k, v := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-gatehouse") {
			s.Header[k] = v
		}
	}
	a.mu.Lock()
	a.hits = append(a.hits, s)
	a.mu.Unlock()
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		var js strings.Builder
		enc := json.NewEncoder(&js)
		enc.SetEscapeHTML(false) // the template escapes; keep & readable
		enc.SetIndent("", "  ")
		enc.Encode(s)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		appPage.Execute(w, struct{ App, Email, JSON string }{a.name, r.Header.Get("X-Gatehouse-Email"), js.String()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s)
}

// take returns the requests that reached the app since the last call.
func (a *protectedApp) take() []appHit {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hits
	a.hits = nil
	return h
}
