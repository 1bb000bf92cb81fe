package passkey_test

import (
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/passkey"
)

func ExampleNew() {
	for _, cfg := range []passkey.Config{
		{RPID: "example.com", Origins: []string{"https://auth.example.com"}},
		{RPID: "127.0.0.1", Origins: []string{"http://127.0.0.1:8080"}},
		{RPID: "example.com", Origins: []string{"https://example.org"}},
	} {
		_, err := passkey.New(cfg)
		switch {
		case err == nil:
			fmt.Println(cfg.RPID, "passkeys enabled")
		case errors.Is(err, passkey.ErrNeedsDomain):
			fmt.Println(cfg.RPID, "passkeys disabled: needs a domain name")
		case errors.Is(err, passkey.ErrBadConfig):
			fmt.Println(cfg.RPID, "refused:", err)
		}
	}
	// Output:
	// example.com passkeys enabled
	// 127.0.0.1 passkeys disabled: needs a domain name
	// example.com refused: passkey: bad configuration: origin "https://example.org" is not on the relying party id "example.com" or a name under it
}

func ExampleRelyingParty_BeginLogin() {
	rp, err := passkey.New(passkey.Config{RPID: "example.com", Origins: []string{"https://example.com"}})
	if err != nil {
		panic(err)
	}
	// A passwordless login: any passkey of the site, user verification
	// required. Send options to the browser; keep state for FinishLogin.
	options, state, err := rp.BeginLogin(nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(options) > 0, len(state) > 0)
	// Output: true true
}
