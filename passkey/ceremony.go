package passkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

var (
	// ErrInvalidCredential means a credential (the browser's answer to a
	// ceremony) was refused: malformed, signed by the wrong key, for
	// another origin, relying party or challenge, without the user
	// verification a passwordless login needs, or not the user's. It
	// wraps the library's error, which says why, for the log; the user
	// is told only invalid_credential(s).
	ErrInvalidCredential = errors.New("passkey: invalid credential")
	// ErrCounterWentBack means an assertion's signature counter was not
	// greater than the stored one, when either is non-zero: a sign that
	// the authenticator, and so its private key, may have been cloned.
	// The login is refused; the caller audits it, naming the user and
	// credential it looked up in FinishLogin's find.
	ErrCounterWentBack = errors.New("passkey: signature counter went backwards")
	// ErrInvalidState means a state is not one that BeginRegistration or
	// BeginLogin returned for this kind of ceremony. The caller seals and
	// keeps states, so this is a bug or tampering, not the user's doing.
	ErrInvalidState = errors.New("passkey: invalid ceremony state")
	// ErrNoCredentials means BeginLogin was asked for a second factor of
	// a user with no passkeys.
	ErrNoCredentials = errors.New("passkey: the user has no passkeys")
)

// maxCredentialJSON bounds the credential JSON the Finish methods read,
// far above a real one (a few kilobytes with an attestation certificate
// chain), so hostile input costs little.
const maxCredentialJSON = 64 << 10

// maxCredentialID is the longest credential id a relying party should
// accept (WebAuthn Level 3, §7.1, step 24).
const maxCredentialID = 1023

// Credential is a registered passkey as the caller stores it: plain data,
// all of it needed to verify later logins. Only SignCount, BackupState
// (and, with the library's refusal of any change, BackupEligible) change
// at each login; store the Credential FinishLogin returns.
type Credential struct {
	// ID is the credential id the authenticator chose (up to 1023 bytes);
	// unique across all users, so store it with a unique index.
	ID []byte
	// PublicKey is the credential's public key, a COSE_Key in CBOR.
	PublicKey []byte
	// AttestationType is the attestation type the registration was
	// verified with ("none" when, as asked, the browser sent none).
	AttestationType string
	// AAGUID identifies the authenticator's model (16 bytes, zero when it
	// does not say).
	AAGUID []byte
	// SignCount is the last signature counter seen; 0 for authenticators
	// without one (most synced passkeys).
	SignCount uint32
	// BackupEligible (BE) tells whether the credential may be synced to
	// other devices (a "multi-device" passkey). It cannot change: a login
	// whose flag differs is refused, so it must be stored.
	BackupEligible bool
	// BackupState (BS) tells whether the credential is backed up now; it
	// may change at each login.
	BackupState bool
	// Transports are the authenticator's transports as the browser
	// reported them ("internal", "hybrid", "usb", ...), hints for later
	// ceremonies.
	Transports []string
}

// User is a person as the ceremonies need them.
type User struct {
	// ID is the WebAuthn user handle: 1 to 64 bytes, opaque, never
	// personal data (such as an email address), stable for the user's
	// life. Authenticators store it in discoverable credentials and
	// return it at passwordless logins. 16 random bytes or the bytes of
	// the user's id both do.
	ID []byte
	// Name is the account's name as the authenticator shows it, such as
	// an email address.
	Name string
	// DisplayName is a friendlier name shown with it; the empty string
	// means Name.
	DisplayName string
	// Credentials are the user's registered passkeys.
	Credentials []Credential
}

// Login is what a successful FinishLogin proves.
type Login struct {
	// UserHandle is the user handle (User.ID) of the user who signed in.
	UserHandle []byte
	// Credential is the credential used, with its SignCount, BackupState
	// and BackupEligible updated from the assertion: store it.
	Credential Credential
	// UserVerified tells whether the authenticator verified the user (by
	// PIN or biometrics), making the passkey two factors by itself. A
	// passwordless login is refused without it, so it is false only at a
	// second-factor login.
	UserVerified bool
}

// Ceremony kinds recorded in a state.
const (
	ceremonyRegistration = "registration"
	ceremonyLogin        = "login"
)

// state is what a Begin method returns as opaque bytes: go-webauthn's
// session data (the challenge, relying party id, user handle, allowed
// credentials, user verification requirement, credential parameters)
// and the kind of ceremony it is for.
type state struct {
	Ceremony string               `json:"ceremony"`
	Session  webauthn.SessionData `json:"session"`
}

