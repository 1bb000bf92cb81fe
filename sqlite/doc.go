// Package sqlite is Gatehouse's embedded store: a gatehouse.Store kept in
// one SQLite file, which needs no server and is the default.
//
// Its statements and row mappings are package sqlstore's, which the
// PostgreSQL store shares; this package gives them SQLite's connections,
// transactions and error recognition, and keeps SQLite's schema.
//
// The file runs in WAL mode, so reads go on while a write is under way.
// Writes go through a single connection and so wait for each other in the
// pool rather than failing with "database is locked"; another process on
// the same file is waited for up to five seconds (busy_timeout). Reads use a
// separate pool of query-only connections. Statements run outside a
// transaction are prepared once per connection and kept.
//
// Times are kept as INTEGER Unix nanoseconds and come back in UTC; the zero
// time.Time is kept as 0. Roles are kept as a JSON array. The schema lives in
// migrations/, numbered SQL files applied in order by Open and Migrate and
// embedded in the binary.
//
// A login's refresh tokens are deleted with it by a foreign key cascade,
// whichever way it goes (revoked, its user's password changed, expired).
//
// Driver failures come back as gatehouse errors: a missing row is
// CodeNotFound, a taken email CodeEmailTaken, and anything else, a read-only
// or closed database included, CodeUnavailable.
package sqlite
