package gatehouse_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// textOnly is a store that refuses what PostgreSQL refuses and SQLite
// takes: a text argument with NUL or invalid UTF-8, as an outage (503).
type textOnly struct{ gatehouse.Store }

func refuse(args ...string) error {
	for _, a := range args {
		if !utf8.ValidString(a) || strings.ContainsRune(a, 0) {
			return gatehouse.Unavailable(errors.New("invalid byte sequence for encoding UTF8"))
		}
	}
	return nil
}

func (s textOnly) UserByID(ctx context.Context, id string) (gatehouse.User, error) {
	if err := refuse(id); err != nil {
		return gatehouse.User{}, err
	}
	return s.Store.UserByID(ctx, id)
}

func (s textOnly) ListUsers(ctx context.Context, q gatehouse.UserQuery) ([]gatehouse.User, error) {
	if err := refuse(q.EmailPrefix, q.After); err != nil {
		return nil, err
	}
	return s.Store.ListUsers(ctx, q)
}

func (s textOnly) ListAudit(ctx context.Context, q gatehouse.AuditQuery) ([]gatehouse.AuditEvent, error) {
	if err := refuse(q.UserID, q.Type); err != nil {
		return nil, err
	}
	return s.Store.ListAudit(ctx, q)
}

// The admin queries take hostile input as invalid_request or not_found,
// never as an outage; prefixes compare as emails do; pages end.
func TestAdminQueries(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := gatehouse.NewService(textOnly{st}, gatehouse.Config{
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"ada@example.com", "adam@example.com", "bob@example.com"} {
		if _, err := svc.CreateUser(ctx, email, "correct horse battery staple", nil, gatehouse.Client{}); err != nil {
			t.Fatal(err)
		}
	}

	users, next, err := svc.ListUsers(ctx, gatehouse.UserQuery{EmailPrefix: " ADA", Limit: 1})
	if err != nil || len(users) != 1 || users[0].Email != "ada@example.com" || next != users[0].ID {
		t.Fatalf("first page of ADA = %v, next %q, %v", users, next, err)
	}
	users, next, err = svc.ListUsers(ctx, gatehouse.UserQuery{EmailPrefix: " ADA", After: next, Limit: 1})
	if err != nil || len(users) != 1 || users[0].Email != "adam@example.com" || next != "" {
		t.Fatalf("second page of ADA = %v, next %q, %v; want adam and no next", users, next, err)
	}
	events, before, err := svc.Audit(ctx, gatehouse.AuditQuery{Type: gatehouse.EventUserCreated, Limit: 2})
	if err != nil || len(events) != 2 || before != events[1].ID || events[0].ID <= events[1].ID {
		t.Fatalf("first page of user.created = %+v, next %d, %v", events, before, err)
	}
	events, before, err = svc.Audit(ctx, gatehouse.AuditQuery{Type: gatehouse.EventUserCreated, Before: before, Limit: 2})
	if err != nil || len(events) != 1 || before != 0 {
		t.Fatalf("second page of user.created = %+v, next %d, %v; want one and no next", events, before, err)
	}

	long := strings.Repeat("a", 255)
	for _, tt := range []struct {
		name string
		call func() error
		want gatehouse.Code
	}{
		{"prefix with NUL", func() error {
			_, _, err := svc.ListUsers(ctx, gatehouse.UserQuery{EmailPrefix: "a\x00", Limit: 1})
			return err
		}, gatehouse.CodeInvalidRequest},
		{"prefix not UTF-8", func() error {
			_, _, err := svc.ListUsers(ctx, gatehouse.UserQuery{EmailPrefix: "\xff", Limit: 1})
			return err
		}, gatehouse.CodeInvalidRequest},
		{"prefix too long", func() error {
			_, _, err := svc.ListUsers(ctx, gatehouse.UserQuery{EmailPrefix: long, Limit: 1})
			return err
		}, gatehouse.CodeInvalidRequest},
		{"after with NUL", func() error {
			_, _, err := svc.ListUsers(ctx, gatehouse.UserQuery{After: "\x00", Limit: 1})
			return err
		}, gatehouse.CodeInvalidRequest},
		{"audit user not UTF-8", func() error { _, _, err := svc.Audit(ctx, gatehouse.AuditQuery{UserID: "\xff", Limit: 1}); return err }, gatehouse.CodeInvalidRequest},
		{"audit type malformed", func() error {
			_, _, err := svc.Audit(ctx, gatehouse.AuditQuery{Type: "User Created", Limit: 1})
			return err
		}, gatehouse.CodeInvalidRequest},
		{"audit before negative", func() error { _, _, err := svc.Audit(ctx, gatehouse.AuditQuery{Before: -1, Limit: 1}); return err }, gatehouse.CodeInvalidRequest},
		{"user id with NUL", func() error { _, err := svc.User(ctx, "\x00"); return err }, gatehouse.CodeNotFound},
		{"disable id not UTF-8", func() error { _, err := svc.SetDisabled(ctx, "\xff", true, gatehouse.Client{}); return err }, gatehouse.CodeNotFound},
		{"roles id with NUL", func() error { _, err := svc.SetRoles(ctx, "\x00", nil, gatehouse.Client{}); return err }, gatehouse.CodeNotFound},
		{"revoke id with NUL", func() error { _, err := svc.RevokeUserSessions(ctx, "\x00", gatehouse.Client{}); return err }, gatehouse.CodeNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := gatehouse.ErrorCode(tt.call()); got != tt.want {
				t.Errorf("code = %q, want %q", got, tt.want)
			}
		})
	}
	for _, s := range []string{"0", "-1", "x", "1e3", fmt.Sprint(uint64(1) << 63)} {
		if _, err := gatehouse.ParseAuditCursor(s); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidRequest {
			t.Errorf("ParseAuditCursor(%q) = %v, want invalid_request", s, err)
		}
	}
	if n, err := gatehouse.ParseAuditCursor("42"); n != 42 || err != nil {
		t.Errorf("ParseAuditCursor(42) = %d, %v", n, err)
	}
}
