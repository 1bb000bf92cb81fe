package gatehouse_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/passkey/passkeytest"
)

const pkOrigin = "https://auth.example.test"

var (
	uv      = passkeytest.Ceremony{Flags: passkeytest.FlagUP | passkeytest.FlagUV, Origin: pkOrigin}
	upOnly  = passkeytest.Ceremony{Flags: passkeytest.FlagUP, Origin: pkOrigin}
	pkLogin = gatehouse.PasskeyLoginRequest{Mode: gatehouse.ModeSession, Client: client}
)

// withPasskey registers ada with a passkey (with the password) and
// returns her, her authenticator and the passkey.
func (e *mailEnv) withPasskey(t *testing.T) (gatehouse.User, *passkeytest.Authenticator, gatehouse.Passkey) {
	t.Helper()
	ada := e.register(t, "ada@example.com")
	e.weak = e.login(t, "ada@example.com", mailPW, gatehouse.ModeSession)
	p := e.principal(t, e.weak)
	a := passkeytest.New(t)
	return ada, a, e.addPasskey(t, p, a, "Laptop")
}

func (e *mailEnv) addPasskey(t *testing.T, p gatehouse.Principal, a *passkeytest.Authenticator, name string) gatehouse.Passkey {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.BeginPasskeyRegistration(ctx, p, "", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Fatalf("BeginPasskeyRegistration without the password = %v, want invalid_credentials", err)
	}
	if _, err := e.svc.BeginPasskeyRegistration(ctx, p, "wrong password!", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Fatalf("BeginPasskeyRegistration with a wrong password = %v", err)
	}
	opts, err := e.svc.BeginPasskeyRegistration(ctx, p, mailPW, client)
	if err != nil {
		t.Fatal(err)
	}
	o := passkeytest.ReadOptions(t, opts).PublicKey
	if o.RP.ID != "auth.example.test" || o.AuthenticatorSel == nil || o.AuthenticatorSel.ResidentKey != "required" {
		t.Errorf("creation options %s", opts)
	}
	k, err := e.svc.FinishPasskeyRegistration(ctx, p, name, a.Create(t, opts, uv), client)
	if err != nil {
		t.Fatalf("FinishPasskeyRegistration = %v", err)
	}
	if k.Name != name || k.ID == "" || k.UserID != p.User.ID || !k.CreatedAt.Equal(e.now()) || !k.LastUsedAt.IsZero() {
		t.Errorf("passkey %+v", k)
	}
	return k
}

