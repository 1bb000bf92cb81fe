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
// # Hashing beside quick requests
//
// A sign-in must not starve the quick requests a server answers meanwhile,
// such as the per-request session check. argon2id with DefaultParams takes
// about 40 ms of CPU, and while it runs it keeps one of the Go scheduler's
// Ps (GOMAXPROCS) busy: argon2 (golang.org/x/crypto/argon2) hands each of
// its eight segments, about 5 ms each, to a new goroutine that inherits
// the running one's turn, and Go preempts a goroutine only after about
// 10 ms. When every P is hashing, a quick request waits behind the hashes
// for a P, tens of milliseconds at a time.
//
// The remedy is for the program to give the runtime more Ps than it has
// CPUs, one more for each hash the Hasher may run: then the scheduler
// always has a P per CPU for other goroutines, even when every slot is
// hashing, and the kernel shares the CPUs between the hashing threads and
// the others, which wake up and get a CPU within a time slice rather than
// waiting for a hash to be preempted. gatehouse serve doubles GOMAXPROCS
// and lets as many hashes run as there were Ps before. A library cannot do
// this for its caller, since GOMAXPROCS belongs to the whole program. It
// costs hashing some throughput (about a tenth on a two-CPU machine: with
// more runnable threads than CPUs, the hashing threads also share CPUs
// with one another, and each shares its cache with another hash's 19 MiB);
// a bound below the CPU count would instead leave a P free by capping
// sign-ins at a fraction of the machine for good.
//
// Running each hash on an OS thread of its own at a low priority (nice 19)
// would not help: argon2's segments run on other goroutines, hence on
// other threads, at the usual priority, and a thread locked to a goroutine
// makes every preemption a hand-over between threads.
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
