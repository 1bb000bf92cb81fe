package storetest

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Run runs the suite, one subtest per rule. open must return a new, empty
// store and close it with t.Cleanup; it is called once per subtest.
func Run(t *testing.T, open func(t *testing.T) gatehouse.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, s gatehouse.Store)
	}{
		{"CreateUser", testCreateUser},
		{"UserNotFound", testUserNotFound},
		{"EmailTaken", testEmailTaken},
		{"Roles", testRoles},
		{"Disabled", testDisabled},
		{"ListUsers", testListUsers},
		{"ListUsersByEmail", testListUsersByEmail},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserRevokeAllButOne", testUpdateUserRevoke},
		{"UpdateUserNotFound", testUpdateUserNotFound},
		{"CreateLogin", testCreateLogin},
		{"SessionBySecretHash", testSessionBySecretHash},
		{"LoginNotFound", testLoginNotFound},
		{"LoginOfMissingUser", testLoginOfMissingUser},
		{"SecretHashUnique", testSecretHashUnique},
		{"ListLogins", testListLogins},
		{"TouchLogin", testTouchLogin},
		{"RevokeLogins", testRevokeLogins},
		{"DeleteExpiredLogins", testDeleteExpiredLogins},
		{"UpdateUserFeed", testUpdateUserFeed},
		{"FeedEntries", testFeedEntries},
		{"CreateTokenLogin", testCreateTokenLogin},
		{"RefreshToken", testRefreshToken},
		{"RotateRefreshToken", testRotateRefreshToken},
		{"RotateRefreshTokenConcurrently", testRotateRefreshTokenConcurrently},
		{"TokenLoginRefusals", testTokenLoginRefusals},
		{"ListTokenLogins", testListTokenLogins},
		{"DeleteExpiredTokenLogins", testDeleteExpiredTokenLogins},
		{"Keys", testKeys},
		{"RevocationsAfter", testRevocationsAfter},
		{"Audit", testAudit},
		{"EmailTokens", testEmailTokens},
		{"SpendEmailToken", testSpendEmailToken},
		{"UpdateUserEmailTaken", testUpdateUserEmailTaken},
		{"Outbox", testOutbox},
		{"ClaimMailConcurrently", testClaimMailConcurrently},
		{"EmailVerifiedRead", testEmailVerifiedRead},
		{"TOTP", testTOTP},
		{"RecoveryCodes", testRecoveryCodes},
		{"MFAChallenges", testMFAChallenges},
		{"LoginAssurance", testLoginAssurance},
		{"Passkeys", testPasskeys},
		{"PasskeysCascade", testPasskeysCascade},
		{"WebAuthnChallenges", testWebAuthnChallenges},
		{"PasskeysConcurrently", testPasskeysConcurrently},
		{"Apps", testApps},
		{"OIDCLogins", testOIDCLogins},
		{"DeleteApp", testDeleteApp},
		{"Consents", testConsents},
		{"DeleteConsent", testDeleteConsent},
		{"AuthRequests", testAuthRequests},
		{"ExchangeAuthCode", testExchangeAuthCode},
		{"ExchangeAuthCodeConcurrently", testExchangeAuthCodeConcurrently},
		{"DeleteExpiredAuthRequests", testDeleteExpiredAuthRequests},
		{"Timestamps", testTimestamps},
		{"Concurrency", testConcurrency},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

// The fixtures below are the suite's, and the stores' own tests use them
// too.

// T0 is the suite's "now". It has nanoseconds, which every store keeps.
var T0 = time.Date(2030, time.January, 2, 3, 4, 5, 123456789, time.UTC)

// User returns a member created an hour before T0, whose email is the id
// at example.com.
func User(id string) gatehouse.User {
	return gatehouse.User{
		ID:           id,
		Email:        id + "@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Roles:        []string{"member"},
		CreatedAt:    T0.Add(-time.Hour),
	}
}

// Session returns a session login created at created, live for a day
// of inactivity and thirty days at most.
func Session(id, userID string, created time.Time) gatehouse.Login {
	return gatehouse.Login{
		ID:            id,
		UserID:        userID,
		Mode:          gatehouse.ModeSession,
		SecretHash:    secretHash(id),
		Device:        "Firefox on Linux",
		IP:            "192.0.2.1",
		UserAgent:     "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
		Remember:      true,
		CreatedAt:     created,
		LastSeenAt:    created,
		ExpiresAt:     created.Add(30 * 24 * time.Hour),
		IdleExpiresAt: created.Add(24 * time.Hour),
	}
}

// Token returns a token login created at created, live for a week.
func Token(id, userID string, created time.Time) gatehouse.Login {
	return gatehouse.Login{
		ID:        id,
		UserID:    userID,
		Mode:      gatehouse.ModeToken,
		Device:    "curl",
		IP:        "2001:db8::1",
		UserAgent: "curl/8.14.1",
		CreatedAt: created,
		ExpiresAt: created.Add(7 * 24 * time.Hour),
	}
}

// secretHash stands for the SHA-256 of a cookie secret.
func secretHash(s string) []byte {
	h := sha256.Sum256([]byte("secret of " + s))
	return h[:]
}

// Event returns an audit event at T0.
func Event(typ, userID string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{At: T0, Type: typ, UserID: userID, IP: "192.0.2.1"}
}

// CreateUser creates u, or ends the test.
func CreateUser(t testing.TB, s gatehouse.Store, u gatehouse.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u, Event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser(%q) = %v, want nil", u.ID, err)
	}
}