func (e *mailEnv) beginPasskeyLogin(t *testing.T) gatehouse.PasskeyLogin {
	t.Helper()
	b, err := e.svc.BeginPasskeyLogin(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	if o := passkeytest.ReadOptions(t, b.Options).PublicKey; o.UserVerification != "required" || len(o.AllowCredentials) != 0 || b.ChallengeID == "" {
		t.Errorf("request options %s, challenge_id %q", b.Options, b.ChallengeID)
	}
	return b
}

func (e *mailEnv) auditDetails(t *testing.T, userID, typ string) []string {
	t.Helper()
	evs, err := e.st.ListAudit(context.Background(), gatehouse.AuditQuery{UserID: userID, Type: typ, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var d []string
	for _, ev := range evs {
		d = append(d, ev.Detail)
	}
	return d
}

func TestPasskeyRegisterListRename(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, a, k := e.withPasskey(t)
	p := e.principal(t, e.weak)
	if got := e.auditDetails(t, ada.ID, gatehouse.EventPasskeyAdded); len(got) != 1 || got[0] != "passkey="+k.ID {
		t.Errorf("passkey.added events %v", got)
	}
	if n := e.queued(t); n != 1 {
		t.Errorf("%d mails queued, want the notice of the passkey", n)
	}
	// The same authenticator again is excluded by the options and refused.
	opts, err := e.svc.BeginPasskeyRegistration(ctx, p, mailPW, client)
	if err != nil {
		t.Fatal(err)
	}
	if ex := passkeytest.ReadOptions(t, opts).PublicKey.ExcludeCredentials; len(ex) != 1 || ex[0].ID != passkeytest.B64.EncodeToString(a.CredID) {
		t.Errorf("excludeCredentials %v", ex)
	}
	if _, err := e.svc.FinishPasskeyRegistration(ctx, p, "", a.Create(t, opts, uv), client); code(err) != gatehouse.CodeInvalidCredential {
		t.Errorf("registering the same credential again = %v, want invalid_credential", err)
	}
	// An answer for another origin, or to no ceremony, does not verify.
	opts, _ = e.svc.BeginPasskeyRegistration(ctx, p, mailPW, client)
	b := passkeytest.New(t)
	bad := uv
	bad.Origin = "https://evil.example.net"
	if _, err := e.svc.FinishPasskeyRegistration(ctx, p, "", b.Create(t, opts, bad), client); code(err) != gatehouse.CodeInvalidCredential {
		t.Errorf("another origin = %v, want invalid_credential", err)
	}
	// That ceremony is spent, even by a refusal.
	if _, err := e.svc.FinishPasskeyRegistration(ctx, p, "", b.Create(t, opts, uv), client); code(err) != gatehouse.CodeInvalidCredential {
		t.Errorf("a spent ceremony = %v, want invalid_credential", err)
	}
	opts, _ = e.svc.BeginPasskeyRegistration(ctx, p, mailPW, client)
	k2, err := e.svc.FinishPasskeyRegistration(ctx, p, "", b.Create(t, opts, uv), client)
	if err != nil || k2.Name != "Passkey 2" {
		t.Fatalf("second passkey %+v, %v", k2, err)
	}
	list, err := e.svc.ListPasskeys(ctx, ada.ID)
	if err != nil || len(list) != 2 || list[0].ID != k.ID || list[1].ID != k2.ID {
		t.Fatalf("ListPasskeys = %+v, %v", list, err)
	}
	got, err := e.svc.RenamePasskey(ctx, p, k.ID, "Work laptop")
	if err != nil || got.Name != "Work laptop" {
		t.Errorf("RenamePasskey = %+v, %v", got, err)
	}
	for _, name := range []string{"", strings.Repeat("x", 65), "bad\x00name"} {
		if _, err := e.svc.RenamePasskey(ctx, p, k.ID, name); code(err) != gatehouse.CodeInvalidRequest {
			t.Errorf("RenamePasskey(%q) = %v, want invalid_request", name, err)
		}
	}
	if f, _ := e.svc.Factors(ctx, ada.ID); f.Passkeys != 2 || !slices.Equal(f.Methods(), []string{"passkey"}) {
		t.Errorf("Factors %+v, methods %v", f, f.Methods())
	}
}

func TestPasskeyOfAnotherUser(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	_, _, k := e.withPasskey(t)
	e.register(t, "bob@example.com")
	bob := e.principal(t, e.login(t, "bob@example.com", mailPW, gatehouse.ModeSession))
	if _, err := e.svc.RenamePasskey(ctx, bob, k.ID, "Mine"); code(err) != gatehouse.CodeNotFound {
		t.Errorf("RenamePasskey(Ada's, by Bob) = %v, want not_found", err)
	}
	if err := e.svc.RemovePasskey(ctx, bob, k.ID, mailPW, client); code(err) != gatehouse.CodeNotFound {
		t.Errorf("RemovePasskey(Ada's, by Bob) = %v, want not_found", err)
	}
	if list, _ := e.svc.ListPasskeys(ctx, k.UserID); len(list) != 1 || list[0].Name != "Laptop" {
		t.Errorf("Ada's passkeys %+v", list)
	}
}

func TestPasswordlessLogin(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, a, k := e.withPasskey(t)
	e.advance(time.Minute)

	b := e.beginPasskeyLogin(t)
	a.Counter = 5
	req := pkLogin
	req.ChallengeID, req.Credential, req.Remember, req.Device = b.ChallengeID, a.Get(t, b.Options, uv), true, "Phone"
	res, err := e.svc.FinishPasskeyLogin(ctx, req)
	if err != nil {
		t.Fatalf("FinishPasskeyLogin = %v", err)
	}
	if res.User.ID != ada.ID || res.Login.AAL != gatehouse.AAL2 || !slices.Equal(res.Login.AMR, []string{"hwk", "user", "mfa"}) ||
		res.Secret == "" || !res.Login.Remember || res.Login.Device != "Phone" {
		t.Errorf("login %+v", res.Login)
	}
	list, _ := e.svc.ListPasskeys(ctx, ada.ID)
	if len(list) != 1 || list[0].SignCount != 5 || !list[0].LastUsedAt.Equal(e.now()) || list[0].ID != k.ID {
		t.Errorf("passkey after use %+v", list)
	}
	// A challenge is used once.
	a.Counter = 6
	req.Credential = a.Get(t, b.Options, uv)
	if _, err := e.svc.FinishPasskeyLogin(ctx, req); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("a challenge used twice = %v, want invalid_credentials", err)
	}
	// In token mode too.
	b = e.beginPasskeyLogin(t)
	req = pkLogin
	req.Mode, req.ChallengeID, req.Credential = gatehouse.ModeToken, b.ChallengeID, a.Get(t, b.Options, uv)
	if res, err := e.svc.FinishPasskeyLogin(ctx, req); err != nil || res.Tokens.AccessToken == "" || res.Login.AAL != gatehouse.AAL2 {
		t.Errorf("token mode %+v, %v", res.Login, err)
	}
}

func TestPasswordlessRefusals(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, a, _ := e.withPasskey(t)
	try := func(name string, c passkeytest.Ceremony, counter uint32, want gatehouse.Code) {
		t.Helper()
		b := e.beginPasskeyLogin(t)
		a.Counter = counter
		req := pkLogin
		req.ChallengeID, req.Credential = b.ChallengeID, a.Get(t, b.Options, c)
		if _, err := e.svc.FinishPasskeyLogin(ctx, req); code(err) != want {
			t.Errorf("%s = %v, want %q", name, err, want)
		}
	}
	try("without user verification", upOnly, 1, gatehouse.CodeInvalidCredentials)
	try("with it", uv, 10, "")
	try("the counter going backwards", uv, 9, gatehouse.CodeInvalidCredentials)
	try("the same counter", uv, 10, gatehouse.CodeInvalidCredentials)
	if got := e.auditDetails(t, ada.ID, gatehouse.EventMFAFailed); !slices.Contains(got, "passkey counter went backwards") {
		t.Errorf("mfa.failed details %v, want the counter going backwards", got)
	}
	try("the counter going forward", uv, 11, "")

	// An expired challenge.
	b := e.beginPasskeyLogin(t)
	e.advance(5*time.Minute + time.Second)
	a.Counter = 12
	req := pkLogin
	req.ChallengeID, req.Credential = b.ChallengeID, a.Get(t, b.Options, uv)
	if _, err := e.svc.FinishPasskeyLogin(ctx, req); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("an expired challenge = %v, want invalid_credentials", err)
	}
	// An unknown challenge id, an unknown passkey.
	req.ChallengeID = strings.Repeat("A", 43)
	if _, err := e.svc.FinishPasskeyLogin(ctx, req); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("an unknown challenge = %v", err)
	}
	b = e.beginPasskeyLogin(t)
	stranger := passkeytest.New(t)
	stranger.UserHandle = []byte(ada.ID)
	req.ChallengeID, req.Credential = b.ChallengeID, stranger.Get(t, b.Options, uv)
	if _, err := e.svc.FinishPasskeyLogin(ctx, req); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("an unknown passkey = %v", err)
	}

	// A disabled account.
	if _, err := e.svc.SetDisabled(ctx, ada.ID, true, client); err != nil {
		t.Fatalf("SetDisabled: %v", err)
	}
	try("a disabled account", uv, 20, gatehouse.CodeAccountDisabled)
}

