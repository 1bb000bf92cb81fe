package gatehouse_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// userReads counts the reads of a user by id.
type userReads struct {
	gatehouse.Store
	n atomic.Int64
}

func (s *userReads) UserByID(ctx context.Context, id string) (gatehouse.User, error) {
	s.n.Add(1)
	return s.Store.UserByID(ctx, id)
}

// TestRolesChangedAndBack: a token issued before a change of the user's
// roles is refused even once the roles are changed back, by the server
// that made the changes and by one that learns of them from the feed
// (without reading the user); a token issued after, even in the same
// second as the change, is accepted by both.
func TestRolesChangedAndBack(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	open := func() (*gatehouse.Service, *userReads) {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		spy := &userReads{Store: st}
		svc, err := gatehouse.NewService(spy, gatehouse.Config{
			Now:    clk.Now,
			Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
			Tokens: &gatehouse.TokenConfig{Issuer: "https://auth.example.test", Secret: []byte("a test secret of at least thirty-two bytes")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return svc, spy
	}
	here, _ := open()
	there, thereReads := open()
	u, err := here.CreateUser(ctx, "ada@example.com", testPassword, []string{gatehouse.RoleCustomer}, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	login := func() gatehouse.TokenPair {
		t.Helper()
		res, err := here.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: testPassword, Mode: gatehouse.ModeToken})
		if err != nil {
			t.Fatal(err)
		}
		return res.Tokens
	}
	check := func(name, tok string, ok bool) {
		t.Helper()
		if err := there.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		for server, svc := range map[string]*gatehouse.Service{"here": here, "there": there} {
			_, err := svc.AuthenticateToken(ctx, tok)
			switch {
			case ok && err != nil:
				t.Errorf("%s: %s: %v, want it accepted", server, name, err)
			case !ok && gatehouse.ErrorCode(err) != gatehouse.CodeInvalidToken:
				t.Errorf("%s: %s: %v, want invalid_token", server, name, err)
			}
		}
	}
	setRoles := func(roles ...string) {
		t.Helper()
		if _, err := here.SetRoles(ctx, u.ID, roles, gatehouse.Client{}); err != nil {
			t.Fatal(err)
		}
	}

	before := login()
	check("token before any change", before.AccessToken, true)
	clk.Advance(1500 * time.Millisecond)
	setRoles(gatehouse.RoleCustomer, gatehouse.RoleService)
	check("token before the change", before.AccessToken, false)
	clk.Advance(time.Second)
	setRoles(gatehouse.RoleCustomer)
	reads := thereReads.n.Load()
	check("token before the change and the change back", before.AccessToken, false)
	if n := thereReads.n.Load() - reads; n != 0 {
		t.Errorf("applying the feed read the user %d times, want 0", n)
	}

	clk.Advance(300 * time.Millisecond) // the second of the change back
	check("token issued after the change back", login().AccessToken, true)
	res, err := here.Refresh(ctx, before.RefreshToken, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	check("token refreshed after the change back", res.Tokens.AccessToken, true)
	clk.Advance(time.Hour)
	check("token issued an hour later", login().AccessToken, true)
}
