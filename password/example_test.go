package password_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/password"
)

func ExampleCheck() {
	for _, pw := range []string{"short", "password123", "correct horse battery staple"} {
		switch err := password.Check(pw); {
		case errors.Is(err, password.ErrTooShort):
			fmt.Printf("%q: too short\n", pw)
		case errors.Is(err, password.ErrCommon):
			fmt.Printf("%q: too common\n", pw)
		case err == nil:
			fmt.Printf("%q: accepted\n", pw)
		}
	}
	// Output:
	// "short": too short
	// "password123": too common
	// "correct horse battery staple": accepted
}

func ExampleHasher() {
	// Small parameters keep the example fast; servers use DefaultParams.
	h := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1, 0)
	ctx := context.Background()
	phc, _ := h.Hash(ctx, "correct horse battery staple")
	ok, _, _ := h.Verify(ctx, "correct horse battery staple", phc)
	wrong, _, _ := h.Verify(ctx, "Correct horse battery staple", phc)
	fmt.Println(phc[:27], ok, wrong)
	// Output: $argon2id$v=19$m=64,t=1,p=1 true false
}
