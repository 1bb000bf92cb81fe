package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// emailToken returns a token of kind for the user, sent to their address,
// created at T0 and live for an hour.
func emailToken(name string, kind gatehouse.EmailTokenKind, u gatehouse.User) gatehouse.EmailToken {
	h := sha256.Sum256([]byte("email token " + name))
	return gatehouse.EmailToken{Hash: h[:], Kind: kind, UserID: u.ID, Email: u.Email, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}
}

// mail returns a queued message for the user, queued at at.
func mail(u gatehouse.User, kind gatehouse.MailKind, at time.Time) gatehouse.QueuedMail {
	return gatehouse.QueuedMail{UserID: u.ID, Kind: kind, Sealed: []byte("sealed " + string(kind)), CreatedAt: at, NextAt: at}
}

func createEmailToken(t *testing.T, s gatehouse.Store, tok gatehouse.EmailToken, m ...gatehouse.QueuedMail) {
	t.Helper()
	if err := s.CreateEmailToken(t.Context(), tok, m, Event(gatehouse.EventRecoveryRequested, tok.UserID)); err != nil {
		t.Fatalf("CreateEmailToken = %v, want nil", err)
	}
}

func checkEmailTokenGone(t *testing.T, s gatehouse.Store, call string, hash []byte) {
	t.Helper()
	_, _, err := s.EmailToken(t.Context(), hash)
	CheckCode(t, call, err, gatehouse.CodeNotFound)
}

func testEmailTokens(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	first := emailToken("first", gatehouse.TokenRecovery, alice)
	createEmailToken(t, s, first, mail(alice, gatehouse.MailRecovery, T0))

	got, u, err := s.EmailToken(t.Context(), first.Hash)
	if err != nil {
		t.Fatalf("EmailToken = %v, want nil", err)
	}
	if !bytes.Equal(got.Hash, first.Hash) || got.Kind != first.Kind || got.UserID != alice.ID || got.Email != alice.Email ||
		!got.CreatedAt.Equal(first.CreatedAt) || !got.ExpiresAt.Equal(first.ExpiresAt) {
		t.Errorf("EmailToken = %+v, want %+v", got, first)
	}
	checkUTC(t, "EmailToken ExpiresAt", got.ExpiresAt)
	checkUser(t, "EmailToken's user", u, alice)

	// Only the newest token of a kind works; other kinds and users keep theirs.
	verify := emailToken("verify", gatehouse.TokenVerify, alice)
	createEmailToken(t, s, verify)
	bobs := emailToken("bob", gatehouse.TokenRecovery, bob)
	createEmailToken(t, s, bobs)
	second := emailToken("second", gatehouse.TokenRecovery, alice)
	createEmailToken(t, s, second)
	checkEmailTokenGone(t, s, "EmailToken(superseded)", first.Hash)
	for _, tok := range []gatehouse.EmailToken{second, verify, bobs} {
		if _, _, err := s.EmailToken(t.Context(), tok.Hash); err != nil {
			t.Errorf("EmailToken(%s of %s) = %v, want nil", tok.Kind, tok.UserID, err)
		}
	}
	checkEmailTokenGone(t, s, "EmailToken(unknown)", bytes.Repeat([]byte{7}, 32))
}

