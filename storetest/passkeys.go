package storetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testPasskey(id, userID, cred string, at time.Time) gatehouse.Passkey {
	return gatehouse.Passkey{
		ID: id, UserID: userID, Name: "key " + id, CredentialID: []byte(cred), PublicKey: []byte("cose key " + cred),
		AttestationType: "none", AAGUID: []byte("0123456789abcdef"), SignCount: 7, BackupEligible: true,
		Transports: []string{"hybrid", "internal"}, CreatedAt: at,
	}
}

func testPasskeys(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	if ps, err := s.Passkeys(t.Context(), alice.ID); err != nil || len(ps) != 0 {
		t.Fatalf("Passkeys(none) = %v, %v", ps, err)
	}
	p1 := testPasskey("pk-1", alice.ID, "cred-1", T0)
	p2 := testPasskey("pk-2", alice.ID, "cred-2", T0.Add(time.Second))
	p2.SignCount, p2.BackupEligible, p2.Transports, p2.AAGUID = 0, false, nil, nil
	added := Event(gatehouse.EventPasskeyAdded, alice.ID)
	if err := s.AddPasskey(t.Context(), p1, []gatehouse.QueuedMail{mail(alice, gatehouse.MailFactorChanged, T0)}, added); err != nil {
		t.Fatalf("AddPasskey = %v", err)
	}
	if err := s.AddPasskey(t.Context(), p2, nil, added); err != nil {
		t.Fatalf("AddPasskey(2) = %v", err)
	}
	// A credential id is anyone's once.
	dup := testPasskey("pk-3", bob.ID, "cred-1", T0)
	CheckCode(t, "AddPasskey(taken credential)", s.AddPasskey(t.Context(), dup, nil, Event(gatehouse.EventPasskeyAdded, bob.ID)), gatehouse.CodeInvalidCredential)

	ps, err := s.Passkeys(t.Context(), alice.ID)
	if err != nil || len(ps) != 2 || ps[0].ID != p1.ID || ps[1].ID != p2.ID {
		t.Fatalf("Passkeys = %+v, %v", ps, err)
	}
	got := ps[0]
	if got.UserID != alice.ID || got.Name != p1.Name || string(got.CredentialID) != "cred-1" || string(got.PublicKey) != string(p1.PublicKey) ||
		got.AttestationType != "none" || string(got.AAGUID) != string(p1.AAGUID) || got.SignCount != 7 || !got.BackupEligible || got.BackupState ||
		!slices.Equal(got.Transports, p1.Transports) || !got.CreatedAt.Equal(T0) || !got.LastUsedAt.IsZero() {
		t.Errorf("Passkeys[0] = %+v", got)
	}
	if ps[1].SignCount != 0 || ps[1].BackupEligible || len(ps[1].Transports) != 0 {
		t.Errorf("Passkeys[1] = %+v", ps[1])
	}
	if ps, _ := s.Passkeys(t.Context(), bob.ID); len(ps) != 0 {
		t.Errorf("Bob's passkeys = %+v", ps)
	}
	if p, err := s.PasskeyByCredentialID(t.Context(), []byte("cred-2")); err != nil || p.ID != p2.ID || p.UserID != alice.ID {
		t.Errorf("PasskeyByCredentialID = %+v, %v", p, err)
	}
	_, err = s.PasskeyByCredentialID(t.Context(), []byte("cred-9"))
	CheckCode(t, "PasskeyByCredentialID(none)", err, gatehouse.CodeNotFound)

	// Renaming: only one's own.
	if p, err := s.RenamePasskey(t.Context(), alice.ID, p1.ID, "Phone"); err != nil || p.Name != "Phone" || p.ID != p1.ID || p.SignCount != 7 {
		t.Errorf("RenamePasskey = %+v, %v", p, err)
	}
	_, err = s.RenamePasskey(t.Context(), bob.ID, p1.ID, "Mine")
	CheckCode(t, "RenamePasskey(Alice's, by Bob)", err, gatehouse.CodeNotFound)
	if p, _ := s.PasskeyByCredentialID(t.Context(), []byte("cred-1")); p.Name != "Phone" {
		t.Errorf("name after Bob's rename = %q", p.Name)
	}

	// Each use moves the counter forward; the same or a lower one fails.
	use := gatehouse.PasskeyUse{ID: p1.ID, SignCount: 8, BackupEligible: true, BackupState: true, At: T0.Add(time.Minute)}
	if err := s.UsePasskey(t.Context(), use); err != nil {
		t.Fatalf("UsePasskey = %v", err)
	}
	if p, _ := s.PasskeyByCredentialID(t.Context(), []byte("cred-1")); p.SignCount != 8 || !p.BackupState || !p.LastUsedAt.Equal(use.At) {
		t.Errorf("after UsePasskey: %+v", p)
	}
	for _, n := range []uint32{8, 3, 0} {
		use.SignCount = n
		CheckCode(t, "UsePasskey(counter back)", s.UsePasskey(t.Context(), use), gatehouse.CodeInvalidCredentials)
	}
	// Without a counter (zero, as most synced passkeys), each use passes.
	for range 2 {
		if err := s.UsePasskey(t.Context(), gatehouse.PasskeyUse{ID: p2.ID, At: T0.Add(2 * time.Minute)}); err != nil {
			t.Errorf("UsePasskey(no counter) = %v", err)
		}
	}
	CheckCode(t, "UsePasskey(none)", s.UsePasskey(t.Context(), gatehouse.PasskeyUse{ID: "pk-9", SignCount: 1}), gatehouse.CodeInvalidCredentials)

	// Deleting: only one's own; with codes, the recovery codes go too.
	if err := s.SetRecoveryCodes(t.Context(), alice.ID, [][]byte{codeHash("a1")}, Event(gatehouse.EventMFAEnrolled, alice.ID)); err != nil {
		t.Fatal(err)
	}
	removed := Event(gatehouse.EventPasskeyRemoved, alice.ID)
	CheckCode(t, "DeletePasskey(Alice's, by Bob)", s.DeletePasskey(t.Context(), bob.ID, p1.ID, true, nil, Event(gatehouse.EventPasskeyRemoved, bob.ID)), gatehouse.CodeNotFound)
	if err := s.DeletePasskey(t.Context(), alice.ID, p1.ID, false, nil, removed); err != nil {
		t.Fatalf("DeletePasskey = %v", err)
	}
	if n, _ := s.RecoveryCodesLeft(t.Context(), alice.ID); n != 1 {
		t.Errorf("recovery codes after DeletePasskey(no codes) = %d, want 1", n)
	}
	CheckCode(t, "DeletePasskey(deleted)", s.DeletePasskey(t.Context(), alice.ID, p1.ID, false, nil, removed), gatehouse.CodeNotFound)
	if err := s.DeletePasskey(t.Context(), alice.ID, p2.ID, true, []gatehouse.QueuedMail{mail(alice, gatehouse.MailFactorChanged, T0)}, removed); err != nil {
		t.Fatalf("DeletePasskey(last) = %v", err)
	}
	if n, _ := s.RecoveryCodesLeft(t.Context(), alice.ID); n != 0 {
		t.Errorf("recovery codes after DeletePasskey(codes) = %d, want 0", n)
	}
	if ps, _ := s.Passkeys(t.Context(), alice.ID); len(ps) != 0 {
		t.Errorf("Passkeys after deleting = %+v", ps)
	}
	// The credential id is free again.
	if err := s.AddPasskey(t.Context(), dup, nil, Event(gatehouse.EventPasskeyAdded, bob.ID)); err != nil {
		t.Errorf("AddPasskey(freed credential) = %v", err)
	}
	if n, _, _ := s.OutboxStats(t.Context()); n != 2 {
		t.Errorf("%d messages queued, want 2", n)
	}
	types := auditTypes(t, s, alice.ID)
	if countOf(types, gatehouse.EventPasskeyAdded) != 2 || countOf(types, gatehouse.EventPasskeyRemoved) != 2 {
		t.Errorf("Alice's events = %v; want 2 passkey.added and 2 passkey.removed (refusals record nothing)", types)
	}
	if n := countOf(auditTypes(t, s, bob.ID), gatehouse.EventPasskeyAdded); n != 1 {
		t.Errorf("%d passkey.added events for Bob, want 1", n)
	}
}

