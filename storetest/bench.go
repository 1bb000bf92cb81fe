package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Sizes of the store that Bench fills.
const (
	benchUsers    = 1000
	benchSessions = 100_000
	benchTokens   = 1000
	benchRevoked  = 1000 // sessions revoked one by one, for the feed
)

// loginInserter is a store that inserts logins in bulk and without audit
// events: the stores' tests give theirs InsertLogins, to fill them fast.
type loginInserter interface {
	InsertLogins(ctx context.Context, logins []gatehouse.Login) error
}

// Sessions gives s a user with n sessions and returns the sessions.
func Sessions(t testing.TB, s gatehouse.Store, n int) []gatehouse.Login {
	t.Helper()
	u := User("user-alice")
	CreateUser(t, s, u)
	logins := make([]gatehouse.Login, n)
	for i := range logins {
		logins[i] = Session(fmt.Sprintf("login-%08d", i), u.ID, T0)
	}
	insertLogins(t, s, logins)
	return logins
}

// insertLogins inserts logins in bulk when the store has InsertLogins, and
// creates them one by one otherwise.
func insertLogins(t testing.TB, s gatehouse.Store, logins []gatehouse.Login) {
	t.Helper()
	if bulk, ok := s.(loginInserter); ok {
		if err := bulk.InsertLogins(t.Context(), logins); err != nil {
			t.Fatalf("InsertLogins = %v, want nil", err)
		}
		return
	}
	for _, l := range logins {
		CreateLogin(t, s, l)
	}
}

// Bench measures the store's hot paths: the reads behind every request
// (a session, a refresh token, a user, the revocation feed) and the
// writes of signing in, of activity and of token refresh. open must
// return a new, empty store and close it with b.Cleanup; Bench fills it
// with benchUsers users, benchSessions sessions (in bulk when the store
// has InsertLogins), benchTokens token logins and benchRevoked feed
// entries, and runs every benchmark on it, reads first (-count runs
// each again on the same store).
func Bench(b *testing.B, open func(b *testing.B) gatehouse.Store) {
	s := open(b)
	f := fill(b, s)
	ctx := b.Context()

	b.Run("SessionBySecretHash", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l := f.sessions[i%len(f.sessions)]
			if _, _, err := s.SessionBySecretHash(ctx, l.SecretHash); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("RefreshToken", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, _, _, err := s.RefreshToken(ctx, f.tokens[i%len(f.tokens)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("UserByID", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.UserByID(ctx, f.users[i%len(f.users)].ID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("UserByEmail", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.UserByEmail(ctx, f.users[i%len(f.users)].Email); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	// A user's logins, as the account page and GET /v1/sessions list
	// them: about benchSessions/benchUsers of them, newest first.
	b.Run("ListLogins", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			logins, err := s.ListLogins(ctx, f.users[i%len(f.users)].ID, T0)
			if err != nil || len(logins) < benchSessions/benchUsers/2 {
				b.Fatalf("ListLogins = %d logins, %v", len(logins), err)
			}
			i++
		}
	})
	// A poll of the feed, as a server makes every second: the last few
	// entries after its cursor, of the last access-token lifetime.
	b.Run("RevocationsAfter", func(b *testing.B) {
		b.ReportAllocs()
		since := f.feed[0].At
		after := f.feed[len(f.feed)-11].Seq
		for b.Loop() {
			events, err := s.RevocationsAfter(ctx, after, since, 1000)
			if err != nil || len(events) != 10 {
				b.Fatalf("RevocationsAfter = %d entries, %v; want 10, nil", len(events), err)
			}
		}
	})
	// The writes go on where their last run (of -count) stopped.
	created, touched, rotated := 0, 0, 0
	b.Run("CreateLogin", func(b *testing.B) {
		b.ReportAllocs()
		i := created
		defer func() { created = i }()
		for b.Loop() {
			u := f.users[i%len(f.users)]
			l := Session(fmt.Sprintf("bench-login-%08d", i), u.ID, T0)
			if err := s.CreateLogin(ctx, l, Event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("TouchLogin", func(b *testing.B) {
		b.ReportAllocs()
		i := touched
		defer func() { touched = i }()
		for b.Loop() {
			l := f.sessions[i%len(f.sessions)]
			seen := T0.Add(time.Duration(i+1) * time.Millisecond)
			if err := s.TouchLogin(ctx, l.ID, seen, seen.Add(24*time.Hour)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("RotateRefreshToken", func(b *testing.B) {
		b.ReportAllocs()
		i := rotated
		defer func() { rotated = i }()
		for b.Loop() {
			k := i % len(f.tokens)
			next := gatehouse.RefreshToken{
				Hash:      benchHash(benchTokens + i),
				LoginID:   f.tokenLogins[k],
				CreatedAt: T0.Add(time.Duration(i+1) * time.Millisecond),
			}
			next.ExpiresAt = next.CreatedAt.Add(7 * 24 * time.Hour)
			won, err := s.RotateRefreshToken(ctx, f.tokens[k], next, Event(gatehouse.EventTokenRefreshed, ""))
			if err != nil || !won {
				b.Fatalf("RotateRefreshToken = %t, %v; want true, nil", won, err)
			}
			f.tokens[k] = next.Hash
			i++
		}
	})
}

// benchStore is what Bench filled a store with.
type benchStore struct {
	users       []gatehouse.User
	sessions    []gatehouse.Login // live ones
	tokenLogins []string
	tokens      [][]byte // the hash of each token login's unused token
	feed        []gatehouse.RevocationEvent
}

// benchHash returns a distinct refresh token hash for each n.
func benchHash(n int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h := sha256.Sum256(b[:])
	return h[:]
}

func fill(b *testing.B, s gatehouse.Store) benchStore {
	b.Helper()
	ctx := b.Context()
	var f benchStore
	for i := range benchUsers {
		u := User(fmt.Sprintf("user-%06d", i))
		u.Roles = []string{"admin", "member"}
		CreateUser(b, s, u)
		f.users = append(f.users, u)
	}
	logins := make([]gatehouse.Login, benchSessions)
	for i := range logins {
		logins[i] = Session(fmt.Sprintf("login-%08d", i), f.users[i%benchUsers].ID, T0)
	}
	insertLogins(b, s, logins)
	for i := range benchTokens {
		u := f.users[i%benchUsers]
		l := Token(fmt.Sprintf("login-token-%06d", i), u.ID, T0)
		rt := gatehouse.RefreshToken{Hash: benchHash(i), LoginID: l.ID, CreatedAt: T0, ExpiresAt: T0.Add(7 * 24 * time.Hour)}
		CreateTokenLogin(b, s, l, rt)
		f.tokenLogins = append(f.tokenLogins, l.ID)
		f.tokens = append(f.tokens, rt.Hash)
	}
	live := len(logins) - benchRevoked
	for i, l := range logins[live:] {
		r := gatehouse.Revocation{UserID: l.UserID, LoginID: l.ID, Reason: gatehouse.ReasonLogout, At: T0.Add(time.Duration(i) * time.Second)}
		if _, err := s.RevokeLogins(ctx, r, Event(gatehouse.EventLogout, l.UserID)); err != nil {
			b.Fatal(err)
		}
	}
	f.sessions = logins[:live]
	feed, err := s.RevocationsAfter(ctx, 0, time.Time{}, 2*benchRevoked)
	if err != nil || len(feed) != benchRevoked {
		b.Fatalf("RevocationsAfter = %d entries, %v; want %d, nil", len(feed), err, benchRevoked)
	}
	f.feed = feed
	return f
}
