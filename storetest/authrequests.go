package storetest

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// AuthRequest returns an authorization request of app app-1 made at
// created, live for ten minutes, not yet completed.
func AuthRequest(id string, created time.Time) gatehouse.AuthRequest {
	return gatehouse.AuthRequest{
		ID: id, AppID: "app-1", RedirectURI: "https://app.example.com/callback",
		Scopes: []string{"openid", "email", "offline_access"}, Request: []byte(`{"state":"s"}`),
		CreatedAt: created, ExpiresAt: created.Add(10 * time.Minute),
	}
}

// AppLogin returns a login of app app-1 made at created, live for a week.
func AppLogin(id, userID string, created time.Time) gatehouse.Login {
	return gatehouse.Login{
		ID: id, UserID: userID, Mode: gatehouse.ModeOIDC, AppID: "app-1", Device: "Wiki",
		IP: "192.0.2.7", UserAgent: "Mozilla/5.0", CreatedAt: created, LastSeenAt: created,
		ExpiresAt: created.Add(7 * 24 * time.Hour), AAL: gatehouse.AAL2, AMR: []string{"pwd", "otp"},
	}
}

func checkAuthRequest(t *testing.T, call string, got, want gatehouse.AuthRequest) {
	t.Helper()
	same := got.ID == want.ID && got.AppID == want.AppID && got.RedirectURI == want.RedirectURI &&
		slices.Equal(got.Scopes, want.Scopes) && bytes.Equal(got.Request, want.Request) &&
		got.UserID == want.UserID && got.AuthTime.Equal(want.AuthTime) && got.AAL == want.AAL &&
		slices.Equal(got.AMR, want.AMR) && got.IP == want.IP && got.UserAgent == want.UserAgent &&
		bytes.Equal(got.CodeHash, want.CodeHash) && got.CodeExpiresAt.Equal(want.CodeExpiresAt) &&
		got.CodeUsedAt.Equal(want.CodeUsedAt) && got.LoginID == want.LoginID &&
		got.CreatedAt.Equal(want.CreatedAt) && got.ExpiresAt.Equal(want.ExpiresAt)
	if !same {
		t.Errorf("%s =\n%+v\nwant\n%+v", call, got, want)
	}
	for _, tm := range []time.Time{got.AuthTime, got.CodeExpiresAt, got.CodeUsedAt, got.CreatedAt, got.ExpiresAt} {
		checkUTC(t, call, tm)
	}
}

// completedAuthRequest stores a request, completes it for alice and gives
// it the code "code-"+id; it returns the request as stored.
func completedAuthRequest(t testing.TB, s gatehouse.Store, id string) gatehouse.AuthRequest {
	t.Helper()
	r := AuthRequest(id, T0)
	if err := s.CreateAuthRequest(t.Context(), r); err != nil {
		t.Fatalf("CreateAuthRequest = %v, want nil", err)
	}
	r.UserID, r.AuthTime, r.AAL, r.AMR = "user-alice", T0.Add(-time.Minute), gatehouse.AAL2, []string{"pwd", "otp"}
	r.IP, r.UserAgent = "192.0.2.7", "Mozilla/5.0"
	if err := s.CompleteAuthRequest(t.Context(), r); err != nil {
		t.Fatalf("CompleteAuthRequest(user) = %v, want nil", err)
	}
	r.CodeHash, r.CodeExpiresAt = secretHash("code-"+id), T0.Add(time.Minute)
	if err := s.CompleteAuthRequest(t.Context(), r); err != nil {
		t.Fatalf("CompleteAuthRequest(code) = %v, want nil", err)
	}
	return r
}

