package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func exec(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func query(t *testing.T, url, sql string, dest ...any) error {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(t.Context(), sql).Scan(dest...)
}

// TestNewDatabase checks that each database is new and empty, and that
// the server is what the package promises: loopback, fsync off, UTF-8.
func TestNewDatabase(t *testing.T) {
	a, b := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	if a == b {
		t.Fatalf("two NewDatabase = %q twice, want two databases", a)
	}
	exec(t, a, `CREATE TABLE t (x int)`)
	var n int
	if err := query(t, b, `SELECT count(*) FROM pg_tables WHERE tablename = 't'`, &n); err != nil || n != 0 {
		t.Errorf("table of another database seen: count %d, %v; want 0, nil", n, err)
	}
	var fsync, listen, encoding, version string
	if err := query(t, a, `SELECT current_setting('fsync'), current_setting('listen_addresses'),
		pg_encoding_to_char(encoding), version() FROM pg_database WHERE datname = current_database()`,
		&fsync, &listen, &encoding, &version); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" || listen != "127.0.0.1" || encoding != "UTF8" {
		t.Errorf("fsync, listen_addresses, encoding = %q, %q, %q; want off, 127.0.0.1, UTF8", fsync, listen, encoding)
	}
	t.Log(version)
}

// TestStopStart stops a server of the test's own and starts it again:
// the data and the URL stay.
func TestStopStart(t *testing.T) {
	s := pgtest.Start(t)
	url := s.NewDatabase(t)
	exec(t, url, `CREATE TABLE kept AS SELECT 42 AS x`)
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop = %v, want nil", err)
	}
	if err := query(t, url, `SELECT 1`, new(int)); err == nil {
		t.Fatal("query on a stopped server = nil, want an error")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop of a stopped server = %v, want nil", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start = %v, want nil", err)
	}
	var x int
	if err := query(t, url, `SELECT x FROM kept`, &x); err != nil || x != 42 {
		t.Errorf("SELECT x FROM kept after restart = %d, %v; want 42, nil", x, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if _, err := os.Stat(s.Dir()); !os.IsNotExist(err) {
		t.Errorf("directory after Close: %v, want it gone", err)
	}
}

// TestStartServer starts a server as TestMain would and stops it.
func TestStartServer(t *testing.T) {
	url, stop, err := pgtest.StartServer()
	if err != nil {
		t.Fatalf("StartServer = %v, want nil", err)
	}
	var one int
	if err := query(t, url, `SELECT 1`, &one); err != nil || one != 1 {
		t.Errorf("SELECT 1 = %d, %v; want 1, nil", one, err)
	}
	stop()
	if err := query(t, url, `SELECT 1`, &one); err == nil {
		t.Error("query after stop = nil, want an error")
	}
}
