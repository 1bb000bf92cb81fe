package gatehouse

import (
	"context"
	"strings"
	"time"
)

// Assurance levels of a login (NIST SP 800-63B): AAL1 is one factor, AAL2
// two (a password and a code, or a passkey that verified its user).
const (
	AAL1 = 1
	AAL2 = 2
)

// Authentication methods of a login (RFC 8176).
const (
	AMRPassword = "pwd"  // a password
	AMROTP      = "otp"  // a one-time code: TOTP or a recovery code
	AMRHardware = "hwk"  // a passkey
	AMRUser     = "user" // the passkey verified its user (biometric, PIN)
	AMRMFA      = "mfa"  // more than one factor
)

// AMRString writes a login's methods as stored, space-separated, and
// ParseAMR reads them back.
func AMRString(amr []string) string { return strings.Join(amr, " ") }
func ParseAMR(s string) []string    { return strings.Fields(s) }

// TOTP is a user's authenticator app.
type TOTP struct {
	UserID string
	// Sealed is the secret, sealed under the deployment secret and bound
	// to the user id.
	Sealed []byte
	// Confirmed is set once the user typed a right code: until then the
	// factor does not count.
	Confirmed bool
	// LastStep is the time step of the last code accepted; a code of that
	// step or an earlier one is refused, on every server, so that a code
	// is used once.
	LastStep  int64
	CreatedAt time.Time
}

// MFAChallenge is the second step of a sign-in, between a right password
// and a second factor: what the first step asked for, and who. It is known
// by the SHA-256 of its mfa_token.
type MFAChallenge struct {
	Hash     []byte
	UserID   string
	Mode     Mode
	Remember bool
	Device   string
	// Failures counts the wrong codes given; at maxMFAFailures the
	// challenge ends.
	Failures             int
	CreatedAt, ExpiresAt time.Time
}

// FactorStore keeps second factors and the sign-ins waiting for one.
type FactorStore interface {
	// TOTP returns the user's authenticator app, confirmed or not, or
	// CodeNotFound.
	TOTP(ctx context.Context, userID string) (TOTP, error)
	// PutTOTP stores t, replacing an unconfirmed one, and records ev; a
	// confirmed one stays and the call fails with CodeAlreadyEnrolled.
	PutTOTP(ctx context.Context, t TOTP, ev AuditEvent) error
	// ConfirmTOTP marks the user's unconfirmed TOTP confirmed with step as
	// its last step, replaces the user's recovery codes with codes (their
	// SHA-256), queues mail and records ev, in one transaction;
	// CodeInvalidCode when there is no unconfirmed TOTP or step is not
	// after its last.
	ConfirmTOTP(ctx context.Context, userID string, step int64, codes [][]byte, mail []QueuedMail, ev AuditEvent) error
	// UseTOTPStep records step as the last one used, when it is after the
	// last; CodeInvalidCode otherwise (a replay, or no confirmed TOTP).
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTP removes the user's TOTP and, with codes, their recovery
	// codes, queues mail and records ev; CodeNotFound when there is none.
	DeleteTOTP(ctx context.Context, userID string, codes bool, mail []QueuedMail, ev AuditEvent) error
	// SetRecoveryCodes replaces the user's recovery codes and records ev.
	SetRecoveryCodes(ctx context.Context, userID string, codes [][]byte, ev AuditEvent) error
	// UseRecoveryCode removes the user's recovery code with that hash,
	// queues mail and records ev; CodeInvalidCode when there is no such
	// code (used already, or never the user's).
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, mail []QueuedMail, ev AuditEvent) error
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)

	// CreateMFAChallenge stores c.
	CreateMFAChallenge(ctx context.Context, c MFAChallenge) error
	// MFAChallenge returns the challenge with that hash, or CodeNotFound.
	// It does not check the expiry; the caller does.
	MFAChallenge(ctx context.Context, hash []byte) (MFAChallenge, error)
	// FailMFAChallenge counts a wrong code against the challenge and ends
	// it at max failures; it returns the failures counted.
	FailMFAChallenge(ctx context.Context, hash []byte, max int) (int, error)
	// SpendMFAChallenge removes the challenge; CodeInvalidToken when it is
	// gone (spent by a concurrent request, or ended).
	SpendMFAChallenge(ctx context.Context, hash []byte) error
	// DeleteExpiredChallenges removes MFA challenges, WebAuthn
	// ceremonies and email tokens expired at now, and returns how many.
	DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error)
}
