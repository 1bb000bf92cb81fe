package gatehouse_test

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

const appCallback = "https://app.example.com/callback"

// signedIn returns a principal with a session login, as the continue
// endpoint reads it from the cookie.
func (e *appEnv) signedIn(t *testing.T, email string) gatehouse.Principal {
	t.Helper()
	e.user(t, email)
	res, err := e.svc.Login(t.Context(), gatehouse.LoginRequest{Email: email, Password: testPassword, Mode: gatehouse.ModeSession})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.AuthenticateSession(t.Context(), res.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func randomCode() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeFor runs a request of app through to its code for p.
func (e *appEnv) codeFor(t *testing.T, app gatehouse.App, p gatehouse.Principal, scopes ...string) (gatehouse.AuthRequest, string) {
	t.Helper()
	if scopes == nil {
		scopes = []string{"openid", "offline_access"}
	}
	r, err := e.svc.StartAuthRequest(t.Context(), gatehouse.NewAuthRequest{AppID: app.ID, RedirectURI: appCallback, Scopes: scopes,
		CodeChallengeMethod: "S256", Request: []byte(`{}`)}, gatehouse.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("StartAuthRequest = %v", err)
	}
	if _, need, err := e.svc.ContinueAuthRequest(t.Context(), r.ID, &p, gatehouse.Prompt{}, gatehouse.Client{IP: "192.0.2.1"}); err != nil || need != gatehouse.InteractionNone {
		t.Fatalf("ContinueAuthRequest = %v, %v; want none, nil", need, err)
	}
	code := randomCode()
	if err := e.svc.IssueAuthCode(t.Context(), r.ID, code); err != nil {
		t.Fatalf("IssueAuthCode = %v", err)
	}
	return r, code
}

func TestStartAuthRequest(t *testing.T) {
	e := newAppEnv(t)
	conf, _ := e.addApp(t, gatehouse.AppSpec{Name: "Wiki", RedirectURIs: []string{appCallback}, Trusted: true})
	pub, _ := e.addApp(t, gatehouse.AppSpec{Name: "SPA", RedirectURIs: []string{appCallback}, Public: true, Trusted: true})
	for _, tt := range []struct {
		name string
		nr   gatehouse.NewAuthRequest
		want gatehouse.Code
	}{
		{"confidential without PKCE", gatehouse.NewAuthRequest{AppID: conf.ID, RedirectURI: appCallback, Scopes: []string{"openid"}}, ""},
		{"unknown app", gatehouse.NewAuthRequest{AppID: "nope", RedirectURI: appCallback, Scopes: []string{"openid"}}, gatehouse.CodeInvalidClient},
		{"trailing slash", gatehouse.NewAuthRequest{AppID: conf.ID, RedirectURI: appCallback + "/", Scopes: []string{"openid"}}, gatehouse.CodeInvalidRequest},
		{"unknown scope", gatehouse.NewAuthRequest{AppID: conf.ID, RedirectURI: appCallback, Scopes: []string{"openid", "admin"}}, gatehouse.CodeInvalidScope},
		{"no openid", gatehouse.NewAuthRequest{AppID: conf.ID, RedirectURI: appCallback, Scopes: []string{"email"}}, gatehouse.CodeInvalidScope},
		{"plain PKCE", gatehouse.NewAuthRequest{AppID: conf.ID, RedirectURI: appCallback, Scopes: []string{"openid"}, CodeChallengeMethod: "plain"}, gatehouse.CodeInvalidRequest},
		{"public without PKCE", gatehouse.NewAuthRequest{AppID: pub.ID, RedirectURI: appCallback, Scopes: []string{"openid"}}, gatehouse.CodeInvalidRequest},
		{"public with S256", gatehouse.NewAuthRequest{AppID: pub.ID, RedirectURI: appCallback, Scopes: []string{"openid"}, CodeChallengeMethod: "S256"}, ""},
		{"too large", gatehouse.NewAuthRequest{AppID: conf.ID, RedirectURI: appCallback, Scopes: []string{"openid"}, Request: make([]byte, gatehouse.MaxAuthRequestBytes+1)}, gatehouse.CodeInvalidRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.StartAuthRequest(t.Context(), tt.nr, gatehouse.Client{})
			if gatehouse.ErrorCode(err) != tt.want {
				t.Errorf("StartAuthRequest = %v, want %q", err, tt.want)
			}
		})
	}

	// A request lives ten minutes.
	r, err := e.svc.StartAuthRequest(t.Context(), gatehouse.NewAuthRequest{AppID: conf.ID, RedirectURI: appCallback, Scopes: []string{"openid", "openid"}}, gatehouse.Client{})
	if err != nil || len(r.Scopes) != 1 {
		t.Fatalf("StartAuthRequest = %+v, %v; want the scopes once", r, err)
	}
	e.clock.Advance(gatehouse.AuthRequestTTL)
	if _, err := e.svc.AuthRequest(t.Context(), r.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("AuthRequest after ten minutes = %v, want not_found", err)
	}
}

func TestAuthCodeRules(t *testing.T) {
	e := newAppEnv(t)
	app, _ := e.addApp(t, gatehouse.AppSpec{Name: "Wiki", RedirectURIs: []string{appCallback}, Trusted: true})
	other, _ := e.addApp(t, gatehouse.AppSpec{Name: "Other", RedirectURIs: []string{appCallback}, Trusted: true})
	p := e.signedIn(t, "ada@example.com")
	c := gatehouse.Client{IP: "192.0.2.9"}

	// One code per request, issued only once it is completed, and only to
	// the browser that completed it.
	r, code := e.codeFor(t, app, p)
	if err := e.svc.IssueAuthCode(t.Context(), r.ID, randomCode()); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidGrant {
		t.Errorf("a second IssueAuthCode = %v, want invalid_grant", err)
	}
	if _, err := e.svc.CompletedAuthRequest(t.Context(), r.ID, &p); err != nil {
		t.Errorf("CompletedAuthRequest(its browser) = %v", err)
	}
	eve := e.signedIn(t, "eve@example.com")
	for _, q := range []*gatehouse.Principal{nil, &eve} {
		if _, err := e.svc.CompletedAuthRequest(t.Context(), r.ID, q); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("CompletedAuthRequest(another browser) = %v, want not_found", err)
		}
	}

	// Another app's code is refused and stays good for its own app.
	if _, err := e.svc.ExchangeAuthCode(t.Context(), other.ID, code, c); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidGrant {
		t.Errorf("ExchangeAuthCode(another app) = %v, want invalid_grant", err)
	}
	l, err := e.svc.ExchangeAuthCode(t.Context(), app.ID, code, c)
	if err != nil || l.RefreshToken == "" || l.Login.Mode != gatehouse.ModeOIDC || l.Login.Device != "Wiki" || l.Login.IP != "192.0.2.1" {
		t.Fatalf("ExchangeAuthCode = %+v, %v", l, err)
	}

	// Its second use is refused and revokes the login the first made.
	if _, err := e.svc.ExchangeAuthCode(t.Context(), app.ID, code, c); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidGrant {
		t.Errorf("ExchangeAuthCode again = %v, want invalid_grant", err)
	}
	if _, err := e.svc.RefreshAppLogin(t.Context(), app.ID, l.RefreshToken, c); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidGrant {
		t.Errorf("RefreshAppLogin after the code's reuse = %v, want invalid_grant", err)
	}
	events, _, _ := e.svc.Audit(t.Context(), gatehouse.AuditQuery{Type: gatehouse.EventCodeReused, Limit: 5})
	if len(events) != 1 || events[0].Detail != "client="+app.ID+" session="+l.Login.ID {
		t.Errorf("oidc.code_reused events = %+v", events)
	}

	// A code lives 60 seconds.
	_, code = e.codeFor(t, app, p)
	e.clock.Advance(gatehouse.AuthCodeTTL)
	if _, err := e.svc.ExchangeAuthCode(t.Context(), app.ID, code, c); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidGrant {
		t.Errorf("ExchangeAuthCode after 60 s = %v, want invalid_grant", err)
	}

	// Without offline_access: no refresh token, and the login lives as
	// long as an access token.
	_, code = e.codeFor(t, app, p, "openid")
	l, err = e.svc.ExchangeAuthCode(t.Context(), app.ID, code, c)
	if err != nil || l.RefreshToken != "" || l.Login.ExpiresAt.Sub(l.Login.CreatedAt) != gatehouse.DefaultAccessTTL {
		t.Errorf("ExchangeAuthCode without offline_access = %+v, %v", l, err)
	}
}

