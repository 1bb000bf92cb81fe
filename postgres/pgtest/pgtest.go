// Package pgtest starts private PostgreSQL servers for tests, so that the
// postgres store (and anything built on it) is tested against the real
// thing on loopback, with no service to set up beforehand.
//
// A test binary shares one server and gives each test an empty database of
// its own, which is much faster than a server per test:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDatabase(t) // dropped at cleanup
//		...
//	}
//
// A test that stops the server (an outage) takes a server of its own with
// Start, so that it does not pull the shared one from under other tests.
//
// The server binaries are Debian's (/usr/lib/postgresql/*/bin, the newest
// version; then initdb and postgres on PATH). When there are none the
// test fails rather than skips, because CI must run these tests; the
// test script (scripts/test) installs the package. PostgreSQL refuses to run as root, so under root the server
// runs as the postgres system user that the Debian package creates.
//
// Each server lives in a fresh temporary directory (data, Unix socket and
// log; in /dev/shm when that is a large enough tmpfs), listens on a free port of 127.0.0.1 only, accepts the superuser
// postgres with a random password (scram-sha-256), and runs with fsync off:
// its data is worth nothing once the test ends. If the test process dies
// without cleaning up, the kernel stops the server (parent-death signal);
// only the directory is left behind.
package pgtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a private PostgreSQL server in a temporary directory. Its
// methods are safe for concurrent use.
type Server struct {
	bin      string // the directory of initdb and postgres
	dir      string // data/, the Unix socket and server.log
	port     int
	password string
	cred     *syscall.Credential // the postgres user's, when run as root
	dbs      atomic.Int64

	mu     sync.Mutex
	cmd    *exec.Cmd     // the running postmaster, or nil when stopped
	exited chan struct{} // closed when cmd has exited
	closed bool
}

// NewServer creates a database cluster in a new temporary directory and
// starts a server on it. Close stops it and removes the directory.
func NewServer() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if s.dir, err = os.MkdirTemp(baseDir(), "gatehouse-pgtest-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := s.initdb(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(s.dir))
	}
	// The port is free when chosen but may be taken before the server
	// binds it: try a few.
	for range 5 {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.Start(); err == nil {
			return s, nil
		}
	}
	return nil, errors.Join(err, os.RemoveAll(s.dir))
}

// initdb creates the cluster in s.dir/data, owned by the user the server
// runs as.
func (s *Server) initdb() error {
	b := make([]byte, 16)
	rand.Read(b)
	s.password = hex.EncodeToString(b)
	pwfile := filepath.Join(s.dir, "password")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if s.cred != nil {
		for _, p := range []string{s.dir, pwfile} {
			if err := os.Chown(p, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return fmt.Errorf("pgtest: %w", err)
			}
		}
	}
	cmd := s.command("initdb", "-D", filepath.Join(s.dir, "data"), "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile="+pwfile, "--encoding=UTF8", "--locale=C", "--no-sync")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return os.Remove(pwfile)
}

// command returns a command that runs one of the server binaries as the
// server's user, in its directory.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir // the server's user may not enter the test's directory
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

// Start starts a stopped server again on the same port and data, so that
// URLs handed out before Stop work again; crash recovery runs first, as
// after a real outage. It waits until the server accepts connections.
// Starting a running server does nothing.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("pgtest: Start of a closed server")
	}
	if s.cmd != nil {
		return nil
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	logStart, _ := logFile.Seek(0, 2)

	// The postmaster runs as a child rather than through pg_ctl start, so
	// that the kernel stops it (SIGQUIT, an immediate shutdown) should the
	// test process die without cleaning up.
	cmd := s.command("postgres", "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "timezone=UTC")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	if err := s.waitReady(exited); err != nil {
		cmd.Process.Kill()
		<-exited
		log, _ := os.ReadFile(logFile.Name())
		return fmt.Errorf("%w\nserver log:\n%s", err, log[min(int(logStart), len(log)):])
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// waitReady waits until the server accepts a connection, it exits, or a
// minute has passed.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(time.Minute)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("pgtest: postgres exited at start")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var conn *pgx.Conn
		if conn, err = pgx.Connect(ctx, s.URL()); err == nil {
			err = conn.Close(ctx)
			cancel()
			return err
		}
		cancel()
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("pgtest: postgres not ready after a minute: %w", err)
}

// Stop stops the server at once, as a crash or an outage would (what
// pg_ctl stop -m immediate does: SIGQUIT to the postmaster), and waits
// until it and its backends have exited. The data directory and the port
// are kept for Start. Clients see their connections drop and new ones
// refused. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop()
}