func testSpendEmailToken(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	CreateLogin(t, s, Session("login-1", alice.ID, T0))
	tok := emailToken("recovery", gatehouse.TokenRecovery, alice)
	createEmailToken(t, s, tok)
	verify := emailToken("verify", gatehouse.TokenVerify, alice)
	createEmailToken(t, s, verify)
	bobs := emailToken("bob", gatehouse.TokenRecovery, bob)
	createEmailToken(t, s, bobs)

	reset := alice
	reset.PasswordHash, reset.EmailVerified = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$cmVzZXQ", true
	change := func(spend []byte) gatehouse.UserChange {
		return gatehouse.UserChange{
			User: reset, Spend: spend, Retire: []gatehouse.EmailTokenKind{gatehouse.TokenVerify},
			Revoke: &gatehouse.Revocation{UserID: alice.ID, Reason: gatehouse.ReasonPasswordChanged, At: T0},
			Mail:   []gatehouse.QueuedMail{mail(alice, gatehouse.MailPasswordChanged, T0)},
			Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordReset, alice.ID)},
		}
	}

	// Bob's token does not spend for Alice, and changes nothing.
	_, err := s.UpdateUser(t.Context(), change(bobs.Hash))
	CheckCode(t, "UpdateUser(spending another user's token)", err, gatehouse.CodeInvalidToken)
	checkUnchanged := func(call string) {
		t.Helper()
		got, _ := s.UserByID(t.Context(), alice.ID)
		checkUser(t, call+": user", got, alice)
		if n, _, _ := s.OutboxStats(t.Context()); n != 0 {
			t.Errorf("%s: %d messages queued, want 0", call, n)
		}
		if slices.Contains(auditTypes(t, s, alice.ID), gatehouse.EventPasswordReset) {
			t.Errorf("%s: the event was recorded", call)
		}
		if _, _, err := s.EmailToken(t.Context(), verify.Hash); err != nil {
			t.Errorf("%s: the verify token was retired", call)
		}
	}
	checkUnchanged("UpdateUser(spending another user's token)")

	revoked, err := s.UpdateUser(t.Context(), change(tok.Hash))
	if err != nil {
		t.Fatalf("UpdateUser(spending) = %v, want nil", err)
	}
	checkIDs(t, "UpdateUser(spending) revoked", revoked, []string{"login-1"})
	got, _ := s.UserByID(t.Context(), alice.ID)
	checkUser(t, "UserByID after spending", got, reset)
	checkEmailTokenGone(t, s, "EmailToken(spent)", tok.Hash)
	checkEmailTokenGone(t, s, "EmailToken(retired)", verify.Hash)
	if _, _, err := s.EmailToken(t.Context(), bobs.Hash); err != nil {
		t.Errorf("Bob's token = %v, want it kept", err)
	}
	if n, _, _ := s.OutboxStats(t.Context()); n != 1 {
		t.Errorf("%d messages queued, want 1", n)
	}

	// Spent once: a second spend fails and changes nothing.
	again := change(tok.Hash)
	again.User.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$YWdhaW4"
	_, err = s.UpdateUser(t.Context(), again)
	CheckCode(t, "UpdateUser(spending a spent token)", err, gatehouse.CodeInvalidToken)
	if got, _ := s.UserByID(t.Context(), alice.ID); got.PasswordHash != reset.PasswordHash {
		t.Error("a spent token changed the password again")
	}
}

func testUpdateUserEmailTaken(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	tok := emailToken("change", gatehouse.TokenEmailChange, alice)
	createEmailToken(t, s, tok)
	moved := alice
	moved.Email = bob.Email
	_, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: moved, Spend: tok.Hash, Events: []gatehouse.AuditEvent{Event(gatehouse.EventEmailChanged, alice.ID)}})
	CheckCode(t, "UpdateUser(to a taken email)", err, gatehouse.CodeEmailTaken)
	got, _ := s.UserByID(t.Context(), alice.ID)
	checkUser(t, "UserByID after a refused change", got, alice)
	if _, _, err := s.EmailToken(t.Context(), tok.Hash); err != nil {
		t.Errorf("the token was spent by a refused change: %v", err)
	}
}

