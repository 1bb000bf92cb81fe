package storetest

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func codeHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testTOTP(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	_, err := s.TOTP(t.Context(), alice.ID)
	CheckCode(t, "TOTP(none)", err, gatehouse.CodeNotFound)
	CheckCode(t, "UseTOTPStep(none)", s.UseTOTPStep(t.Context(), alice.ID, 5), gatehouse.CodeInvalidCode)

	pending := gatehouse.TOTP{UserID: alice.ID, Sealed: []byte("sealed one"), CreatedAt: T0}
	if err := s.PutTOTP(t.Context(), pending, Event(gatehouse.EventMFAEnrolled, alice.ID)); err != nil {
		t.Fatalf("PutTOTP = %v", err)
	}
	// An unconfirmed one is replaced, and does not count.
	again := gatehouse.TOTP{UserID: alice.ID, Sealed: []byte("sealed two"), CreatedAt: T0.Add(time.Minute)}
	if err := s.PutTOTP(t.Context(), again, Event(gatehouse.EventMFAEnrolled, alice.ID)); err != nil {
		t.Fatalf("PutTOTP(again) = %v", err)
	}
	got, err := s.TOTP(t.Context(), alice.ID)
	if err != nil || string(got.Sealed) != "sealed two" || got.Confirmed || !got.CreatedAt.Equal(again.CreatedAt) {
		t.Errorf("TOTP = %+v, %v", got, err)
	}
	CheckCode(t, "UseTOTPStep(unconfirmed)", s.UseTOTPStep(t.Context(), alice.ID, 5), gatehouse.CodeInvalidCode)

	codes := [][]byte{codeHash("a"), codeHash("b")}
	if err := s.ConfirmTOTP(t.Context(), alice.ID, 100, codes, nil, Event(gatehouse.EventMFAEnrolled, alice.ID)); err != nil {
		t.Fatalf("ConfirmTOTP = %v", err)
	}
	CheckCode(t, "ConfirmTOTP(confirmed)", s.ConfirmTOTP(t.Context(), alice.ID, 101, codes, nil, Event(gatehouse.EventMFAEnrolled, alice.ID)), gatehouse.CodeInvalidCode)
	CheckCode(t, "PutTOTP(confirmed)", s.PutTOTP(t.Context(), pending, Event(gatehouse.EventMFAEnrolled, alice.ID)), gatehouse.CodeAlreadyEnrolled)
	if got, _ := s.TOTP(t.Context(), alice.ID); !got.Confirmed || got.LastStep != 100 || string(got.Sealed) != "sealed two" {
		t.Errorf("TOTP after confirming = %+v", got)
	}

	// Each step once, and never an earlier one.
	for _, tc := range []struct {
		step int64
		want gatehouse.Code
	}{{100, gatehouse.CodeInvalidCode}, {99, gatehouse.CodeInvalidCode}, {101, ""}, {101, gatehouse.CodeInvalidCode}, {103, ""}, {102, gatehouse.CodeInvalidCode}} {
		err := s.UseTOTPStep(t.Context(), alice.ID, tc.step)
		CheckCode(t, "UseTOTPStep", err, tc.want)
	}

	if n, err := s.RecoveryCodesLeft(t.Context(), alice.ID); err != nil || n != 2 {
		t.Errorf("RecoveryCodesLeft = %d, %v; want 2", n, err)
	}
	if err := s.DeleteTOTP(t.Context(), alice.ID, true, nil, Event(gatehouse.EventMFARemoved, alice.ID)); err != nil {
		t.Fatalf("DeleteTOTP = %v", err)
	}
	_, err = s.TOTP(t.Context(), alice.ID)
	CheckCode(t, "TOTP(deleted)", err, gatehouse.CodeNotFound)
	if n, _ := s.RecoveryCodesLeft(t.Context(), alice.ID); n != 0 {
		t.Errorf("%d recovery codes left after DeleteTOTP(codes)", n)
	}
	CheckCode(t, "DeleteTOTP(none)", s.DeleteTOTP(t.Context(), alice.ID, true, nil, Event(gatehouse.EventMFARemoved, alice.ID)), gatehouse.CodeNotFound)
	types := auditTypes(t, s, alice.ID)
	if n := countOf(types, gatehouse.EventMFAEnrolled); n != 3 {
		t.Errorf("%d mfa.enrolled events, want 3 (refusals record nothing): %v", n, types)
	}
}