// TestAuthCodeRace: of concurrent exchanges of one code, one wins; the
// others are reuses, which revoke the winner's login.
func TestAuthCodeRace(t *testing.T) {
	e := newAppEnv(t)
	app, _ := e.addApp(t, gatehouse.AppSpec{Name: "Wiki", RedirectURIs: []string{appCallback}, Trusted: true})
	p := e.signedIn(t, "ada@example.com")
	_, code := e.codeFor(t, app, p)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		wins   []gatehouse.AppLogin
		reused int
	)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := e.svc.ExchangeAuthCode(t.Context(), app.ID, code, gatehouse.Client{})
			mu.Lock()
			defer mu.Unlock()
			switch gatehouse.ErrorCode(err) {
			case "":
				wins = append(wins, l)
			case gatehouse.CodeInvalidGrant:
				reused++
			default:
				t.Errorf("ExchangeAuthCode = %v", err)
			}
		}()
	}
	wg.Wait()
	if len(wins) != 1 || reused != 5 {
		t.Fatalf("%d exchanges won and %d were refused, want 1 and 5", len(wins), reused)
	}
	if _, err := e.svc.RefreshAppLogin(t.Context(), app.ID, wins[0].RefreshToken, gatehouse.Client{}); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidGrant {
		t.Errorf("the winner's refresh after the race = %v, want invalid_grant (revoked)", err)
	}
}

