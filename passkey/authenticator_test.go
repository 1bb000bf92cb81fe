package passkey_test

// The software authenticator of package passkeytest, under the names
// these tests use.

import "github.com/gatehouse/gatehouse/passkey/passkeytest"

type (
	authenticator = passkeytest.Authenticator
	ceremony      = passkeytest.Ceremony
)

const (
	flagUP = passkeytest.FlagUP
	flagUV = passkeytest.FlagUV
	flagBE = passkeytest.FlagBE
	flagBS = passkeytest.FlagBS
	flagAT = passkeytest.FlagAT
)

var (
	b64                = passkeytest.B64
	newAuthenticator   = passkeytest.New
	fixedAuthenticator = passkeytest.Fixed
	readOptions        = passkeytest.ReadOptions
	mustJSON           = passkeytest.MustJSON
)
