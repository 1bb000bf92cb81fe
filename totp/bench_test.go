package totp_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/totp"
)

// BenchmarkCheck checks a right code as a sign-in does: the three codes of
// the window computed and compared in constant time. The budget is 50 µs;
// BenchmarkHMACSHA1 is the floor (one of the three HMACs).
func BenchmarkCheck(b *testing.B) {
	key, err := totp.Generate("Gatehouse", "ada@example.com")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	code, err := pqtotp.GenerateCode(key.Secret, now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := totp.Check(key.Secret, code, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHMACSHA1 is one raw HMAC-SHA-1 of an 8-byte counter under a
// 20-byte key: the work of one TOTP code.
func BenchmarkHMACSHA1(b *testing.B) {
	key := make([]byte, 20)
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], 59_000_000)
	b.ReportAllocs()
	for b.Loop() {
		m := hmac.New(sha1.New, key)
		m.Write(counter[:])
		m.Sum(nil)
	}
}
