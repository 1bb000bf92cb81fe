package gatehouse_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse"
)

// enrolled signs ada in, sets up an authenticator app and returns its
// secret and the recovery codes; e.weak is the login that set it up, at
// AAL1.
func (e *mailEnv) enrolled(t *testing.T) (gatehouse.User, string, []string) {
	t.Helper()
	ctx := context.Background()
	ada := e.register(t, "ada@example.com")
	e.weak = e.login(t, "ada@example.com", mailPW, gatehouse.ModeSession)
	p := e.principal(t, e.weak)
	if _, err := e.svc.EnrollTOTP(ctx, p, "wrong password!", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Fatalf("EnrollTOTP with a wrong password = %v", err)
	}
	key, err := e.svc.EnrollTOTP(ctx, p, mailPW, client)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key.URI, "otpauth://totp/") || !strings.HasPrefix(key.QR, "data:image/png;base64,") {
		t.Errorf("key %q %q", key.URI, key.QR[:30])
	}
	if _, err := e.svc.ConfirmTOTP(ctx, p, "000000", client); code(err) != gatehouse.CodeInvalidCode {
		t.Fatalf("ConfirmTOTP(wrong) = %v", err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, p, e.code(t, key.Secret, 0), client)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	if _, err := e.svc.EnrollTOTP(ctx, p, mailPW, client); code(err) != gatehouse.CodeAlreadyEnrolled {
		t.Errorf("EnrollTOTP again = %v, want already_enrolled", err)
	}
	return ada, key.Secret, codes
}

// code is the TOTP code of secret at the env's clock moved by steps.
func (e *mailEnv) code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := pqtotp.GenerateCode(secret, e.now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *mailEnv) principal(t *testing.T, res gatehouse.LoginResult) gatehouse.Principal {
	t.Helper()
	p, err := e.svc.AuthenticateSession(context.Background(), res.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// firstStep signs in with the password and returns the pending second step.
func (e *mailEnv) firstStep(t *testing.T, mode gatehouse.Mode) *gatehouse.MFAPending {
	t.Helper()
	_, err := e.svc.Login(context.Background(), gatehouse.LoginRequest{Email: "ada@example.com", Password: mailPW, Mode: mode, Remember: true, Device: "Phone", Client: client})
	var ge *gatehouse.Error
	if code(err) != gatehouse.CodeMFARequired || !errors.As(err, &ge) || ge.MFA == nil {
		t.Fatalf("Login with a second factor = %v, want mfa_required", err)
	}
	return ge.MFA
}

func TestSecondFactorSignIn(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, secret, codes := e.enrolled(t)
	e.advance(30 * time.Second)

	pending := e.firstStep(t, gatehouse.ModeToken)
	if !slices.Equal(pending.Methods, []string{"totp", "recovery_code"}) {
		t.Errorf("methods %v", pending.Methods)
	}
	if logins, _ := e.svc.UserSessions(ctx, ada.ID); len(logins) != 1 {
		t.Errorf("%d logins after the first step, want the 1 of enrolment", len(logins))
	}
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: pending.Token, Code: "123456", Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Fatalf("a wrong code = %v", err)
	}
	res, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: pending.Token, Code: e.code(t, secret, 0), Client: client})
	if err != nil {
		t.Fatalf("LoginMFA = %v", err)
	}
	if res.Login.AAL != gatehouse.AAL2 || !slices.Equal(res.Login.AMR, []string{"pwd", "otp", "mfa"}) || res.Login.Mode != gatehouse.ModeToken ||
		!res.Login.Remember || res.Login.Device != "Phone" || res.Tokens.AccessToken == "" {
		t.Errorf("login %+v", res.Login)
	}
	// The token is spent; the code is spent.
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: pending.Token, Code: e.code(t, secret, 0), Client: client}); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("the token again = %v, want invalid_token", err)
	}
	again := e.firstStep(t, gatehouse.ModeSession)
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: again.Token, Code: e.code(t, secret, 0), Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Errorf("the same code again = %v, want invalid_code", err)
	}
	// A recovery code, once, in any case and with spaces.
	rc := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	res, err = e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: again.Token, RecoveryCode: rc, Client: client})
	if err != nil || res.Login.AAL != gatehouse.AAL2 || res.Secret == "" {
		t.Fatalf("LoginMFA(recovery code) = %+v, %v", res.Login, err)
	}
	third := e.firstStep(t, gatehouse.ModeSession)
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: third.Token, RecoveryCode: codes[3], Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Errorf("a used recovery code = %v, want invalid_code", err)
	}
	if f, _ := e.svc.Factors(ctx, ada.ID); f.RecoveryCodesLeft != 9 {
		t.Errorf("%d recovery codes left, want 9", f.RecoveryCodesLeft)
	}
	types := auditTypes(t, e.svc, ada.ID)
	for _, want := range []string{gatehouse.EventMFAEnrolled, gatehouse.EventMFAFailed, gatehouse.EventRecoveryCodeUsed} {
		if !strings.Contains(types, want) {
			t.Errorf("no %s event in %s", want, types)
		}
	}
	if n := strings.Count(types, gatehouse.EventLoginFailed); n != 1 {
		t.Errorf("%d login.failed events, want the 1 wrong password at enrolment (a wrong second factor is mfa.failed): %s", n, types)
	}
}