func TestPasskeyAsSecondFactor(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	_, a, k := e.withPasskey(t)

	// A user with passkeys and no TOTP goes through the second step too.
	pending := e.firstStep(t, gatehouse.ModeSession)
	if !slices.Equal(pending.Methods, []string{"passkey"}) || len(pending.Passkey) == 0 {
		t.Fatalf("pending %v %s", pending.Methods, pending.Passkey)
	}
	o := passkeytest.ReadOptions(t, pending.Passkey).PublicKey
	if len(o.AllowCredentials) != 1 || o.AllowCredentials[0].ID != passkeytest.B64.EncodeToString(a.CredID) {
		t.Errorf("request options %s", pending.Passkey)
	}
	// User presence suffices.
	a.Counter = 1
	res, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: pending.Token, Credential: a.Get(t, pending.Passkey, upOnly), Client: client})
	if err != nil {
		t.Fatalf("LoginMFA(passkey) = %v", err)
	}
	if res.Login.AAL != gatehouse.AAL2 || !slices.Equal(res.Login.AMR, []string{"pwd", "hwk", "mfa"}) || !res.Login.Remember || res.Login.Device != "Phone" {
		t.Errorf("login %+v", res.Login)
	}
	if list, _ := e.svc.ListPasskeys(ctx, k.UserID); list[0].SignCount != 1 || list[0].LastUsedAt.IsZero() {
		t.Errorf("passkey after use %+v", list[0])
	}

	// The options of one sign-in do not finish another.
	first, second := e.firstStep(t, gatehouse.ModeSession), e.firstStep(t, gatehouse.ModeSession)
	a.Counter = 2
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: second.Token, Credential: a.Get(t, first.Passkey, upOnly), Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Errorf("another sign-in's challenge = %v, want invalid_code", err)
	}
	// Its ceremony is spent by that attempt: the right answer now fails
	// too, and counts as a wrong code.
	a.Counter = 3
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: second.Token, Credential: a.Get(t, second.Passkey, upOnly), Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Errorf("a spent passkey challenge = %v, want invalid_code", err)
	}
	// A counter going backwards, as a second factor.
	a.Counter = 1
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: first.Token, Credential: a.Get(t, first.Passkey, upOnly), Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Errorf("counter backwards = %v, want invalid_code", err)
	}
	third := e.firstStep(t, gatehouse.ModeToken)
	a.Counter = 4
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: third.Token, Code: "123456", Credential: a.Get(t, third.Passkey, upOnly), Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Errorf("a code and a passkey at once = %v, want invalid_code", err)
	}
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: third.Token, Credential: a.Get(t, third.Passkey, upOnly), Client: client}); err != nil {
		t.Errorf("LoginMFA(passkey, token mode) = %v", err)
	}
}

