// Package passkey runs the WebAuthn (Level 3) ceremonies that register
// passkeys and sign in with them, so that the caller handles only plain
// data: options to send to the browser, an opaque state to keep between
// the two halves of a ceremony, the browser's answer, and the Credential
// records to store. It imports nothing else from Gatehouse and knows
// nothing of users or stores. The WebAuthn work (parsing, the CBOR
// attestation objects, signatures, the checks of the specification's
// §7.1 and §7.2) is github.com/go-webauthn/webauthn's.
//
// # The ceremonies
//
// A RelyingParty (New) is made once from the relying party id (a domain
// name) and the allowed origins. Each ceremony has two halves:
//
//   - BeginRegistration(user) and FinishRegistration: adding a passkey to
//     a signed-in user. The result is a Credential to store.
//   - BeginLogin(nil) and FinishLogin: a passwordless login, where the
//     browser offers any of the site's passkeys and the authenticator
//     says whose it is; user verification (PIN or biometrics) is
//     required, so the passkey is two factors by itself.
//   - BeginLogin(&user) and FinishLogin: a second factor after the
//     password, with that user's passkeys only; user presence suffices.
//
// A Begin method returns the options, as JSON that the browser's
// PublicKeyCredential.parseCreationOptionsFromJSON or
// parseRequestOptionsFromJSON reads (under "publicKey"), and a state.
// The caller sends the options, keeps the state where the client cannot
// change it, and passes it with the browser's answer (the credential's
// toJSON()) to the matching Finish method. The state must be used once
// and for five minutes at most: the caller deletes it when it is used
// and refuses it when it is older.
//
// # What the caller stores
//
// For each passkey, a Credential: its id (unique across all users), its
// public key, and what changes at each login and must be kept up to date
// from the Login that FinishLogin returns: the signature counter and the
// backup flags. For each user, a user handle (User.ID): opaque bytes
// that authenticators keep and return at a passwordless login.
//
// # Refusals
//
// Every refusal of the browser's answer wraps ErrInvalidCredential, with
// go-webauthn's reason for the log. A signature counter that went
// backwards, the sign of a cloned authenticator, is ErrCounterWentBack,
// for the caller to audit. A relying party id that is an IP address is
// ErrNeedsDomain: WebAuthn needs a domain name, so such a server runs
// without passkeys.
package passkey
