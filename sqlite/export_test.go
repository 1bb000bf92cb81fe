package sqlite

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
)

// InsertLogins inserts logins in one transaction and without audit events,
// so that benchmarks can fill a store quickly.
func (s *Store) InsertLogins(ctx context.Context, logins []gatehouse.Login) error {
	return s.e.InTx(ctx, func(tx sqlstore.Conn) error { return sqlstore.InsertLogins(ctx, tx, logins) })
}

// The two forms of RevocationsAfter's query and the list of a user's
// logins, for a test of their plans.
const (
	RevocationsBySeq   = sqlstore.RevocationsQuery
	RevocationsBySince = revocationsBySince
	ListLogins         = sqlstore.ListLoginsQuery
)