func testAuthRequests(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	CreateUser(t, s, User("user-alice"))
	r := AuthRequest("req-1", T0)
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatalf("CreateAuthRequest = %v, want nil", err)
	}
	got, err := s.AuthRequest(ctx, r.ID)
	if err != nil {
		t.Fatalf("AuthRequest = %v, want nil", err)
	}
	checkAuthRequest(t, "AuthRequest", got, r)
	_, err = s.AuthRequest(ctx, "req-missing")
	CheckCode(t, "AuthRequest(missing)", err, gatehouse.CodeNotFound)

	// A code needs a completed request.
	early := r
	early.CodeHash, early.CodeExpiresAt = secretHash("early"), T0.Add(time.Minute)
	CheckCode(t, "CompleteAuthRequest(code before user)", s.CompleteAuthRequest(ctx, early), gatehouse.CodeNotFound)

	r = completedAuthRequest(t, s, "req-2")
	got, err = s.AuthRequest(ctx, r.ID)
	if err != nil {
		t.Fatalf("AuthRequest = %v, want nil", err)
	}
	checkAuthRequest(t, "AuthRequest(completed)", got, r)
	got, err = s.AuthRequestByCode(ctx, r.CodeHash)
	if err != nil {
		t.Fatalf("AuthRequestByCode = %v, want nil", err)
	}
	checkAuthRequest(t, "AuthRequestByCode", got, r)
	_, err = s.AuthRequestByCode(ctx, secretHash("no such code"))
	CheckCode(t, "AuthRequestByCode(missing)", err, gatehouse.CodeNotFound)

	// One code per request, and no change of user once it has one.
	again := r
	again.CodeHash = secretHash("second code")
	CheckCode(t, "CompleteAuthRequest(second code)", s.CompleteAuthRequest(ctx, again), gatehouse.CodeNotFound)
	other := r
	other.CodeHash, other.UserID = nil, "user-mallory"
	CheckCode(t, "CompleteAuthRequest(user after code)", s.CompleteAuthRequest(ctx, other), gatehouse.CodeNotFound)
	if got, _ := s.AuthRequest(ctx, r.ID); got.UserID != "user-alice" || !bytes.Equal(got.CodeHash, r.CodeHash) {
		t.Errorf("after refused completions, request = %+v, want it unchanged", got)
	}
	missing := AuthRequest("req-missing", T0)
	missing.UserID = "user-alice"
	CheckCode(t, "CompleteAuthRequest(missing)", s.CompleteAuthRequest(ctx, missing), gatehouse.CodeNotFound)
}

func testExchangeAuthCode(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	CreateUser(t, s, User("user-alice"))
	CreateApp(t, s, App("app-1"))
	r := completedAuthRequest(t, s, "req-1")
	l := AppLogin("login-app", "user-alice", T0.Add(time.Second))
	rt := RefreshToken("app", l.ID, l.CreatedAt)
	g := gatehouse.AppGrant{LoginID: l.ID, AppID: "app-1", Scopes: r.Scopes, AuthTime: r.AuthTime}
	won, err := s.ExchangeAuthCode(ctx, r.CodeHash, l, &rt, g, Event(gatehouse.EventLoginSucceeded, l.UserID))
	if !won || err != nil {
		t.Fatalf("ExchangeAuthCode = %t, %v; want true, nil", won, err)
	}
	got, err := s.AuthRequestByCode(ctx, r.CodeHash)
	if err != nil {
		t.Fatalf("AuthRequestByCode = %v, want nil", err)
	}
	r.CodeUsedAt, r.LoginID = l.CreatedAt, l.ID
	checkAuthRequest(t, "AuthRequestByCode(exchanged)", got, r)
	gotL, err := s.LoginByID(ctx, l.ID)
	if err != nil || gotL.Mode != gatehouse.ModeOIDC || gotL.Device != "Wiki" || gotL.AAL != gatehouse.AAL2 {
		t.Errorf("LoginByID(app login) = %+v, %v; want the oidc login", gotL, err)
	}
	gotRT, rtLogin, _, err := s.RefreshToken(ctx, rt.Hash)
	if err != nil || rtLogin.ID != l.ID {
		t.Errorf("RefreshToken(app's) = %v, login %q; want nil, %q", err, rtLogin.ID, l.ID)
	} else {
		checkRefreshToken(t, "RefreshToken(app's)", gotRT, rt)
	}
	gotG, err := s.AppGrant(ctx, l.ID)
	if err != nil || gotG.AppID != g.AppID || !slices.Equal(gotG.Scopes, g.Scopes) || !gotG.AuthTime.Equal(g.AuthTime) || gotG.LoginID != l.ID {
		t.Errorf("AppGrant = %+v, %v; want %+v", gotG, err, g)
	}
	_, err = s.AppGrant(ctx, "login-missing")
	CheckCode(t, "AppGrant(missing)", err, gatehouse.CodeNotFound)

	// A second exchange changes nothing.
	l2 := AppLogin("login-app-2", "user-alice", T0.Add(2*time.Second))
	g2 := gatehouse.AppGrant{LoginID: l2.ID, AppID: "app-1", Scopes: r.Scopes, AuthTime: r.AuthTime}
	won, err = s.ExchangeAuthCode(ctx, r.CodeHash, l2, nil, g2, Event(gatehouse.EventLoginSucceeded, l2.UserID))
	if won || err != nil {
		t.Errorf("second ExchangeAuthCode = %t, %v; want false, nil", won, err)
	}
	if _, err := s.LoginByID(ctx, l2.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("LoginByID(second exchange's login) = %v, want not_found", err)
	}
	won, err = s.ExchangeAuthCode(ctx, secretHash("no such code"), l2, nil, g2, Event(gatehouse.EventLoginSucceeded, l2.UserID))
	if won || err != nil {
		t.Errorf("ExchangeAuthCode(unknown code) = %t, %v; want false, nil", won, err)
	}

	// Without a refresh token; and refusals of mismatched parts.
	r3 := completedAuthRequest(t, s, "req-3")
	l3 := AppLogin("login-app-3", "user-alice", T0.Add(3*time.Second))
	g3 := gatehouse.AppGrant{LoginID: l3.ID, AppID: "app-1", Scopes: []string{"openid"}, AuthTime: r3.AuthTime}
	bad := Token("login-tok", "user-alice", T0)
	_, err = s.ExchangeAuthCode(ctx, r3.CodeHash, bad, nil, gatehouse.AppGrant{LoginID: bad.ID}, Event(gatehouse.EventLoginSucceeded, "user-alice"))
	CheckCode(t, "ExchangeAuthCode(token login)", err, gatehouse.CodeUnavailable)
	_, err = s.ExchangeAuthCode(ctx, r3.CodeHash, l3, nil, gatehouse.AppGrant{LoginID: "other"}, Event(gatehouse.EventLoginSucceeded, "user-alice"))
	CheckCode(t, "ExchangeAuthCode(another login's grant)", err, gatehouse.CodeUnavailable)
	won, err = s.ExchangeAuthCode(ctx, r3.CodeHash, l3, nil, g3, Event(gatehouse.EventLoginSucceeded, "user-alice"))
	if !won || err != nil {
		t.Fatalf("ExchangeAuthCode(no refresh token) = %t, %v; want true, nil (the refused calls changed nothing)", won, err)
	}

	// The grant and the refresh token go with their login.
	if _, err := s.RevokeLogins(ctx, gatehouse.Revocation{UserID: "user-alice", LoginID: l.ID, Reason: gatehouse.ReasonRevoked, At: T0},
		Event(gatehouse.EventSessionRevoked, "user-alice")); err != nil {
		t.Fatal(err)
	}
	_, err = s.AppGrant(ctx, l.ID)
	CheckCode(t, "AppGrant(revoked login)", err, gatehouse.CodeNotFound)
	_, _, _, err = s.RefreshToken(ctx, rt.Hash)
	CheckCode(t, "RefreshToken(revoked app login)", err, gatehouse.CodeNotFound)
	if logins, err := s.ListLogins(ctx, "user-alice", T0); err != nil || len(logins) != 1 || logins[0].ID != l3.ID || logins[0].Mode != gatehouse.ModeOIDC {
		t.Errorf("ListLogins = %+v, %v; want the other app login", logins, err)
	}
}