func testOutbox(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	if n, oldest, err := s.OutboxStats(t.Context()); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("OutboxStats(empty) = %d, %v, %v; want 0, zero, nil", n, oldest, err)
	}
	// Three messages queued a second apart, the last not yet due.
	createEmailToken(t, s, emailToken("a", gatehouse.TokenRecovery, alice), mail(alice, gatehouse.MailRecovery, T0))
	createEmailToken(t, s, emailToken("b", gatehouse.TokenVerify, alice), mail(alice, gatehouse.MailVerify, T0.Add(time.Second)))
	later := mail(alice, gatehouse.MailEmailChange, T0.Add(2*time.Second))
	later.NextAt = T0.Add(time.Hour)
	createEmailToken(t, s, emailToken("c", gatehouse.TokenEmailChange, alice), later)

	n, oldest, err := s.OutboxStats(t.Context())
	if err != nil || n != 3 || !oldest.Equal(T0) {
		t.Errorf("OutboxStats = %d, %v, %v; want 3, %v, nil", n, oldest, err, T0)
	}
	now, until := T0.Add(time.Minute), T0.Add(6*time.Minute)
	claimed, err := s.ClaimMail(t.Context(), now, until, 10)
	if err != nil {
		t.Fatalf("ClaimMail = %v, want nil", err)
	}
	if len(claimed) != 2 || claimed[0].Kind != gatehouse.MailRecovery || claimed[1].Kind != gatehouse.MailVerify {
		t.Fatalf("ClaimMail = %+v, want the recovery then the verify message", claimed)
	}
	m := claimed[0]
	if m.ID == 0 || m.UserID != alice.ID || string(m.Sealed) != "sealed recovery" || !m.CreatedAt.Equal(T0) || !m.NextAt.Equal(until) || m.Attempts != 0 {
		t.Errorf("claimed %+v", m)
	}
	if again, _ := s.ClaimMail(t.Context(), now, until, 10); len(again) != 0 {
		t.Errorf("ClaimMail during the lease = %d messages, want 0", len(again))
	}
	// A limit takes the oldest due.
	if one, _ := s.ClaimMail(t.Context(), until, until.Add(time.Minute), 1); len(one) != 1 || one[0].ID != m.ID {
		t.Errorf("ClaimMail(limit 1) after the lease = %+v, want message %d", one, m.ID)
	}

	if err := s.RetryMail(t.Context(), m.ID, 1, T0.Add(10*time.Minute)); err != nil {
		t.Fatalf("RetryMail = %v", err)
	}
	if got, _ := s.ClaimMail(t.Context(), T0.Add(9*time.Minute), T0.Add(20*time.Minute), 10); len(got) != 1 || got[0].ID == m.ID {
		t.Errorf("ClaimMail before the retry is due = %+v, want only the verify message", got)
	}
	got, _ := s.ClaimMail(t.Context(), T0.Add(10*time.Minute), T0.Add(15*time.Minute), 10)
	if len(got) != 1 || got[0].ID != m.ID || got[0].Attempts != 1 {
		t.Errorf("ClaimMail when the retry is due = %+v, want message %d with 1 attempt", got, m.ID)
	}

	sent := Event(gatehouse.EventEmailSent, alice.ID)
	if err := s.FinishMail(t.Context(), m.ID, sent); err != nil {
		t.Fatalf("FinishMail = %v", err)
	}
	if err := s.FinishMail(t.Context(), m.ID, sent); err != nil {
		t.Errorf("FinishMail(gone) = %v, want nil", err)
	}
	sentEvents := 0
	for _, typ := range auditTypes(t, s, alice.ID) {
		if typ == gatehouse.EventEmailSent {
			sentEvents++
		}
	}
	if sentEvents != 1 {
		t.Errorf("%d email.sent events, want 1 (a message finished twice records once)", sentEvents)
	}
	if n, oldest, _ := s.OutboxStats(t.Context()); n != 2 || !oldest.Equal(T0.Add(time.Second)) {
		t.Errorf("OutboxStats after one was sent = %d, %v; want 2, %v", n, oldest, T0.Add(time.Second))
	}
}

// testClaimMailConcurrently checks that concurrent claims, as several
// servers make, never take the same message.
func testClaimMailConcurrently(t *testing.T, s gatehouse.Store) {
	const users, claimers = 100, 4
	for i := range users {
		u := User(fmt.Sprintf("user-%02d", i))
		CreateUser(t, s, u)
		createEmailToken(t, s, emailToken(u.ID, gatehouse.TokenRecovery, u), mail(u, gatehouse.MailRecovery, T0))
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range claimers {
		wg.Go(func() {
			for {
				got, err := s.ClaimMail(t.Context(), T0, T0.Add(time.Hour), 3)
				if err != nil {
					t.Errorf("ClaimMail = %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != users {
		t.Errorf("%d messages claimed, want %d", len(seen), users)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
}

// testEmailVerifiedRead checks that every read of a user, alone or with
// a login or a refresh token, says whether the email is verified.
func testEmailVerifiedRead(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	u.EmailVerified = true
	CreateUser(t, s, u)
	l := Session("login-1", u.ID, T0)
	CreateLogin(t, s, l)
	_, got, err := s.SessionBySecretHash(t.Context(), l.SecretHash)
	if err != nil || !got.EmailVerified {
		t.Errorf("SessionBySecretHash: user %+v, %v; want it verified", got, err)
	}
	tl := Token("login-2", u.ID, T0)
	rt := gatehouse.RefreshToken{Hash: secretHash("refresh"), LoginID: tl.ID, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)}
	if err := s.CreateTokenLogin(t.Context(), tl, rt, Event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
		t.Fatal(err)
	}
	if _, _, got, err := s.RefreshToken(t.Context(), rt.Hash); err != nil || !got.EmailVerified {
		t.Errorf("RefreshToken: user %+v, %v; want it verified", got, err)
	}
	if got, err := s.UserByEmail(t.Context(), u.Email); err != nil || !got.EmailVerified {
		t.Errorf("UserByEmail: %+v, %v; want it verified", got, err)
	}
}