func TestPasskeyWithTOTP(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, _, codes := e.enrolled(t)
	p := e.principal(t, e.weak)
	a := passkeytest.New(t)
	k := e.addPasskey(t, p, a, "Key")
	pending := e.firstStep(t, gatehouse.ModeSession)
	if !slices.Equal(pending.Methods, []string{"totp", "recovery_code", "passkey"}) || len(pending.Passkey) == 0 {
		t.Errorf("methods %v", pending.Methods)
	}
	// Removing the passkey leaves TOTP, and the recovery codes with it.
	if err := e.svc.RemovePasskey(ctx, p, k.ID, "wrong password!", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("RemovePasskey with a wrong password = %v", err)
	}
	if err := e.svc.RemovePasskey(ctx, p, k.ID, mailPW, client); err != nil {
		t.Fatalf("RemovePasskey = %v", err)
	}
	if f, _ := e.svc.Factors(ctx, ada.ID); !f.TOTP || f.Passkeys != 0 || f.RecoveryCodesLeft != len(codes) {
		t.Errorf("factors after removing the passkey %+v", f)
	}
	if got := e.auditDetails(t, ada.ID, gatehouse.EventPasskeyRemoved); len(got) != 1 {
		t.Errorf("passkey.removed events %v", got)
	}
}

func TestRemovingTheLastFactor(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, _, _ := e.enrolled(t)
	p := e.principal(t, e.weak)
	k := e.addPasskey(t, p, passkeytest.New(t), "Key")
	// TOTP goes, the passkey stays: the recovery codes stay.
	if err := e.svc.RemoveTOTP(ctx, p, mailPW, client); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.st.RecoveryCodesLeft(ctx, ada.ID); n != 10 {
		t.Errorf("%d recovery codes after removing TOTP with a passkey left, want 10", n)
	}
	// The passkey goes, the last factor: the recovery codes go too.
	if err := e.svc.RemovePasskey(ctx, p, k.ID, mailPW, client); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.st.RecoveryCodesLeft(ctx, ada.ID); n != 0 {
		t.Errorf("%d recovery codes after removing the last factor, want 0", n)
	}
	if f, _ := e.svc.Factors(ctx, ada.ID); len(f.Methods()) != 0 {
		t.Errorf("factors %+v", f)
	}
	// And a password alone signs in again.
	e.login(t, "ada@example.com", mailPW, gatehouse.ModeSession)
}