func TestSecondFactorLimits(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	e.enrolled(t)
	// Five wrong codes end the token.
	pending := e.firstStep(t, gatehouse.ModeSession)
	for i := range 5 {
		if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: pending.Token, Code: "000000", Client: client}); code(err) != gatehouse.CodeInvalidCode {
			t.Fatalf("wrong code %d = %v", i+1, err)
		}
	}
	if _, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: pending.Token, Code: "000000", Client: client}); code(err) != gatehouse.CodeInvalidToken {
		t.Errorf("after five wrong codes = %v, want invalid_token", err)
	}
	// Wrong codes count toward the account's lockout at this address.
	var err error
	for i := 0; i < 10 && code(err) != gatehouse.CodeTooManyAttempts; i++ {
		p := e.firstStep(t, gatehouse.ModeSession)
		_, err = e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: p.Token, Code: "000000", Client: client})
	}
	if code(err) != gatehouse.CodeTooManyAttempts {
		t.Errorf("after 15 wrong codes = %v, want too_many_attempts", err)
	}
	// An expired token, a malformed one.
	e2 := newMailEnv(t, nil)
	e2.enrolled(t)
	late := e2.firstStep(t, gatehouse.ModeSession)
	e2.advance(5 * time.Minute)
	for _, tok := range []string{late.Token, "", "x", late.Token + "A"} {
		if _, err := e2.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: tok, Code: "000000", Client: client}); code(err) != gatehouse.CodeInvalidToken {
			t.Errorf("LoginMFA(%q) = %v, want invalid_token", tok, err)
		}
	}
}

func TestAssuranceInBothModes(t *testing.T) {
	ctx := context.Background()
	e := newMailEnvLimits(t, nil, gatehouse.Limits{}, func(c *gatehouse.Config) { c.MFARoles = []string{gatehouse.RoleAdmin} })
	ada, secret, _ := e.enrolled(t)
	if _, err := e.svc.SetRoles(ctx, ada.ID, []string{gatehouse.RoleAdmin, gatehouse.RoleCustomer}, client); err != nil {
		t.Fatal(err)
	}
	e.advance(30 * time.Second)
	session, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: e.firstStep(t, gatehouse.ModeSession).Token, Code: e.code(t, secret, 0), Client: client})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(30 * time.Second)
	tokens, err := e.svc.LoginMFA(ctx, gatehouse.MFARequest{Token: e.firstStep(t, gatehouse.ModeToken).Token, Code: e.code(t, secret, 0), Client: client})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := e.svc.AuthenticateSession(ctx, session.Secret)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := e.svc.AuthenticateToken(ctx, tokens.Tokens.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]gatehouse.Principal{"session": ps, "token": pt} {
		if p.Login.AAL != gatehouse.AAL2 || !slices.Equal(p.Login.AMR, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("%s: AAL %d AMR %v", name, p.Login.AAL, p.Login.AMR)
		}
		if !p.Can("users:admin") {
			t.Errorf("%s at AAL2 lacks admin's permissions: %v", name, p.Permissions)
		}
	}
	refreshed, err := e.svc.Refresh(ctx, tokens.Tokens.RefreshToken, client)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.svc.AuthenticateToken(ctx, refreshed.Tokens.AccessToken); err != nil || p.Login.AAL != gatehouse.AAL2 {
		t.Errorf("a refreshed token: AAL %d, %v; want 2", p.Login.AAL, err)
	}
}