// BeginRegistration starts adding a passkey for u. It returns the
// creation options, in the JSON that PublicKeyCredential.
// parseCreationOptionsFromJSON reads as {"publicKey":{...}}, and the
// state FinishRegistration needs. The options ask for a discoverable
// credential (resident key required), user verification where
// available, no attestation, and exclude u's existing credentials so
// that an authenticator does not register twice.
//
// The caller keeps the state where the client cannot change it (sealed,
// or server-side under a random id), lets it be used once, and for five
// minutes at most; it holds no secret but the challenge.
func (rp *RelyingParty) BeginRegistration(u User) (options []byte, stateJSON []byte, err error) {
	exclude := make([]protocol.CredentialDescriptor, len(u.Credentials))
	for i, c := range u.Credentials {
		lc := toLibrary(c)
		exclude[i] = lc.Descriptor()
	}
	creation, session, err := rp.w.BeginRegistration(libraryUser{u}, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	return marshalCeremony(creation.Response, ceremonyRegistration, session)
}

// FinishRegistration checks the credential the browser returned for the
// ceremony of stateJSON, in the form of WebAuthn Level 3's toJSON(), and
// returns the Credential to store. u must be the user the ceremony was
// begun for; a credential id u already has is refused. Errors wrap
// ErrInvalidCredential, or ErrInvalidState for a state that is not a
// registration's.
//
// The options asked for a discoverable credential, but a browser may
// create another kind, and nothing signed says which: such a passkey
// works as a second factor but not alone.
func (rp *RelyingParty) FinishRegistration(u User, stateJSON []byte, credentialJSON []byte) (Credential, error) {
	session, err := readState(stateJSON, ceremonyRegistration)
	if err != nil {
		return Credential{}, err
	}
	if len(credentialJSON) > maxCredentialJSON {
		return Credential{}, fmt.Errorf("%w: %d bytes of JSON", ErrInvalidCredential, len(credentialJSON))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credentialJSON)
	if err != nil {
		return Credential{}, invalid(err)
	}
	created, err := rp.w.CreateCredential(libraryUser{u}, session, parsed)
	if err != nil {
		return Credential{}, invalid(err)
	}
	if len(created.ID) > maxCredentialID {
		return Credential{}, fmt.Errorf("%w: credential id of %d bytes", ErrInvalidCredential, len(created.ID))
	}
	for _, c := range u.Credentials {
		if bytes.Equal(c.ID, created.ID) {
			return Credential{}, fmt.Errorf("%w: the user already has this credential", ErrInvalidCredential)
		}
	}
	c := Credential{
		ID:              created.ID,
		PublicKey:       created.PublicKey,
		AttestationType: created.AttestationType,
		AAGUID:          created.Authenticator.AAGUID,
		SignCount:       created.Authenticator.SignCount,
		BackupEligible:  created.Flags.BackupEligible,
		BackupState:     created.Flags.BackupState,
	}
	for _, t := range created.Transport {
		c.Transports = append(c.Transports, string(t))
	}
	return c, nil
}

// BeginLogin starts a login with a passkey. With u nil it is a
// passwordless login: the options allow any discoverable credential of
// this relying party (allowCredentials empty) and require user
// verification, and the authenticator says whose it is. With u set it is
// a second factor for u, after their password: the options allow only
// u's credentials (ErrNoCredentials if there are none) and prefer user
// verification, user presence being enough.
//
// options are in the JSON that PublicKeyCredential.
// parseRequestOptionsFromJSON reads, as {"publicKey":{...}}; the state is
// kept as BeginRegistration's is.
func (rp *RelyingParty) BeginLogin(u *User) (options []byte, stateJSON []byte, err error) {
	var (
		assertion *protocol.CredentialAssertion
		session   *webauthn.SessionData
	)
	if u == nil {
		assertion, session, err = rp.w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	} else {
		if len(u.Credentials) == 0 {
			return nil, nil, ErrNoCredentials
		}
		if len(u.ID) == 0 {
			return nil, nil, errors.New("passkey: begin login: the user has no user handle")
		}
		assertion, session, err = rp.w.BeginLogin(libraryUser{*u}, webauthn.WithUserVerification(protocol.VerificationPreferred))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	return marshalCeremony(assertion.Response, ceremonyLogin, session)
}

// FinishLogin checks the assertion the browser returned for the login of
// stateJSON, in the form of WebAuthn Level 3's toJSON(), and returns who
// signed in and the credential's new state, to store.
//
// FinishLogin calls find once, with the user handle and credential id,
// to load the user: at a passwordless login the handle is the one the
// authenticator returned, at a second-factor login the one of the user
// the login was begun for. find returns the user with their credentials;
// FinishLogin checks that the handle is theirs and the credential one of
// theirs. An error from find is returned as it is, so that a store
// outage stays one: make it wrap ErrInvalidCredential for a user or
// credential that does not exist.
//
// Errors wrap ErrInvalidCredential (any refusal of the assertion,
// including a passwordless one without user verification),
// ErrCounterWentBack, or ErrInvalidState.
func (rp *RelyingParty) FinishLogin(stateJSON []byte, credentialJSON []byte, find func(userHandle, credentialID []byte) (User, error)) (Login, error) {
	session, err := readState(stateJSON, ceremonyLogin)
	if err != nil {
		return Login{}, err
	}
	if len(credentialJSON) > maxCredentialJSON {
		return Login{}, fmt.Errorf("%w: %d bytes of JSON", ErrInvalidCredential, len(credentialJSON))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credentialJSON)
	if err != nil {
		return Login{}, invalid(err)
	}
	passwordless := len(session.UserID) == 0
	handle := session.UserID
	if passwordless {
		handle = parsed.Response.UserHandle
		if len(handle) == 0 {
			return Login{}, fmt.Errorf("%w: no user handle at a passwordless login", ErrInvalidCredential)
		}
		// The library checks this as well, from the state; checked here
		// too, so that a passwordless login never goes without it.
		if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
			return Login{}, fmt.Errorf("%w: no user verification at a passwordless login", ErrInvalidCredential)
		}
	}
	u, err := find(handle, parsed.RawID)
	if err != nil {
		return Login{}, err
	}
	if !bytes.Equal(u.ID, handle) {
		return Login{}, fmt.Errorf("%w: find returned another user", ErrInvalidCredential)
	}
	lu := libraryUser{u}
	var used *webauthn.Credential
	if passwordless {
		_, used, err = rp.w.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return lu, nil }, session, parsed)
	} else {
		used, err = rp.w.ValidateLogin(lu, session, parsed)
	}
	if err != nil {
		return Login{}, invalid(err)
	}
	if used.Authenticator.CloneWarning {
		return Login{}, fmt.Errorf("%w: counter %d, stored %d", ErrCounterWentBack,
			parsed.Response.AuthenticatorData.Counter, used.Authenticator.SignCount)
	}
	var stored Credential
	for _, c := range u.Credentials {
		if bytes.Equal(c.ID, used.ID) {
			stored = c
			break
		}
	}
	flags := parsed.Response.AuthenticatorData.Flags
	stored.SignCount = used.Authenticator.SignCount
	stored.BackupEligible = flags.HasBackupEligible()
	stored.BackupState = flags.HasBackupState()
	return Login{UserHandle: u.ID, Credential: stored, UserVerified: flags.HasUserVerified()}, nil
}

