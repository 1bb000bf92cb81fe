// Package postgres is Gatehouse's store on PostgreSQL: a gatehouse.Store
// that several servers can share, where the SQLite store serves one.
//
// It keeps what the SQLite store keeps, with the same meaning: times as
// BIGINT Unix nanoseconds that come back in UTC (timestamptz would keep
// only microseconds), the zero time.Time as 0, roles as a TEXT[], ids
// compared byte by byte (COLLATE "C") whatever the database's collation.
// The schema lives in migrations/, numbered SQL files embedded in the
// binary and applied by Open and Migrate; its versions mean what the same
// versions of the SQLite schema mean. Servers that start at once migrate
// one after the other, under a session-level advisory lock.
//
// In a database shared with other applications, give Gatehouse a schema
// of its own by adding search_path=<schema> to the URL: its tables and
// goose's version table then live there.
//
// Its statements and row mappings are package sqlstore's, which the SQLite
// store shares; this package gives them PostgreSQL's connections,
// transactions, locking and error recognition, and keeps PostgreSQL's
// schema.
//
// Queries go through a pgxpool pool, which prepares each statement once
// per connection. The URL may tune the pool with pgxpool's parameters,
// such as pool_max_conns (default: the larger of 4 and the number of
// CPUs). Behind a transaction-mode pooler such as PgBouncer, add
// default_query_exec_mode=exec (or simple_protocol) so that nothing is
// prepared.
//
// What several servers need is the database's doing: a refresh token is
// claimed by one conditional UPDATE, so of concurrent rotations exactly
// one wins; the transactions that add to the revocation feed are
// serialised by an advisory lock, so entries become visible in Seq order
// (see RevocationsAfter); a transaction that PostgreSQL aborts to break a
// deadlock is run again.
//
// A login's refresh tokens are deleted with it by a foreign key cascade,
// whichever way it goes (revoked, its user's password changed, expired).
//
// Driver failures come back as gatehouse errors: a missing row is
// CodeNotFound, a taken email CodeEmailTaken, and anything else, an
// unreachable or restarting server included, CodeUnavailable. The pool
// reconnects by itself once the server is back; the first use of a
// connection that the outage broke can still fail, and connections idle
// for over a second are checked before use.
package postgres
