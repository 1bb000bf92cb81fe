package gatehouse_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestRolesStale(t *testing.T) {
	change := time.Date(2030, time.January, 2, 3, 4, 5, 600_000_000, time.UTC)
	for _, tc := range []struct {
		issued time.Time
		stale  bool
	}{
		{change.Add(-time.Hour), true},
		{change.Truncate(time.Second).Add(-time.Second), true},
		{change.Truncate(time.Second).Add(-time.Nanosecond), true},
		// iat has whole seconds: a token of the change's second passes,
		// whether it was refreshed just after the change or signed just
		// before it.
		{change.Truncate(time.Second), false},
		{change.Add(-100 * time.Millisecond), false},
		{change, false},
		{change.Add(time.Second), false},
	} {
		if got := gatehouse.RolesStale(tc.issued, change); got != tc.stale {
			t.Errorf("RolesStale(%v, %v) = %v, want %v", tc.issued, change, got, tc.stale)
		}
	}
	if gatehouse.RolesStale(change, time.Time{}) {
		t.Error("a token is stale for a user whose roles never changed")
	}
}
