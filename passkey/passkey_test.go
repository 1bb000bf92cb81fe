package passkey_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/passkey"
)

const origin = "https://auth.example.com"

func newRP(t testing.TB) *passkey.RelyingParty {
	t.Helper()
	rp, err := passkey.New(passkey.Config{RPID: "example.com", RPName: "Gatehouse", Origins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func newUser() passkey.User {
	return passkey.User{ID: []byte("user-handle-0001"), Name: "ada@example.com", DisplayName: "Ada"}
}

// register runs a registration ceremony with a and returns u with the new
// credential, as the caller would store it (through JSON, to hold that
// the stored form is plain data).
func register(t testing.TB, rp *passkey.RelyingParty, u passkey.User, a *authenticator, flags byte) passkey.User {
	t.Helper()
	opts, state, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rp.FinishRegistration(u, state, a.Create(t, opts, ceremony{Flags: flags, Origin: origin}))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	var stored passkey.Credential
	if err := json.Unmarshal(mustJSON(t, c), &stored); err != nil {
		t.Fatal(err)
	}
	u.Credentials = append(u.Credentials, stored)
	return u
}

// finder returns a find function that knows only u.
func finder(t testing.TB, u passkey.User) func(handle, credID []byte) (passkey.User, error) {
	return func(handle, credID []byte) (passkey.User, error) {
		if !bytes.Equal(handle, u.ID) {
			return passkey.User{}, passkey.ErrInvalidCredential
		}
		return u, nil
	}
}

func TestRegistrationOptions(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP|flagUV)
	opts, _, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	o := readOptions(t, opts).PublicKey
	if o.RP.ID != "example.com" || o.RP.Name != "Gatehouse" || o.User.ID != b64.EncodeToString(u.ID) ||
		o.User.Name != "ada@example.com" || o.User.DisplayName != "Ada" || o.Attestation != "none" {
		t.Errorf("options %s", opts)
	}
	if ch, err := b64.DecodeString(o.Challenge); err != nil || len(ch) < 16 {
		t.Errorf("challenge %q: %d bytes, %v", o.Challenge, len(ch), err)
	}
	if s := o.AuthenticatorSel; s == nil || s.ResidentKey != "required" || !s.RequireResidentKey || s.UserVerification != "preferred" {
		t.Errorf("authenticatorSelection in %s", opts)
	}
	if !slices.ContainsFunc(o.PubKeyCredParams, func(p struct {
		Type string `json:"type"`
		Alg  int    `json:"alg"`
	}) bool {
		return p.Type == "public-key" && p.Alg == -7
	}) {
		t.Errorf("pubKeyCredParams without ES256: %s", opts)
	}
	if len(o.ExcludeCredentials) != 1 || o.ExcludeCredentials[0].ID != b64.EncodeToString(a.CredID) || o.ExcludeCredentials[0].Type != "public-key" {
		t.Errorf("excludeCredentials = %+v, want the registered one", o.ExcludeCredentials)
	}
}

func TestRegisterThenPasswordlessLogin(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP|flagUV)
	c := u.Credentials[0]
	if !bytes.Equal(c.ID, a.CredID) || len(c.PublicKey) == 0 || !bytes.Equal(c.AAGUID, a.AAGUID) ||
		c.SignCount != 0 || c.AttestationType != "none" || !slices.Equal(c.Transports, []string{"hybrid", "internal"}) {
		t.Fatalf("registered %+v", c)
	}

	opts, state, err := rp.BeginLogin(nil)
	if err != nil {
		t.Fatal(err)
	}
	o := readOptions(t, opts).PublicKey
	if o.RPID != "example.com" || len(o.AllowCredentials) != 0 || o.UserVerification != "required" {
		t.Fatalf("passwordless options %s", opts)
	}
	a.Counter = 1
	var calls int
	login, err := rp.FinishLogin(state, a.Get(t, opts, ceremony{Flags: flagUP | flagUV, Origin: origin}),
		func(handle, credID []byte) (passkey.User, error) {
			calls++
			if !bytes.Equal(handle, u.ID) || !bytes.Equal(credID, a.CredID) {
				t.Errorf("find(%x, %x)", handle, credID)
			}
			return u, nil
		})
	if err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	if calls != 1 || !bytes.Equal(login.UserHandle, u.ID) || !login.UserVerified ||
		!bytes.Equal(login.Credential.ID, a.CredID) || login.Credential.SignCount != 1 ||
		!bytes.Equal(login.Credential.PublicKey, c.PublicKey) {
		t.Fatalf("Login = %+v after %d calls of find", login, calls)
	}
}

func TestSecondFactorLogin(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP)
	opts, state, err := rp.BeginLogin(&u)
	if err != nil {
		t.Fatal(err)
	}
	o := readOptions(t, opts).PublicKey
	if len(o.AllowCredentials) != 1 || o.AllowCredentials[0].ID != b64.EncodeToString(a.CredID) || o.UserVerification != "preferred" {
		t.Fatalf("second-factor options %s", opts)
	}
	// User presence only, and no user handle (as a non-discoverable
	// credential would answer).
	login, err := rp.FinishLogin(state, a.Get(t, opts, ceremony{Flags: flagUP, Origin: origin, NoHandle: true}), finder(t, u))
	if err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	if !bytes.Equal(login.UserHandle, u.ID) || login.UserVerified {
		t.Fatalf("Login = %+v", login)
	}

	if _, _, err := rp.BeginLogin(&passkey.User{ID: []byte("nobody")}); !errors.Is(err, passkey.ErrNoCredentials) {
		t.Errorf("BeginLogin for a user without passkeys: %v, want ErrNoCredentials", err)
	}
}

