package gatehouse

import (
	"context"
	"time"
)

// Passkey is a user's registered WebAuthn credential, as stored.
type Passkey struct {
	ID     string
	UserID string
	// Name is the user's name for it ("Work laptop"); it may be empty.
	Name string
	// CredentialID is the authenticator's id for the credential, unique
	// across all users.
	CredentialID    []byte
	PublicKey       []byte
	AttestationType string
	AAGUID          []byte
	// SignCount is the last signature counter seen.
	SignCount      uint32
	BackupEligible bool
	BackupState    bool
	Transports     []string
	CreatedAt      time.Time
	// LastUsedAt is the last sign-in with it; zero when never used.
	LastUsedAt time.Time
}

// Kinds of WebAuthn ceremony kept between their two halves.
const (
	CeremonyRegister = "register" // adding a passkey
	CeremonyLogin    = "login"    // a passwordless sign-in
	CeremonyMFA      = "mfa"      // a passkey as second factor
)

// WebAuthnChallenge is a WebAuthn ceremony between its two halves, known
// by the SHA-256 of its id: the challenge (registration), the
// challenge_id (passwordless) or the mfa_token (second factor).
type WebAuthnChallenge struct {
	Hash []byte
	// UserID is the user the ceremony is for; "" for a passwordless one.
	UserID string
	Kind   string
	// Sealed is the ceremony's state sealed under the deployment secret,
	// bound to the hash, kind and user.
	Sealed    []byte
	ExpiresAt time.Time
}

// PasskeyUse is what a sign-in with a passkey changes of it.
type PasskeyUse struct {
	ID             string
	SignCount      uint32
	BackupEligible bool
	BackupState    bool
	At             time.Time
}

// PasskeyStore keeps users' passkeys.
type PasskeyStore interface {
	// Passkeys returns the user's passkeys, oldest first.
	Passkeys(ctx context.Context, userID string) ([]Passkey, error)
	// PasskeyByCredentialID returns the passkey with that credential id,
	// or CodeNotFound.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error)
	// AddPasskey stores p, queues mail and records ev, in one
	// transaction; CodeInvalidCredential when its credential id is
	// registered already (to anyone).
	AddPasskey(ctx context.Context, p Passkey, mail []QueuedMail, ev AuditEvent) error
	// RenamePasskey names the user's passkey id and returns it;
	// CodeNotFound when the user has no such passkey.
	RenamePasskey(ctx context.Context, userID, id, name string) (Passkey, error)
	// DeletePasskey removes the user's passkey id and, with codes, their
	// recovery codes, queues mail and records ev, in one transaction;
	// CodeNotFound when the user has no such passkey.
	DeletePasskey(ctx context.Context, userID, id string, codes bool, mail []QueuedMail, ev AuditEvent) error
	// UsePasskey records a sign-in with a passkey: its new counter,
	// backup flags and last use. The counter must be above the stored one
	// (or both zero): CodeInvalidCredentials otherwise, or when the
	// passkey is gone.
	UsePasskey(ctx context.Context, u PasskeyUse) error
}

// CeremonyStore keeps WebAuthn ceremonies between their two halves; the
// expired ones go with DeleteExpiredChallenges.
type CeremonyStore interface {
	// CreateWebAuthnChallenge stores c.
	CreateWebAuthnChallenge(ctx context.Context, c WebAuthnChallenge) error
	// SpendWebAuthnChallenge removes the ceremony of that hash and kind
	// and returns it; CodeNotFound when there is none (spent, expired and
	// swept, or never made). It does not check the expiry; the caller
	// does.
	SpendWebAuthnChallenge(ctx context.Context, hash []byte, kind string) (WebAuthnChallenge, error)
}
