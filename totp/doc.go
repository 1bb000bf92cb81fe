// Package totp checks time-based one-time passwords (RFC 6238) and makes
// recovery codes, the second factors a person types. It imports nothing
// else from Gatehouse and knows nothing of users or stores: the caller
// keeps, per user, the secret (sealed), the last accepted time step and
// the hashes of the unused recovery codes.
//
// # Codes
//
// Codes follow the profile every authenticator app understands: HMAC-SHA-1,
// 6 digits, a 30-second period, and one step of drift either way, so a
// code is accepted during about a minute and a half around its own 30
// seconds. Generate makes a secret of 160 bits (RFC 4226's recommended
// length) and the otpauth:// URI and QR code that apps read; Check
// accepts a code and returns its time step.
//
// A code must be accepted once only (the API reference: "the same code
// again, within its window, is refused"), so Check also takes the last
// step accepted for the user and refuses a code of that step or an
// earlier one. The caller stores the returned step as the new last step:
// that refuses the same code again, and any older code still inside the
// window. Two requests with the same code can both pass Check before
// either stores its step, so the store must only move the step forward,
// as a compare-and-set (UPDATE ... SET last_step = $new WHERE last_step
// < $new), and count the code as refused when no row changed.
//
// Codes are computed by github.com/pquerna/otp (its hotp package, for one
// counter at a time, so Check chooses the steps and knows which matched)
// and compared in constant time.
//
// # Recovery codes
//
// NewRecoveryCodes makes ten codes of 80 random bits each, written as 16
// characters of Crockford's base32 in four groups, such as
// "7m2k-q9xd-4hpt-0w1b": digits and lower-case letters without i, l, o
// and u, so no two characters are easily confused. NormalizeRecoveryCode
// reads what a person types back into that form, and HashRecoveryCode
// gives what the caller stores: the codes themselves are shown once and
// never kept.
package totp
