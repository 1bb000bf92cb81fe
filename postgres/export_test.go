package postgres

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// InsertLogins inserts logins with COPY and without audit events, so that
// benchmarks can fill a store quickly.
func (s *Store) InsertLogins(ctx context.Context, logins []gatehouse.Login) error {
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"logins"},
		[]string{"id", "user_id", "mode", "secret_hash", "device", "ip", "user_agent", "remember",
			"created_at", "last_seen_at", "expires_at", "idle_expires_at"},
		pgx.CopyFromSlice(len(logins), func(i int) ([]any, error) {
			l := logins[i]
			return []any{l.ID, l.UserID, string(l.Mode), bytesOrNull(l.SecretHash), l.Device, l.IP, l.UserAgent, l.Remember,
				unixNano(l.CreatedAt), unixNano(l.LastSeenAt), unixNano(l.ExpiresAt), unixNano(l.IdleExpiresAt)}, nil
		}))
	return storeError(err)
}

// RevocationsQuery is RevocationsAfter's query, for a test of its plans.
const RevocationsQuery = revocationsQuery