func TestPasskeysDisabledOnAnIP(t *testing.T) {
	e := newMailEnvLimits(t, nil, gatehouse.Limits{}, func(c *gatehouse.Config) { c.PublicURL = "http://127.0.0.1:8080" })
	if e.svc.PasskeysEnabled() {
		t.Fatal("passkeys on with an IP address as the issuer")
	}
	if _, err := e.svc.BeginPasskeyLogin(context.Background(), client); code(err) != gatehouse.CodePasskeysDisabled {
		t.Errorf("BeginPasskeyLogin = %v, want passkeys_disabled", err)
	}
	// An explicit relying party id that does not fit the origins stops
	// the service.
	_, err := gatehouse.NewService(e.st, gatehouse.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), PublicURL: "https://auth.example.test",
		Passkeys: gatehouse.PasskeyConfig{RPID: "example.org"}})
	if err == nil || !strings.Contains(err.Error(), "example.org") {
		t.Errorf("NewService with a relying party id that does not fit = %v", err)
	}
	// An issuer on plain HTTP (serve --dev behind a name) turns passkeys
	// off too, without stopping the service.
	svc, err := gatehouse.NewService(e.st, gatehouse.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), PublicURL: "http://gatehouse.cluster"})
	if err != nil || svc.PasskeysEnabled() {
		t.Errorf("NewService with a plain-HTTP issuer = passkeys %v, %v; want off and no error", svc != nil && svc.PasskeysEnabled(), err)
	}
}

func TestResetFactorsRemovesPasskeys(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, _, _ := e.withPasskey(t)
	if err := e.svc.ResetFactors(ctx, ada.ID, gatehouse.Client{IP: "192.0.2.9", Actor: "admin-1"}); err != nil {
		t.Fatalf("ResetFactors = %v", err)
	}
	if list, _ := e.svc.ListPasskeys(ctx, ada.ID); len(list) != 0 {
		t.Errorf("passkeys after ResetFactors %+v", list)
	}
	if got := e.auditDetails(t, ada.ID, gatehouse.EventPasskeyRemoved); len(got) != 1 || !strings.Contains(got[0], "admin-1") {
		t.Errorf("passkey.removed events %v", got)
	}
	e.login(t, "ada@example.com", mailPW, gatehouse.ModeSession)
}