func (s *Server) stop() error {
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGQUIT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgtest: stop: %w", err)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd, s.exited = nil, nil
	return nil
}

// Close stops the server and removes its directory. A closed server
// cannot be started again.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return errors.Join(s.stop(), os.RemoveAll(s.dir))
}

// Port returns the port the server listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Dir returns the server's directory: the cluster in data/, the Unix
// socket, and server.log.
func (s *Server) Dir() string { return s.dir }

// URL returns the URL of the maintenance database, postgres, as the
// superuser.
func (s *Server) URL() string { return s.DatabaseURL("postgres") }

// DatabaseURL returns the URL of the named database, as the superuser.
func (s *Server) DatabaseURL(name string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + name,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates a new, empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return s.DatabaseURL(name), nil
}

// DropDatabase drops a database, closing the connections still open to
// it.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL())
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: %s: %w", sql, err)
	}
	return nil
}

// NewDatabase creates a new, empty database for t on this server and
// returns its URL; the database is dropped at cleanup, after the cleanups
// t registers later (which close the connections to it).
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	u, err := s.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(urlPath(u), "/")
	t.Cleanup(func() {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return // the directory went with the database
		}
		if err := s.DropDatabase(context.Background(), name); err != nil {
			t.Logf("pgtest: dropping %s: %v", name, err)
		}
	})
	return u
}

func urlPath(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Path
}

// Start starts a server of t's own, closed at cleanup. Use it for tests
// that stop and start the server; others should share one through
// NewDatabase.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// StartServer starts a server for a whole test binary, as from TestMain,
// and returns the URL of its maintenance database and the function that
// stops it and removes its directory.
func StartServer() (url string, stop func(), err error) {
	s, err := NewServer()
	if err != nil {
		return "", nil, err
	}
	return s.URL(), func() { s.Close() }, nil
}

// shared is the server of a test binary that calls Main, started on first
// use.
var shared struct {
	mu     sync.Mutex
	inMain bool
	srv    *Server
	err    error
}

// Main runs the tests and benchmarks of m and then closes the shared
// server, if one was started. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = max(code, 1)
		}
	}
	shared.inMain = false
	return code
}

// Shared returns the test binary's shared server, starting it on first
// use. It needs TestMain to call Main, which closes it after the tests:
// without that the server's directory would be left behind.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		t.Fatal("pgtest: the shared server needs TestMain to call pgtest.Main; see the package documentation")
	}
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = NewServer()
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// NewDatabase creates a new, empty database on the shared server and
// returns its URL; it is dropped at cleanup. See Shared.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return Shared(t).NewDatabase(t)
}

// binDir returns the directory of the PostgreSQL server binaries.
func binDir() (string, error) {
	if dir := findBinDir(); dir != "" {
		return dir, nil
	}
	return "", errors.New("pgtest: no PostgreSQL server binaries (initdb, postgres in /usr/lib/postgresql/*/bin or on PATH): install Debian's postgresql package (scripts/test does)")
}

// findBinDir returns Debian's newest /usr/lib/postgresql/N/bin that holds
// initdb and postgres, else the directory of initdb on PATH when postgres
// is beside it, else "".
func findBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(version(b), version(a)) })
	if path, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
		dirs = append(dirs, filepath.Dir(path))
	}
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir
		}
	}
	return ""
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// postgresUser returns the credentials of the postgres system user, which
// the Debian package creates, for running the server under root.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, PostgreSQL needs the postgres system user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres gid %q: %w", u.Gid, err)
	}
	// No supplementary groups: root's would stay with the server.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// baseDir returns where servers' directories go: /dev/shm when it is a
// tmpfs with a gigabyte free, as a database is created several times
// faster in memory than on a container's overlay disk, else the default
// temporary directory.
func baseDir() string {
	const tmpfsMagic = 0x01021994
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Type != tmpfsMagic ||
		st.Bavail*uint64(st.Bsize) < 1<<30 || syscall.Access("/dev/shm", 2 /* W_OK */) != nil {
		return ""
	}
	return "/dev/shm"
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