// CreateLogin creates l, or ends the test.
func CreateLogin(t testing.TB, s gatehouse.Store, l gatehouse.Login) {
	t.Helper()
	if err := s.CreateLogin(t.Context(), l, Event(gatehouse.EventLoginSucceeded, l.UserID)); err != nil {
		t.Fatalf("CreateLogin(%q) = %v, want nil", l.ID, err)
	}
}

// CheckCode checks that err has the code want.
func CheckCode(t testing.TB, call string, err error, want gatehouse.Code) {
	t.Helper()
	if got := gatehouse.ErrorCode(err); got != want {
		t.Errorf("%s: error %v has code %q, want %q", call, err, got, want)
	}
}

func checkUser(t *testing.T, call string, got, want gatehouse.User) {
	t.Helper()
	same := got.ID == want.ID && got.Email == want.Email && got.PasswordHash == want.PasswordHash &&
		slices.Equal(got.Roles, want.Roles) && got.Disabled == want.Disabled && got.EmailVerified == want.EmailVerified &&
		got.CreatedAt.Equal(want.CreatedAt)
	if !same {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" CreatedAt", got.CreatedAt)
}

func checkLogin(t *testing.T, call string, got, want gatehouse.Login) {
	t.Helper()
	same := got.ID == want.ID && got.UserID == want.UserID && got.Mode == want.Mode && got.AppID == want.AppID &&
		bytes.Equal(got.SecretHash, want.SecretHash) && got.Device == want.Device &&
		got.IP == want.IP && got.UserAgent == want.UserAgent && got.Remember == want.Remember &&
		got.CreatedAt.Equal(want.CreatedAt) && got.LastSeenAt.Equal(want.LastSeenAt) &&
		got.ExpiresAt.Equal(want.ExpiresAt) && got.IdleExpiresAt.Equal(want.IdleExpiresAt)
	if !same {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" CreatedAt", got.CreatedAt)
	checkUTC(t, call+" LastSeenAt", got.LastSeenAt)
	checkUTC(t, call+" ExpiresAt", got.ExpiresAt)
	checkUTC(t, call+" IdleExpiresAt", got.IdleExpiresAt)
}

func checkEvent(t *testing.T, call string, got, want gatehouse.AuditEvent) {
	t.Helper()
	if got.Type != want.Type || got.UserID != want.UserID || got.IP != want.IP ||
		got.Detail != want.Detail || !got.At.Equal(want.At) {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" At", got.At)
}

func checkUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, tm.Location())
	}
}

// checkIDs compares lists of ids in order.
func checkIDs(t *testing.T, call string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", call, got, want)
	}
}

// checkSameIDs compares sets of ids, for results whose order the contract
// leaves open.
func checkSameIDs(t *testing.T, call string, got, want []string) {
	t.Helper()
	checkIDs(t, call, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

func loginIDs(logins []gatehouse.Login) []string {
	ids := make([]string, len(logins))
	for i, l := range logins {
		ids[i] = l.ID
	}
	return ids
}

// auditTypes returns the types of the user's audit events, newest first;
// an empty userID means everyone's.
func auditTypes(t *testing.T, s gatehouse.Store, userID string) []string {
	t.Helper()
	events, err := s.ListAudit(t.Context(), gatehouse.AuditQuery{UserID: userID, Limit: 1000})
	if err != nil {
		t.Fatalf("ListAudit(%q) = %v, want nil", userID, err)
	}
	types := make([]string, len(events))
	for i, ev := range events {
		types[i] = ev.Type
	}
	return types
}

// checkGone checks that a login can be found neither by id nor, for a
// session, by its secret hash.
func checkGone(t *testing.T, s gatehouse.Store, l gatehouse.Login) {
	t.Helper()
	_, err := s.LoginByID(t.Context(), l.ID)
	CheckCode(t, "LoginByID("+l.ID+")", err, gatehouse.CodeNotFound)
	if l.SecretHash != nil {
		_, _, err := s.SessionBySecretHash(t.Context(), l.SecretHash)
		CheckCode(t, "SessionBySecretHash(hash of "+l.ID+")", err, gatehouse.CodeNotFound)
	}
}

// checkKept checks that a login is still stored unchanged.
func checkKept(t *testing.T, s gatehouse.Store, l gatehouse.Login) {
	t.Helper()
	got, err := s.LoginByID(t.Context(), l.ID)
	if err != nil {
		t.Errorf("LoginByID(%q) = %v, want nil", l.ID, err)
		return
	}
	checkLogin(t, "LoginByID("+l.ID+")", got, l)
}

func testPing(t *testing.T, s gatehouse.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping = %v, want nil", err)
	}
}