func TestPasskeyChangesAfterARecentAAL2Login(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	_, a, k := e.withPasskey(t)
	b := e.beginPasskeyLogin(t)
	a.Counter = 1
	req := pkLogin
	req.ChallengeID, req.Credential = b.ChallengeID, a.Get(t, b.Options, uv)
	res, err := e.svc.FinishPasskeyLogin(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	p := e.principal(t, res)
	// Within 10 minutes of a login at aal 2, no password is needed.
	if _, err := e.svc.BeginPasskeyRegistration(ctx, p, "", client); err != nil {
		t.Errorf("BeginPasskeyRegistration at a recent aal 2 = %v", err)
	}
	e.advance(10*time.Minute + time.Second)
	p = e.principal(t, res)
	if _, err := e.svc.BeginPasskeyRegistration(ctx, p, "", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("BeginPasskeyRegistration at an older aal 2 = %v, want invalid_credentials", err)
	}
	if err := e.svc.RemovePasskey(ctx, p, k.ID, "", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("RemovePasskey at an older aal 2 = %v, want invalid_credentials", err)
	}
}

func TestPasskeyBeginsAreThrottled(t *testing.T) {
	ctx := context.Background()
	e := newMailEnvLimits(t, nil, gatehouse.Limits{PasskeyBegins: 3})
	for i := range 3 {
		if _, err := e.svc.BeginPasskeyLogin(ctx, client); err != nil {
			t.Fatalf("begin %d: %v", i+1, err)
		}
	}
	if _, err := e.svc.BeginPasskeyLogin(ctx, client); code(err) != gatehouse.CodeTooManyAttempts {
		t.Errorf("the 4th begin from one address in a minute = %v, want too_many_attempts", err)
	}
	if _, err := e.svc.BeginPasskeyLogin(ctx, gatehouse.Client{IP: "198.51.100.7"}); err != nil {
		t.Errorf("a begin from another address = %v", err)
	}
}

func TestStepUpWithAPasskey(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	_, a, _ := e.withPasskey(t)
	// e.weak signed in before the passkey existed: a password login at AAL1.
	p := e.principal(t, e.weak)
	if p.Login.AAL != gatehouse.AAL1 {
		t.Fatalf("the first login is at AAL%d", p.Login.AAL)
	}
	first, err := e.svc.BeginStepUp(ctx, p, client)
	if err != nil {
		t.Fatal(err)
	}
	o := passkeytest.ReadOptions(t, first.Options).PublicKey
	if len(o.AllowCredentials) != 1 || o.AllowCredentials[0].ID != passkeytest.B64.EncodeToString(a.CredID) || first.ChallengeID == "" {
		t.Fatalf("step-up options %s, challenge %q", first.Options, first.ChallengeID)
	}
	second, err := e.svc.BeginStepUp(ctx, p, client)
	if err != nil {
		t.Fatal(err)
	}
	// Without the challenge id, or with another ceremony's, nothing rises.
	a.Counter = 1
	for name, id := range map[string]string{"none": "", "other": second.ChallengeID, "made up": strings.Repeat("A", len(first.ChallengeID))} {
		if _, err := e.svc.StepUp(ctx, p, gatehouse.MFARequest{ChallengeID: id, Credential: a.Get(t, first.Options, upOnly), Client: client}); code(err) != gatehouse.CodeInvalidCode {
			t.Errorf("StepUp(challenge %s) = %v, want invalid_code", name, err)
		}
	}
	if got := e.principal(t, e.weak); got.Login.AAL != gatehouse.AAL1 {
		t.Fatalf("a refused step-up raised the login to AAL%d", got.Login.AAL)
	}
	a.Counter = 2
	third, err := e.svc.BeginStepUp(ctx, p, client)
	if err != nil {
		t.Fatal(err)
	}
	up, err := e.svc.StepUp(ctx, p, gatehouse.MFARequest{ChallengeID: third.ChallengeID, Credential: a.Get(t, third.Options, upOnly), Client: client})
	if err != nil {
		t.Fatalf("StepUp(passkey) = %v", err)
	}
	if up.Login.AAL != gatehouse.AAL2 || !slices.Equal(up.Login.AMR, []string{"pwd", "hwk", "mfa"}) || up.Login.ID == p.Login.ID || up.Secret == "" {
		t.Errorf("stepped-up login %+v", up.Login)
	}
	if _, err := e.svc.AuthenticateSession(ctx, e.weak.Secret); err == nil {
		t.Error("the AAL1 cookie still works after the step-up")
	}
	// The ceremony was spent.
	a.Counter = 3
	if _, err := e.svc.StepUp(ctx, e.principal(t, up), gatehouse.MFARequest{ChallengeID: third.ChallengeID, Credential: a.Get(t, third.Options, upOnly), Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Errorf("a spent step-up challenge = %v, want invalid_code", err)
	}

	// Someone without a passkey cannot begin one.
	e.register(t, "bob@example.com")
	bob := e.principal(t, e.login(t, "bob@example.com", mailPW, gatehouse.ModeSession))
	if _, err := e.svc.BeginStepUp(ctx, bob, client); code(err) != gatehouse.CodeNotEnrolled {
		t.Errorf("BeginStepUp without a passkey = %v, want not_enrolled", err)
	}
	// Ada's ceremony does not serve Bob.
	fourth, err := e.svc.BeginStepUp(ctx, e.principal(t, up), client)
	if err != nil {
		t.Fatal(err)
	}
	a.Counter = 4
	if _, err := e.svc.StepUp(ctx, bob, gatehouse.MFARequest{ChallengeID: fourth.ChallengeID, Credential: a.Get(t, fourth.Options, upOnly), Client: client}); code(err) != gatehouse.CodeNotEnrolled {
		t.Errorf("StepUp(Bob, Ada's ceremony) = %v, want not_enrolled", err)
	}
}
