// Package password hashes and checks passwords: argon2id in PHC strings, the sign-up policy, and a bound on concurrent hashing.
//
// # Hashing
//
// Passwords are hashed with argon2id (RFC 9106), the memory-hard function
// that won the Password Hashing Competition: it makes every guess cost
// memory as well as time, which blunts GPU and ASIC cracking, and its hybrid
// mode resists both side-channel and time-memory trade-off attacks.
// DefaultParams follow OWASP's Password Storage Cheat Sheet for argon2id:
// 19 MiB of memory (m=19456 KiB), two passes (t=2), one lane (p=1), with a
// 16-byte random salt and a 32-byte key. Hashes are stored as PHC strings,
// such as
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64, so each hash records the
// parameters it was made with. Verify reports when those differ from the
// Hasher's own, so a hash can be upgraded at the next successful sign-in.
//
// # The cap
//
// Each hash takes tens of milliseconds of CPU and its full memory cost, so a
// burst of sign-ins could exhaust the server. A Hasher lets at most a fixed
// number of hashes run at once; a caller that cannot get a slot within the
// Hasher's wait gets ErrBusy, which a server can answer with 503. Passwords
// longer than MaxLength bytes are refused before any hashing, so a huge
// password cannot burn CPU either.
//
// # The policy
//
// Check follows NIST SP 800-63B: at least MinLength characters, a generous
// maximum, no composition rules, and a refusal of commonly used passwords,
// compared case-insensitively. The list of common passwords is the
// "passwords" frequency list of zxcvbn 4.4.2 (npm package zxcvbn, from
// https://github.com/dropbox/zxcvbn), by Dan Wheeler and Dropbox, Inc., under
// the MIT licence; common.txt keeps its entries of at least MinLength
// characters, lowercased. common.txt.LICENSE gives the details and the
// licence text.
package password