func testPasskeysCascade(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	if err := s.AddPasskey(t.Context(), testPasskey("pk-1", alice.ID, "cred-1", T0), nil, Event(gatehouse.EventPasskeyAdded, alice.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPasskey(t.Context(), testPasskey("pk-2", "user-nobody", "cred-2", T0), nil, Event(gatehouse.EventPasskeyAdded, alice.ID)); err == nil {
		t.Errorf("AddPasskey(no such user) = nil")
	}
}

func testWebAuthnChallenges(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	reg := gatehouse.WebAuthnChallenge{Hash: codeHash("reg"), UserID: alice.ID, Kind: gatehouse.CeremonyRegister, Sealed: []byte("sealed"), ExpiresAt: T0.Add(5 * time.Minute)}
	login := gatehouse.WebAuthnChallenge{Hash: codeHash("login"), Kind: gatehouse.CeremonyLogin, Sealed: []byte("sealed 2"), ExpiresAt: T0.Add(5 * time.Minute)}
	for _, c := range []gatehouse.WebAuthnChallenge{reg, login} {
		if err := s.CreateWebAuthnChallenge(t.Context(), c); err != nil {
			t.Fatalf("CreateWebAuthnChallenge = %v", err)
		}
	}
	// The kind must match; a mismatch spends nothing.
	_, err := s.SpendWebAuthnChallenge(t.Context(), reg.Hash, gatehouse.CeremonyLogin)
	CheckCode(t, "SpendWebAuthnChallenge(other kind)", err, gatehouse.CodeNotFound)
	got, err := s.SpendWebAuthnChallenge(t.Context(), reg.Hash, gatehouse.CeremonyRegister)
	if err != nil || got.UserID != alice.ID || got.Kind != reg.Kind || string(got.Sealed) != "sealed" || !got.ExpiresAt.Equal(reg.ExpiresAt) || string(got.Hash) != string(reg.Hash) {
		t.Errorf("SpendWebAuthnChallenge = %+v, %v", got, err)
	}
	_, err = s.SpendWebAuthnChallenge(t.Context(), reg.Hash, gatehouse.CeremonyRegister)
	CheckCode(t, "SpendWebAuthnChallenge(spent)", err, gatehouse.CodeNotFound)
	if got, err := s.SpendWebAuthnChallenge(t.Context(), login.Hash, gatehouse.CeremonyLogin); err != nil || got.UserID != "" {
		t.Errorf("SpendWebAuthnChallenge(login) = %+v, %v", got, err)
	}

	// Expired ceremonies go with the other challenges; live ones stay.
	old, live := reg, reg
	old.Hash, old.ExpiresAt = codeHash("old"), T0.Add(time.Minute)
	live.Hash = codeHash("live")
	for _, c := range []gatehouse.WebAuthnChallenge{old, live} {
		if err := s.CreateWebAuthnChallenge(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpiredChallenges(t.Context(), T0.Add(2*time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredChallenges = %d, %v; want 1", n, err)
	}
	_, err = s.SpendWebAuthnChallenge(t.Context(), old.Hash, gatehouse.CeremonyRegister)
	CheckCode(t, "SpendWebAuthnChallenge(expired)", err, gatehouse.CodeNotFound)
	if _, err := s.SpendWebAuthnChallenge(t.Context(), live.Hash, gatehouse.CeremonyRegister); err != nil {
		t.Errorf("SpendWebAuthnChallenge(live) = %v", err)
	}
}

// testPasskeysConcurrently holds that a ceremony is spent once and a
// counter value used once, however many requests race for it.
func testPasskeysConcurrently(t *testing.T, s gatehouse.Store) {
	const workers = 10
	alice := User("user-alice")
	CreateUser(t, s, alice)
	if err := s.AddPasskey(t.Context(), testPasskey("pk-1", alice.ID, "cred-1", T0), nil, Event(gatehouse.EventPasskeyAdded, alice.ID)); err != nil {
		t.Fatal(err)
	}
	c := gatehouse.WebAuthnChallenge{Hash: codeHash("race"), UserID: alice.ID, Kind: gatehouse.CeremonyMFA, Sealed: []byte("s"), ExpiresAt: T0.Add(5 * time.Minute)}
	if err := s.CreateWebAuthnChallenge(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	var spent, used atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			if _, err := s.SpendWebAuthnChallenge(t.Context(), c.Hash, c.Kind); err == nil {
				spent.Add(1)
			} else if gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
				t.Errorf("SpendWebAuthnChallenge = %v", err)
			}
			err := s.UsePasskey(t.Context(), gatehouse.PasskeyUse{ID: "pk-1", SignCount: 8, At: T0})
			if err == nil {
				used.Add(1)
			} else if gatehouse.ErrorCode(err) != gatehouse.CodeInvalidCredentials {
				t.Errorf("UsePasskey = %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if spent.Load() != 1 || used.Load() != 1 {
		t.Errorf("%d spent the ceremony and %d used counter 8, want 1 and 1", spent.Load(), used.Load())
	}
}