func countOf(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func testRecoveryCodes(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	if err := s.SetRecoveryCodes(t.Context(), alice.ID, [][]byte{codeHash("a1"), codeHash("a2")}, Event(gatehouse.EventMFAEnrolled, alice.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecoveryCodes(t.Context(), bob.ID, [][]byte{codeHash("b1")}, Event(gatehouse.EventMFAEnrolled, bob.ID)); err != nil {
		t.Fatal(err)
	}
	used := Event(gatehouse.EventRecoveryCodeUsed, alice.ID)
	CheckCode(t, "UseRecoveryCode(Bob's)", s.UseRecoveryCode(t.Context(), alice.ID, codeHash("b1"), nil, used), gatehouse.CodeInvalidCode)
	if err := s.UseRecoveryCode(t.Context(), alice.ID, codeHash("a1"), []gatehouse.QueuedMail{mail(alice, gatehouse.MailFactorChanged, T0)}, used); err != nil {
		t.Fatalf("UseRecoveryCode = %v", err)
	}
	CheckCode(t, "UseRecoveryCode(used)", s.UseRecoveryCode(t.Context(), alice.ID, codeHash("a1"), nil, used), gatehouse.CodeInvalidCode)
	if n, _ := s.RecoveryCodesLeft(t.Context(), alice.ID); n != 1 {
		t.Errorf("RecoveryCodesLeft = %d, want 1", n)
	}
	if n, _, _ := s.OutboxStats(t.Context()); n != 1 {
		t.Errorf("%d messages queued, want 1", n)
	}
	// New codes void the old.
	if err := s.SetRecoveryCodes(t.Context(), alice.ID, [][]byte{codeHash("a3")}, Event(gatehouse.EventMFAEnrolled, alice.ID)); err != nil {
		t.Fatal(err)
	}
	CheckCode(t, "UseRecoveryCode(voided)", s.UseRecoveryCode(t.Context(), alice.ID, codeHash("a2"), nil, used), gatehouse.CodeInvalidCode)
	if n, _ := s.RecoveryCodesLeft(t.Context(), bob.ID); n != 1 {
		t.Errorf("Bob's codes = %d, want 1", n)
	}
	if n := countOf(auditTypes(t, s, alice.ID), gatehouse.EventRecoveryCodeUsed); n != 1 {
		t.Errorf("%d recovery_code.used events, want 1", n)
	}
}

func testMFAChallenges(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	c := gatehouse.MFAChallenge{Hash: codeHash("challenge"), UserID: alice.ID, Mode: gatehouse.ModeToken, Remember: true, Device: "Work laptop", CreatedAt: T0, ExpiresAt: T0.Add(5 * time.Minute)}
	if err := s.CreateMFAChallenge(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.MFAChallenge(t.Context(), c.Hash)
	if err != nil || got.UserID != alice.ID || got.Mode != c.Mode || !got.Remember || got.Device != c.Device || got.Failures != 0 ||
		!got.CreatedAt.Equal(c.CreatedAt) || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Errorf("MFAChallenge = %+v, %v", got, err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := s.FailMFAChallenge(t.Context(), c.Hash, 3); err != nil || n != want {
			t.Errorf("FailMFAChallenge = %d, %v; want %d", n, err, want)
		}
	}
	if n, err := s.FailMFAChallenge(t.Context(), c.Hash, 3); err != nil || n != 3 {
		t.Errorf("FailMFAChallenge(the last) = %d, %v", n, err)
	}
	_, err = s.MFAChallenge(t.Context(), c.Hash)
	CheckCode(t, "MFAChallenge(ended by failures)", err, gatehouse.CodeNotFound)
	_, err = s.FailMFAChallenge(t.Context(), c.Hash, 3)
	CheckCode(t, "FailMFAChallenge(gone)", err, gatehouse.CodeNotFound)

	c.Hash = codeHash("second")
	if err := s.CreateMFAChallenge(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.SpendMFAChallenge(t.Context(), c.Hash); err != nil {
		t.Fatalf("SpendMFAChallenge = %v", err)
	}
	CheckCode(t, "SpendMFAChallenge(spent)", s.SpendMFAChallenge(t.Context(), c.Hash), gatehouse.CodeInvalidToken)

	// Expired challenges and email tokens go; live ones stay.
	old, live := c, c
	old.Hash, old.ExpiresAt = codeHash("old"), T0.Add(time.Minute)
	live.Hash = codeHash("live")
	for _, x := range []gatehouse.MFAChallenge{old, live} {
		if err := s.CreateMFAChallenge(t.Context(), x); err != nil {
			t.Fatal(err)
		}
	}
	createEmailToken(t, s, emailToken("expired", gatehouse.TokenRecovery, alice)) // expires at T0+1h
	n, err := s.DeleteExpiredChallenges(t.Context(), T0.Add(2*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("DeleteExpiredChallenges(T0+2m) = %d, %v; want 1", n, err)
	}
	if n, _ := s.DeleteExpiredChallenges(t.Context(), T0.Add(2*time.Hour)); n != 2 {
		t.Errorf("DeleteExpiredChallenges(T0+2h) = %d, want 2 (the live challenge and the token)", n)
	}
}

func testLoginAssurance(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	plain := Session("login-1", alice.ID, T0)
	strong := Session("login-2", alice.ID, T0.Add(time.Second))
	strong.AAL, strong.AMR = gatehouse.AAL2, []string{gatehouse.AMRPassword, gatehouse.AMROTP, gatehouse.AMRMFA}
	CreateLogin(t, s, plain)
	CreateLogin(t, s, strong)
	l, _, err := s.SessionBySecretHash(t.Context(), strong.SecretHash)
	if err != nil || l.AAL != gatehouse.AAL2 || !slices.Equal(l.AMR, strong.AMR) {
		t.Errorf("SessionBySecretHash = AAL %d AMR %v, %v", l.AAL, l.AMR, err)
	}
	// A login made without saying is a password login at AAL1.
	if l, _ := s.LoginByID(t.Context(), plain.ID); l.AAL != gatehouse.AAL1 || !slices.Equal(l.AMR, []string{gatehouse.AMRPassword}) {
		t.Errorf("LoginByID(plain) = AAL %d AMR %v", l.AAL, l.AMR)
	}
	tl := Token("login-3", alice.ID, T0)
	tl.AAL, tl.AMR = gatehouse.AAL2, []string{gatehouse.AMRHardware, gatehouse.AMRUser}
	rt := gatehouse.RefreshToken{Hash: secretHash("rt"), LoginID: tl.ID, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}
	if err := s.CreateTokenLogin(t.Context(), tl, rt, Event(gatehouse.EventLoginSucceeded, alice.ID)); err != nil {
		t.Fatal(err)
	}
	if _, l, _, err := s.RefreshToken(t.Context(), rt.Hash); err != nil || l.AAL != gatehouse.AAL2 || !slices.Equal(l.AMR, tl.AMR) {
		t.Errorf("RefreshToken's login = AAL %d AMR %v, %v", l.AAL, l.AMR, err)
	}
	logins, _ := s.ListLogins(t.Context(), alice.ID, T0)
	for _, l := range logins {
		if l.ID == strong.ID && l.AAL != gatehouse.AAL2 {
			t.Errorf("ListLogins: %s at AAL %d", l.ID, l.AAL)
		}
	}
}
