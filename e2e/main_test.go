package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the gatehouse binary built for this test run.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-race", "-o", bin, "../cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `gatehouse serve`, or something in front of it (a
// proxy, the demo) that call and want work on alike.
type server struct {
	t    *testing.T
	url  string
	db   string
	cmd  *exec.Cmd
	logs *syncBuffer // standard error: the log
	// out is standard output, where serve --dev without --smtp prints the
	// messages it would send.
	out  *syncBuffer
	done chan error
	// api is set when every path of url is Gatehouse's (serve): then an
	// answer to a path the contract does not have is held to it too, as
	// 404 problem details.
	api bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `gatehouse serve --dev` on a free port with a database in a
// temporary directory (or db when given) and waits until it answers.
func start(t *testing.T, db string, extra ...string) *server {
	t.Helper()
	if db == "" {
		db = filepath.Join(t.TempDir(), "gatehouse.db")
	}
	addr := freeAddr(t)
	return startArgs(t, db, addr, append([]string{"serve", "--dev", "--addr", addr, "--db", db}, extra...)...)
}

// waitReady waits until the server answers /healthz.
func (s *server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(s.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup, which waits for it
			s.t.Fatalf("gatehouse exited: %v\n%s", err, s.logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.t.Fatalf("gatehouse did not answer within 20s\n%s", s.logs)
}

// stop sends SIGTERM and returns the exit error.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(15 * time.Second):
		return fmt.Errorf("gatehouse did not stop within 15s")
	}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// call sends a request (body, unless nil, as JSON; headers as name, value
// pairs) and returns the answer, which it holds to the OpenAPI document,
// httpapi/openapi.json: a test fails when the answer is not one the
// document gives for the request (see contract.check).
func (s *server) call(c *http.Client, method, path string, body any, headers ...string) reply {
	s.t.Helper()
	return s.send(c, true, method, path, body, headers...)
}

// callOutside is call for a request a test makes outside the contract on
// purpose, such as headers over the server's limit, whose answer comes
// from net/http rather than from Gatehouse: it is not held to the
// document.
func (s *server) callOutside(c *http.Client, method, path string, body any, headers ...string) reply {
	s.t.Helper()
	return s.send(c, false, method, path, body, headers...)
}

func (s *server) send(c *http.Client, checked bool, method, path string, body any, headers ...string) reply {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, raw: raw}
	json.Unmarshal(raw, &r.body)
	if checked {
		ct, err := loadContract()
		if err != nil {
			s.t.Fatalf("the OpenAPI document: %v", err)
		}
		if msg := ct.check(req, res.StatusCode, res.Header, raw, s.api); msg != "" {
			s.t.Errorf("%s %s answered %d, which %s does not allow: %s\nbody: %s", method, path, res.StatusCode, contractFile, msg, truncated(raw))
		}
	}
	return r
}

// truncated is a body short enough for a failure message.
func truncated(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

func (s *server) want(r reply, status int, code string) {
	s.t.Helper()
	if r.status != status || (code != "" && r.body["code"] != code) {
		s.t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, code)
	}
}

// cli runs the gatehouse binary with args and stdin and returns its
// output and exit status.
func cli(t *testing.T, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("running gatehouse %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// eventually retries f until it returns true or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lines splits output into non-empty lines.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// startArgs runs the binary with exactly args and waits for addr to answer.
func startArgs(t *testing.T, db, addr string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, args...)
	logs, out := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, url: "http://" + addr, db: db, cmd: cmd, logs: logs, out: out, done: make(chan error, 1), api: args[0] == "serve"}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	s.waitReady()
	return s
}