// marshalCeremony writes the options under "publicKey" and the state.
func marshalCeremony(options any, ceremony string, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(struct {
		PublicKey any `json:"publicKey"`
	}{options})
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: options: %w", err)
	}
	s, err := json.Marshal(state{Ceremony: ceremony, Session: *session})
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: state: %w", err)
	}
	return o, s, nil
}

// readState reads a state of the given ceremony.
func readState(stateJSON []byte, ceremony string) (webauthn.SessionData, error) {
	var s state
	if err := json.Unmarshal(stateJSON, &s); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	if s.Ceremony != ceremony {
		return webauthn.SessionData{}, fmt.Errorf("%w: a %q state, want %q", ErrInvalidState, s.Ceremony, ceremony)
	}
	if s.Session.Challenge == "" {
		return webauthn.SessionData{}, fmt.Errorf("%w: no challenge", ErrInvalidState)
	}
	return s.Session, nil
}

// invalid wraps a refusal of go-webauthn in ErrInvalidCredential, with
// the library's debugging information, which its Error leaves out.
func invalid(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w: %w (%s)", ErrInvalidCredential, err, pe.DevInfo)
	}
	return fmt.Errorf("%w: %w", ErrInvalidCredential, err)
}

// libraryUser presents a User as go-webauthn's User.
type libraryUser struct{ u User }

func (l libraryUser) WebAuthnID() []byte   { return l.u.ID }
func (l libraryUser) WebAuthnName() string { return l.u.Name }

func (l libraryUser) WebAuthnDisplayName() string {
	if l.u.DisplayName == "" {
		return l.u.Name
	}
	return l.u.DisplayName
}

func (l libraryUser) WebAuthnCredentials() []webauthn.Credential {
	cs := make([]webauthn.Credential, len(l.u.Credentials))
	for i, c := range l.u.Credentials {
		cs[i] = toLibrary(c)
	}
	return cs
}

// toLibrary makes go-webauthn's record of a stored credential. The
// backup flags are rebuilt from the stored ones: go-webauthn refuses a
// login whose BE flag differs from the record's (go-webauthn issue 335,
// where relying parties that did not store it could no longer log in).
func toLibrary(c Credential) webauthn.Credential {
	var flags protocol.AuthenticatorFlags
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:              c.ID,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		Transport:       transports,
		Flags:           webauthn.NewCredentialFlags(flags),
		Authenticator: webauthn.Authenticator{
			AAGUID:    c.AAGUID,
			SignCount: c.SignCount,
		},
	}
}