func TestMFARolesAtAAL1(t *testing.T) {
	ctx := context.Background()
	e := newMailEnvLimits(t, nil, gatehouse.Limits{}, func(c *gatehouse.Config) { c.MFARoles = []string{gatehouse.RoleAdmin} })
	u, err := e.svc.CreateUser(ctx, "root@example.com", mailPW, []string{gatehouse.RoleAdmin, gatehouse.RoleCustomer}, client)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []gatehouse.Mode{gatehouse.ModeSession, gatehouse.ModeToken} {
		res := e.login(t, u.Email, mailPW, mode)
		var p gatehouse.Principal
		if mode == gatehouse.ModeSession {
			p, err = e.svc.AuthenticateSession(ctx, res.Secret)
		} else {
			p, err = e.svc.AuthenticateToken(ctx, res.Tokens.AccessToken)
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Login.AAL != gatehouse.AAL1 || p.Can("users:admin") || !p.Can("cart:read") {
			t.Errorf("%s at AAL1: AAL %d, permissions %v; want the customer's only", mode, p.Login.AAL, p.Permissions)
		}
	}
}

func TestStepUp(t *testing.T) {
	ctx := context.Background()
	e := newMailEnvLimits(t, nil, gatehouse.Limits{}, func(c *gatehouse.Config) { c.MFARoles = []string{gatehouse.RoleAdmin} })
	ada, secret, _ := e.enrolled(t)
	if _, err := e.svc.SetRoles(ctx, ada.ID, []string{gatehouse.RoleAdmin}, client); err != nil {
		t.Fatal(err)
	}
	p := e.principal(t, e.weak)
	if p.Login.AAL != gatehouse.AAL1 || p.Can("users:admin") {
		t.Fatalf("before stepping up: AAL %d permissions %v", p.Login.AAL, p.Permissions)
	}
	e.advance(30 * time.Second)
	if _, err := e.svc.StepUp(ctx, p, gatehouse.MFARequest{Code: "000000", Client: client}); code(err) != gatehouse.CodeInvalidCode {
		t.Fatalf("StepUp(wrong code) = %v", err)
	}
	if _, err := e.svc.AuthenticateSession(ctx, e.weak.Secret); err != nil {
		t.Fatalf("a wrong code ended the login: %v", err)
	}
	up, err := e.svc.StepUp(ctx, p, gatehouse.MFARequest{Code: e.code(t, secret, 0), Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if up.Secret == "" || up.Secret == e.weak.Secret {
		t.Error("stepping up kept the cookie secret")
	}
	if _, err := e.svc.AuthenticateSession(ctx, e.weak.Secret); code(err) != gatehouse.CodeUnauthenticated {
		t.Errorf("the old secret after stepping up: %v", err)
	}
	q := e.principal(t, up)
	if q.Login.AAL != gatehouse.AAL2 || !q.Can("users:admin") || !slices.Equal(q.Login.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("after stepping up: AAL %d AMR %v permissions %v", q.Login.AAL, q.Login.AMR, q.Permissions)
	}
	if !strings.Contains(auditTypes(t, e.svc, ada.ID), gatehouse.EventLoginSteppedUp) {
		t.Error("no login.stepped_up event")
	}
	// Without a factor: not_enrolled.
	bob, err := e.svc.CreateUser(ctx, "bob@example.com", mailPW, nil, client)
	if err != nil {
		t.Fatal(err)
	}
	pb := e.principal(t, e.login(t, bob.Email, mailPW, gatehouse.ModeSession))
	if _, err := e.svc.StepUp(ctx, pb, gatehouse.MFARequest{Code: "123456", Client: client}); code(err) != gatehouse.CodeNotEnrolled {
		t.Errorf("StepUp without a factor = %v, want not_enrolled", err)
	}
}

func TestFactorChangesNeedThePassword(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t, nil)
	ada, _, codes := e.enrolled(t)
	p := e.principal(t, e.weak)
	if _, err := e.svc.RegenerateRecoveryCodes(ctx, p, "", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("RegenerateRecoveryCodes without the password at AAL1 = %v", err)
	}
	fresh, err := e.svc.RegenerateRecoveryCodes(ctx, p, mailPW, client)
	if err != nil || len(fresh) != 10 || slices.Equal(fresh, codes) {
		t.Fatalf("RegenerateRecoveryCodes = %v, %v", fresh, err)
	}
	if err := e.svc.RemoveTOTP(ctx, p, "wrong password!", client); code(err) != gatehouse.CodeInvalidCredentials {
		t.Errorf("RemoveTOTP(wrong password) = %v", err)
	}
	if err := e.svc.RemoveTOTP(ctx, p, mailPW, client); err != nil {
		t.Fatal(err)
	}
	if f, _ := e.svc.Factors(ctx, ada.ID); f.TOTP || f.RecoveryCodesLeft != 0 {
		t.Errorf("factors after removal: %+v", f)
	}
	// Signing in is one step again.
	if res := e.login(t, "ada@example.com", mailPW, gatehouse.ModeSession); res.Login.AAL != gatehouse.AAL1 {
		t.Errorf("AAL %d", res.Login.AAL)
	}
	if _, err := e.svc.RegenerateRecoveryCodes(ctx, p, mailPW, client); code(err) != gatehouse.CodeNotEnrolled {
		t.Errorf("RegenerateRecoveryCodes without TOTP = %v, want not_enrolled", err)
	}
	// An admin resets a user's factors: audited with the admin's id, the user told.
	e2 := newMailEnv(t, nil)
	bob, _, _ := e2.enrolled(t)
	if err := e2.svc.ResetFactors(ctx, bob.ID, gatehouse.Client{IP: "192.0.2.9", Actor: "admin-1"}); err != nil {
		t.Fatal(err)
	}
	if f, _ := e2.svc.Factors(ctx, bob.ID); f.TOTP {
		t.Error("the factor survived the reset")
	}
	events, _, _ := e2.svc.Audit(ctx, gatehouse.AuditQuery{UserID: bob.ID, Type: gatehouse.EventMFARemoved, Limit: 5})
	if len(events) != 1 || !strings.Contains(events[0].Detail, "by=admin-1") {
		t.Errorf("mfa.removed events %+v", events)
	}
	if _, err := e2.svc.DeliverMail(ctx); err != nil {
		t.Fatal(err)
	}
	var notices int
	for _, m := range e2.smtp.Messages() {
		if strings.Contains(m.Subject, "sign-in methods") {
			notices++
		}
	}
	if notices != 2 {
		t.Errorf("%d notices of factor changes, want 2 (added, removed)", notices)
	}
}
