// Package storetest is the conformance suite every gatehouse.Store must
// pass. A store's own tests call Run with a function that opens a new,
// empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) gatehouse.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks what store.go promises and what the service relies on
// without saying it twice: errors carry the contract's codes, each write is
// all or nothing, revocation never reaches another user's logins, and
// times come back as the same instant, in UTC, to the nanosecond.
//
// RunDB runs the tests that need more than a new store: several stores on
// one database, a closed store, or a look under the store. Bench measures
// a store's hot reads and writes. A store's own tests, of what only its
// engine does, share the fixtures (User, Session, Fill, …).
package storetest