func testExchangeAuthCodeConcurrently(t *testing.T, s gatehouse.Store) {
	CreateUser(t, s, User("user-alice"))
	CreateApp(t, s, App("app-1"))
	r := completedAuthRequest(t, s, "req-1")
	const n = 8
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := AppLogin("login-"+string(rune('a'+i)), "user-alice", T0.Add(time.Second))
			g := gatehouse.AppGrant{LoginID: l.ID, AppID: "app-1", Scopes: r.Scopes, AuthTime: r.AuthTime}
			won, err := s.ExchangeAuthCode(t.Context(), r.CodeHash, l, nil, g, Event(gatehouse.EventLoginSucceeded, l.UserID))
			if err != nil {
				t.Errorf("ExchangeAuthCode = %v, want nil", err)
			}
			if won {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d of %d concurrent exchanges of one code won, want 1", wins.Load(), n)
	}
	if logins, _ := s.ListLogins(t.Context(), "user-alice", T0); len(logins) != 1 {
		t.Errorf("logins after the race = %d, want 1", len(logins))
	}
}

func testDeleteExpiredAuthRequests(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	for _, r := range []gatehouse.AuthRequest{AuthRequest("req-old", T0.Add(-time.Hour)), AuthRequest("req-new", T0)} {
		if err := s.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpiredAuthRequests(ctx, T0); n != 1 || err != nil {
		t.Errorf("DeleteExpiredAuthRequests(T0) = %d, %v; want 1, nil", n, err)
	}
	_, err := s.AuthRequest(ctx, "req-old")
	CheckCode(t, "AuthRequest(expired and swept)", err, gatehouse.CodeNotFound)
	if _, err := s.AuthRequest(ctx, "req-new"); err != nil {
		t.Errorf("AuthRequest(live) = %v, want nil", err)
	}
}