// TestLoginRefusals holds each way a login must fail.
func TestLoginRefusals(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP|flagUV)
	other := newAuthenticator(t)
	otherUser := register(t, rp, passkey.User{ID: []byte("user-handle-0002"), Name: "bob@example.com"}, other, flagUP|flagUV)

	for _, tc := range []struct {
		name   string
		why    string // in the error
		second bool   // a second-factor login for u, rather than passwordless
		c      ceremony
		find   func(t *testing.T) func(handle, credID []byte) (passkey.User, error)
		auth   *authenticator
		want   error
	}{
		{why: "no user verification", name: "passwordless without user verification", c: ceremony{Flags: flagUP}},
		{why: "User presence required", name: "no user presence", second: true, c: ceremony{Flags: flagUV}},
		{why: "origin", name: "wrong origin", c: ceremony{Flags: flagUP | flagUV, Origin: "https://evil.example.net"}},
		{why: "origin", name: "origin of a sibling", c: ceremony{Flags: flagUP | flagUV, Origin: "https://app.example.com"}},
		{why: "origin", name: "http origin", c: ceremony{Flags: flagUP | flagUV, Origin: "http://auth.example.com"}},
		{why: "RP Hash mismatch", name: "wrong RP ID hash", c: ceremony{Flags: flagUP | flagUV, RPID: "evil.example.net"}},
		{why: "RP Hash mismatch", name: "RP ID hash of the origin's host", c: ceremony{Flags: flagUP | flagUV, RPID: "auth.example.com"}},
		{why: "ceremony type", name: "registration clientData type", c: ceremony{Flags: flagUP | flagUV, Type: "webauthn.create"}},
		{why: "challenge", name: "challenge of another ceremony", c: ceremony{Flags: flagUP | flagUV, Challenge: b64.EncodeToString([]byte("another ceremony's challenge"))}},
		{why: "no user handle", name: "passwordless without user handle", c: ceremony{Flags: flagUP | flagUV, NoHandle: true}},
		{why: "not owned by the user", name: "another user's credential as a second factor", second: true, auth: other, c: ceremony{Flags: flagUP}},
		{why: "another user", name: "find returns another user", c: ceremony{Flags: flagUP | flagUV},
			find: func(t *testing.T) func(handle, credID []byte) (passkey.User, error) {
				return func(_, _ []byte) (passkey.User, error) { return otherUser, nil }
			}},
		{why: "Unable to find the credential", name: "credential not the user's", auth: other, c: ceremony{Flags: flagUP | flagUV},
			find: func(t *testing.T) func(handle, credID []byte) (passkey.User, error) {
				// other's authenticator claims u's handle.
				return func(_, _ []byte) (passkey.User, error) { return u, nil }
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var who *passkey.User
			if tc.second {
				who = &u
			}
			opts, state, err := rp.BeginLogin(who)
			if err != nil {
				t.Fatal(err)
			}
			auth := a
			if tc.auth != nil {
				auth = &authenticator{Key: tc.auth.Key, CredID: tc.auth.CredID, UserHandle: u.ID}
			}
			if tc.c.Origin == "" {
				tc.c.Origin = origin
			}
			find := finder(t, u)
			if tc.find != nil {
				find = tc.find(t)
			}
			login, err := rp.FinishLogin(state, auth.Get(t, opts, tc.c), find)
			t.Log(err)
			if !errors.Is(err, passkey.ErrInvalidCredential) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("FinishLogin = %+v, %v; want ErrInvalidCredential for %q", login, err, tc.why)
			}
		})
	}
}