func TestContinueAuthRequest(t *testing.T) {
	e := newAppEnv(t)
	trusted, _ := e.addApp(t, gatehouse.AppSpec{Name: "Wiki", RedirectURIs: []string{appCallback}, Trusted: true})
	forum, _ := e.addApp(t, gatehouse.AppSpec{Name: "Forum", RedirectURIs: []string{appCallback}})
	p := e.signedIn(t, "ada@example.com")
	start := func(app gatehouse.App) string {
		r, err := e.svc.StartAuthRequest(t.Context(), gatehouse.NewAuthRequest{AppID: app.ID, RedirectURI: appCallback, Scopes: []string{"openid", "email"}}, gatehouse.Client{})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	zero := time.Duration(0)
	p2 := p // the same browser after a second factor
	p2.Login.AAL, p2.Login.AMR = gatehouse.AAL2, []string{gatehouse.AMRPassword, "otp"}
	for _, tt := range []struct {
		name string
		app  gatehouse.App
		p    *gatehouse.Principal
		pr   gatehouse.Prompt
		want gatehouse.Interaction
	}{
		{"no login", trusted, nil, gatehouse.Prompt{}, gatehouse.InteractionLogin},
		{"prompt=login", trusted, &p, gatehouse.Prompt{Login: true}, gatehouse.InteractionLogin},
		{"max_age=0", trusted, &p, gatehouse.Prompt{MaxAge: &zero}, gatehouse.InteractionLogin},
		{"another user than the hint's", trusted, &p, gatehouse.Prompt{UserID: "someone-else"}, gatehouse.InteractionLogin},
		{"acr 2 at aal1", trusted, &p, gatehouse.Prompt{AAL2: true}, gatehouse.InteractionStepUp},
		{"untrusted without consent", forum, &p, gatehouse.Prompt{}, gatehouse.InteractionConsent},
		{"trusted", trusted, &p, gatehouse.Prompt{}, gatehouse.InteractionNone},
		{"acr 2 at aal2", trusted, &p2, gatehouse.Prompt{AAL2: true}, gatehouse.InteractionNone},
		{"hinted user", trusted, &p, gatehouse.Prompt{UserID: p.User.ID}, gatehouse.InteractionNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			r, need, err := e.svc.ContinueAuthRequest(t.Context(), start(tt.app), tt.p, tt.pr, gatehouse.Client{})
			if err != nil || need != tt.want {
				t.Fatalf("ContinueAuthRequest = %v, %v; want %v", need, err, tt.want)
			}
			if done := need == gatehouse.InteractionNone; r.Done() != done || done && (r.UserID != p.User.ID || r.AAL != tt.p.Login.AAL ||
				len(r.AMR) != len(tt.p.Login.AMR) || !r.AuthTime.Equal(p.Login.CreatedAt)) {
				t.Errorf("request after continue = %+v", r)
			}
		})
	}

	// Consent, once remembered, covers its scopes; prompt=consent wants
	// one given after the request began.
	if err := e.svc.GrantConsent(t.Context(), p, forum.ID, []string{"openid", "email"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if _, need, err := e.svc.ContinueAuthRequest(t.Context(), start(forum), &p, gatehouse.Prompt{}, gatehouse.Client{}); err != nil || need != gatehouse.InteractionNone {
		t.Errorf("consented: %v, %v; want none", need, err)
	}
	id := start(forum)
	if _, need, _ := e.svc.ContinueAuthRequest(t.Context(), id, &p, gatehouse.Prompt{Consent: true}, gatehouse.Client{}); need != gatehouse.InteractionConsent {
		t.Errorf("prompt=consent with an older consent: %v, want consent", need)
	}
	e.clock.Advance(time.Second)
	if err := e.svc.GrantConsent(t.Context(), p, forum.ID, []string{"openid", "email"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, need, err := e.svc.ContinueAuthRequest(t.Context(), id, &p, gatehouse.Prompt{Consent: true}, gatehouse.Client{}); err != nil || need != gatehouse.InteractionNone {
		t.Errorf("prompt=consent after a fresh consent: %v, %v; want none", need, err)
	}
}
