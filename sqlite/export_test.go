package sqlite

import (
	"context"
	"database/sql"

	"github.com/gatehouse/gatehouse"
)

// InsertLogins inserts logins in one transaction and without audit events,
// so that benchmarks can fill a store quickly.
func (s *Store) InsertLogins(ctx context.Context, logins []gatehouse.Login) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, l := range logins {
			if err := insertLogin(ctx, tx, l); err != nil {
				return err
			}
		}
		return nil
	})
}

// The two forms of RevocationsAfter's query, for a test of their plans.
const (
	RevocationsBySeq   = revocationsBySeq
	RevocationsBySince = revocationsBySince
)
