package gatehouse

import "crypto/sha256"

// SHA256 returns sha256.Sum256([]byte(s)) without the copy of s that the
// conversion puts on the heap: s goes through a buffer on the stack, at
// once when it fits and piece by piece when it does not, so a string of
// any length is hashed without an allocation. It is what the credential
// caches are keyed by: the server's verified-token and session caches and
// guard's.
func SHA256(s string) [32]byte {
	var buf [512]byte
	if len(s) <= len(buf) {
		return sha256.Sum256(buf[:copy(buf[:], s)])
	}
	d := sha256.New()
	for len(s) > 0 {
		n := copy(buf[:], s)
		d.Write(buf[:n])
		s = s[n:]
	}
	var sum [32]byte
	d.Sum(sum[:0])
	return sum
}