func TestLoginStateMismatch(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP|flagUV)
	c := ceremony{Flags: flagUP | flagUV, Origin: origin}

	optsA, stateA, err := rp.BeginLogin(nil)
	if err != nil {
		t.Fatal(err)
	}
	optsB, stateB, err := rp.BeginLogin(nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Counter = 1
	answerB := a.Get(t, optsB, c)
	// B's answer with A's state: the challenge does not match.
	if _, err := rp.FinishLogin(stateA, answerB, finder(t, u)); !errors.Is(err, passkey.ErrInvalidCredential) {
		t.Fatalf("answer to B with A's state: %v, want ErrInvalidCredential", err)
	}
	if _, err := rp.FinishLogin(stateB, answerB, finder(t, u)); err != nil {
		t.Fatalf("answer to B with B's state: %v", err)
	}
	// A state used again (the caller must not let it, but if it does): an
	// assertion for a new challenge still fails against it.
	optsC, _, err := rp.BeginLogin(nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Counter = 2
	if _, err := rp.FinishLogin(stateB, a.Get(t, optsC, c), finder(t, u)); !errors.Is(err, passkey.ErrInvalidCredential) {
		t.Fatalf("answer to C with B's spent state: %v, want ErrInvalidCredential", err)
	}
	_ = optsA

	// A registration's state is not a login's, nor the other way round.
	regOpts, regState, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.FinishLogin(regState, answerB, finder(t, u)); !errors.Is(err, passkey.ErrInvalidState) {
		t.Errorf("FinishLogin with a registration state: %v, want ErrInvalidState", err)
	}
	if _, err := rp.FinishRegistration(u, stateA, newAuthenticator(t).Create(t, regOpts, c)); !errors.Is(err, passkey.ErrInvalidState) {
		t.Errorf("FinishRegistration with a login state: %v, want ErrInvalidState", err)
	}
	for _, s := range [][]byte{nil, []byte("{}"), []byte("not json"), []byte(`{"ceremony":"login","session":{}}`)} {
		if _, err := rp.FinishLogin(s, answerB, finder(t, u)); !errors.Is(err, passkey.ErrInvalidState) {
			t.Errorf("FinishLogin with state %q: %v, want ErrInvalidState", s, err)
		}
	}
}

func TestCounter(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	a.Counter = 5
	u := register(t, rp, newUser(), a, flagUP|flagUV)
	if u.Credentials[0].SignCount != 5 {
		t.Fatalf("SignCount = %d after registration, want 5", u.Credentials[0].SignCount)
	}
	login := func(counter uint32) (passkey.Login, error) {
		t.Helper()
		opts, state, err := rp.BeginLogin(nil)
		if err != nil {
			t.Fatal(err)
		}
		a.Counter = counter
		return rp.FinishLogin(state, a.Get(t, opts, ceremony{Flags: flagUP | flagUV, Origin: origin}), finder(t, u))
	}
	l, err := login(9)
	if err != nil || l.Credential.SignCount != 9 {
		t.Fatalf("counter 9 after 5: %+v, %v", l.Credential, err)
	}
	u.Credentials[0] = l.Credential // stored
	for _, c := range []uint32{9, 3, 0} {
		if l, err := login(c); !errors.Is(err, passkey.ErrCounterWentBack) {
			t.Errorf("counter %d after 9: %+v, %v; want ErrCounterWentBack", c, l, err)
		}
	}
	if l, err := login(10); err != nil || l.Credential.SignCount != 10 {
		t.Fatalf("counter 10 after 9: %+v, %v", l.Credential, err)
	}

	// An authenticator without a counter (0 every time) is fine.
	b := newAuthenticator(t)
	v := register(t, rp, passkey.User{ID: []byte("user-handle-0003"), Name: "cy@example.com"}, b, flagUP|flagUV|flagBE|flagBS)
	for range 2 {
		opts, state, err := rp.BeginLogin(nil)
		if err != nil {
			t.Fatal(err)
		}
		l, err := rp.FinishLogin(state, b.Get(t, opts, ceremony{Flags: flagUP | flagUV | flagBE | flagBS, Origin: origin}), finder(t, v))
		if err != nil || l.Credential.SignCount != 0 {
			t.Fatalf("counter 0 after 0: %+v, %v", l.Credential, err)
		}
	}
}

func TestBackupFlags(t *testing.T) {
	rp := newRP(t)
	loginWith := func(a *authenticator, u passkey.User, flags byte) (passkey.Login, error) {
		t.Helper()
		opts, state, err := rp.BeginLogin(nil)
		if err != nil {
			t.Fatal(err)
		}
		return rp.FinishLogin(state, a.Get(t, opts, ceremony{Flags: flags, Origin: origin}), finder(t, u))
	}

	// A synced passkey, eligible and backed up at registration, logs in
	// later from the stored plain data (go-webauthn issue 335).
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP|flagUV|flagBE|flagBS)
	if c := u.Credentials[0]; !c.BackupEligible || !c.BackupState {
		t.Fatalf("registered %+v, want BE and BS", c)
	}
	l, err := loginWith(a, u, flagUP|flagUV|flagBE|flagBS)
	if err != nil || !l.Credential.BackupEligible || !l.Credential.BackupState {
		t.Fatalf("login of a BE/BS passkey: %+v, %v", l, err)
	}

	// Eligible but not yet backed up at registration; backed up by the
	// next login, and the Login says so.
	b := newAuthenticator(t)
	v := register(t, rp, passkey.User{ID: []byte("user-handle-0004"), Name: "di@example.com"}, b, flagUP|flagUV|flagBE)
	if c := v.Credentials[0]; !c.BackupEligible || c.BackupState {
		t.Fatalf("registered %+v, want BE only", c)
	}
	l, err = loginWith(b, v, flagUP|flagUV|flagBE|flagBS)
	if err != nil || !l.Credential.BackupEligible || !l.Credential.BackupState {
		t.Fatalf("login now backed up: %+v, %v", l, err)
	}
	v.Credentials[0] = l.Credential
	l, err = loginWith(b, v, flagUP|flagUV|flagBE)
	if err != nil || l.Credential.BackupState {
		t.Fatalf("login no longer backed up: %+v, %v", l, err)
	}

	// Eligibility cannot change, and BS without BE is invalid.
	if _, err := loginWith(b, v, flagUP|flagUV); !errors.Is(err, passkey.ErrInvalidCredential) {
		t.Errorf("BE dropped at login: %v, want ErrInvalidCredential", err)
	}
	c := newAuthenticator(t)
	w := register(t, rp, passkey.User{ID: []byte("user-handle-0005"), Name: "ed@example.com"}, c, flagUP|flagUV)
	if _, err := loginWith(c, w, flagUP|flagUV|flagBE); !errors.Is(err, passkey.ErrInvalidCredential) {
		t.Errorf("BE appeared at login: %v, want ErrInvalidCredential", err)
	}
	opts, state, err := rp.BeginRegistration(newUser())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.FinishRegistration(newUser(), state, newAuthenticator(t).Create(t, opts, ceremony{Flags: flagUP | flagBS, Origin: origin})); !errors.Is(err, passkey.ErrInvalidCredential) {
		t.Errorf("registration with BS but not BE: %v, want ErrInvalidCredential", err)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP|flagUV)
	good := ceremony{Flags: flagUP | flagUV, Origin: origin}
	for _, tc := range []struct {
		name string
		why  string // in the error
		c    ceremony
		auth *authenticator // default: a new one
		as   *passkey.User  // default: u
	}{
		{why: "origin", name: "wrong origin", c: ceremony{Flags: flagUP | flagUV, Origin: "https://evil.example.net"}},
		{why: "RP Hash mismatch", name: "wrong RP ID hash", c: ceremony{Flags: flagUP | flagUV, Origin: origin, RPID: "evil.example.net"}},
		{why: "User presence required", name: "no user presence", c: ceremony{Flags: flagUV, Origin: origin}},
		{why: "ceremony type", name: "login clientData type", c: ceremony{Flags: flagUP | flagUV, Origin: origin, Type: "webauthn.get"}},
		{why: "challenge", name: "challenge of another ceremony", c: ceremony{Flags: flagUP | flagUV, Origin: origin, Challenge: b64.EncodeToString([]byte("another ceremony's challenge"))}},
		{why: "already has", name: "a credential the user has already", c: good, auth: &authenticator{Key: a.Key, CredID: a.CredID, AAGUID: a.AAGUID}},
		{why: "ID mismatch", name: "finished for another user", c: good, as: &passkey.User{ID: []byte("user-handle-0009"), Name: "eve@example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, state, err := rp.BeginRegistration(u)
			if err != nil {
				t.Fatal(err)
			}
			auth := tc.auth
			if auth == nil {
				auth = newAuthenticator(t)
			}
			as := u
			if tc.as != nil {
				as = *tc.as
			}
			c, err := rp.FinishRegistration(as, state, auth.Create(t, opts, tc.c))
			t.Log(err)
			if !errors.Is(err, passkey.ErrInvalidCredential) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("FinishRegistration = %+v, %v; want ErrInvalidCredential for %q", c, err, tc.why)
			}
		})
	}
	// A tampered signature at login.
	opts, state, err := rp.BeginLogin(nil)
	if err != nil {
		t.Fatal(err)
	}
	var cred map[string]any
	if err := json.Unmarshal(a.Get(t, opts, good), &cred); err != nil {
		t.Fatal(err)
	}
	sig, _ := b64.DecodeString(cred["response"].(map[string]any)["signature"].(string))
	sig[len(sig)-1] ^= 1
	cred["response"].(map[string]any)["signature"] = b64.EncodeToString(sig)
	if _, err := rp.FinishLogin(state, mustJSON(t, cred), finder(t, u)); !errors.Is(err, passkey.ErrInvalidCredential) {
		t.Errorf("tampered signature: %v, want ErrInvalidCredential", err)
	}
}

func TestFindErrorIsReturnedAsItIs(t *testing.T) {
	rp := newRP(t)
	a := newAuthenticator(t)
	u := register(t, rp, newUser(), a, flagUP|flagUV)
	opts, state, err := rp.BeginLogin(nil)
	if err != nil {
		t.Fatal(err)
	}
	outage := errors.New("store unavailable")
	_, err = rp.FinishLogin(state, a.Get(t, opts, ceremony{Flags: flagUP | flagUV, Origin: origin}),
		func(_, _ []byte) (passkey.User, error) { return passkey.User{}, outage })
	if err != outage {
		t.Fatalf("FinishLogin = %v, want find's error as it is", err)
	}
	_ = u
}
