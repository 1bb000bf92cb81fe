package totp_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/totp"
)

func ExampleCheck() {
	// The secret of RFC 6238's test vectors, and a time from them.
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	now := time.Unix(1111111109, 0)

	var lastStep int64 // stored per user; 0 before the first code
	step, err := totp.Check(secret, "081804", now, lastStep)
	fmt.Println(step, err)
	lastStep = step

	// The same code again, ten seconds later, is refused.
	_, err = totp.Check(secret, "081804", now.Add(10*time.Second), lastStep)
	fmt.Println(errors.Is(err, totp.ErrInvalidCode))
	// Output:
	// 37037036 <nil>
	// true
}

func ExampleNormalizeRecoveryCode() {
	code, err := totp.NormalizeRecoveryCode(" 7M2K Q9XD 4HPT OW1B ")
	fmt.Println(code, err)
	hash := totp.HashRecoveryCode(code) // what the caller stores
	fmt.Printf("%x\n", hash[:8])
	// Output:
	// 7m2k-q9xd-4hpt-0w1b <nil>
	// f40b445e015881ad
}
