package gatehouse

import "time"

// Mode is how a login is remembered: a server-side session behind a
// cookie, or signed tokens.
type Mode string

// The two modes.
const (
	ModeSession Mode = "session"
	ModeToken   Mode = "token"
	// ModeOIDC is a login an OpenID Connect app holds (its AppID).
	ModeOIDC Mode = "oidc"
)

// Login is one sign-in, whichever mode it used: the record a session list
// shows and revocation removes. Its ID is public and is never a secret.
type Login struct {
	ID     string
	UserID string
	Mode   Mode
	// AppID is the app (client id) of an oidc login; empty otherwise.
	AppID string
	// SecretHash is the SHA-256 of the cookie secret (session mode only).
	SecretHash []byte
	Device     string
	IP         string
	UserAgent  string
	Remember   bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the login; activity never moves it.
	ExpiresAt time.Time
	// IdleExpiresAt is when an unused session ends (session mode only).
	IdleExpiresAt time.Time
	// AAL is the login's assurance level (AAL1 or AAL2) and AMR its
	// authentication methods (RFC 8176: AMRPassword, AMROTP, ...).
	AAL int
	AMR []string
}

// Live reports whether the login is usable at now.
func (l Login) Live(now time.Time) bool {
	if !now.Before(l.ExpiresAt) {
		return false
	}
	return l.IdleExpiresAt.IsZero() || now.Before(l.IdleExpiresAt)
}

// Revocation says which logins of one user to revoke: one (LoginID), or
// all of them but KeepLoginID (which may be empty).
type Revocation struct {
	UserID      string
	LoginID     string
	KeepLoginID string
	Reason      string
	At          time.Time
}

// Revocation reasons, as the revocation feed reports them.
const (
	ReasonLogout          = "logout"
	ReasonRevoked         = "revoked"
	ReasonPasswordChanged = "password_changed"
	ReasonUserDisabled    = "user_disabled"
	ReasonEvicted         = "evicted"
)

// ReasonRolesChanged marks a feed entry that revokes no login: the user's
// roles changed at At, so the user's access tokens issued before are
// stale (see RolesStale).
const ReasonRolesChanged = "roles_changed"

// ReasonRefreshTokenReused is the revocation of a login whose retired
// refresh token was presented again (presumed theft).
const ReasonRefreshTokenReused = "refresh_token_reused"

// RevocationEvent is one entry of the revocation feed. LoginID is empty for
// a ReasonRolesChanged entry.
type RevocationEvent struct {
	Seq     int64
	LoginID string
	UserID  string
	Reason  string
	At      time.Time
}

// RefreshToken is a token login's refresh token, known only by its hash.
// UsedAt is zero while the token is unused; a used token is kept so that
// presenting it again is recognised as reuse.
type RefreshToken struct {
	Hash      []byte
	LoginID   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// SigningKey is a token signing key as stored: the private key in PKCS#8,
// sealed with the deployment secret.
type SigningKey struct {
	ID        string
	Alg       string
	Sealed    []byte
	CreatedAt time.Time
}
