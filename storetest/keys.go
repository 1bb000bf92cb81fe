package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func checkKey(t *testing.T, call string, got, want gatehouse.SigningKey) {
	t.Helper()
	if got.ID != want.ID || got.Alg != want.Alg || !bytes.Equal(got.Sealed, want.Sealed) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" CreatedAt", got.CreatedAt)
}

func checkKeys(t *testing.T, s gatehouse.Store, call string, want ...gatehouse.SigningKey) {
	t.Helper()
	got, err := s.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys = %v, want nil", err)
	}
	ids := func(keys []gatehouse.SigningKey) []string {
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		return ids
	}
	checkIDs(t, call+" ids", ids(got), ids(want))
	if len(got) == len(want) {
		for i := range got {
			checkKey(t, fmt.Sprintf("%s[%d]", call, i), got[i], want[i])
		}
	}
}

func testKeys(t *testing.T, s gatehouse.Store) {
	checkKeys(t, s, "ListKeys of an empty store")

	every := make([]byte, 256) // every byte value, NUL and 0xff included
	for i := range every {
		every[i] = byte(i)
	}
	var (
		oldest = gatehouse.SigningKey{ID: "key-1", Alg: "EdDSA", Sealed: every, CreatedAt: T0.Add(-48 * time.Hour)}
		newest = gatehouse.SigningKey{ID: "key-2", Alg: "ES256", Sealed: []byte{0, 0, 1, 0}, CreatedAt: T0}
		middle = gatehouse.SigningKey{ID: "key-3", Alg: "EdDSA", Sealed: []byte{0xff}, CreatedAt: T0.Add(-24 * time.Hour)}
	)
	before := auditTypes(t, s, "")
	for _, k := range []gatehouse.SigningKey{newest, oldest, middle} {
		ev := Event(gatehouse.EventKeysRotated, "")
		ev.Detail = k.ID
		if err := s.CreateKey(t.Context(), k, ev); err != nil {
			t.Fatalf("CreateKey(%q) = %v, want nil", k.ID, err)
		}
		checkNewestEvent(t, s, ev)
	}
	checkKeys(t, s, "ListKeys", newest, middle, oldest)
	if after := auditTypes(t, s, ""); len(after) != len(before)+3 {
		t.Errorf("three CreateKey recorded %d events, want 3", len(after)-len(before))
	}

	t.Run("same time", func(t *testing.T) {
		// The key added last is the newest even when the clock did not
		// move (as in tests), whatever the ids: the service signs with
		// the first.
		a := gatehouse.SigningKey{ID: "key-z", Alg: "EdDSA", Sealed: []byte("a"), CreatedAt: T0.Add(time.Hour)}
		b := gatehouse.SigningKey{ID: "key-a", Alg: "EdDSA", Sealed: []byte("b"), CreatedAt: a.CreatedAt}
		for _, k := range []gatehouse.SigningKey{a, b} {
			if err := s.CreateKey(t.Context(), k, Event(gatehouse.EventKeysRotated, "")); err != nil {
				t.Fatalf("CreateKey(%q) = %v, want nil", k.ID, err)
			}
		}
		checkKeys(t, s, "ListKeys", b, a, newest, middle, oldest)
		for _, k := range []gatehouse.SigningKey{a, b} {
			if err := s.DeleteKey(t.Context(), k.ID); err != nil {
				t.Fatalf("DeleteKey(%q) = %v, want nil", k.ID, err)
			}
		}
	})

	t.Run("id in use", func(t *testing.T) {
		before := auditTypes(t, s, "")
		dup := gatehouse.SigningKey{ID: middle.ID, Alg: "ES256", Sealed: []byte("other"), CreatedAt: T0.Add(time.Hour)}
		if err := s.CreateKey(t.Context(), dup, Event(gatehouse.EventKeysRotated, "")); err == nil {
			t.Error("CreateKey with an id in use = nil, want an error")
		}
		checkKeys(t, s, "ListKeys", newest, middle, oldest)
		checkIDs(t, "audit types after a refused key", auditTypes(t, s, ""), before)
	})

	t.Run("delete", func(t *testing.T) {
		if err := s.DeleteKey(t.Context(), middle.ID); err != nil {
			t.Fatalf("DeleteKey = %v, want nil", err)
		}
		checkKeys(t, s, "ListKeys after DeleteKey", newest, oldest)
		// Several servers may prune the same key.
		for _, id := range []string{middle.ID, "key-nobody"} {
			if err := s.DeleteKey(t.Context(), id); err != nil {
				t.Errorf("DeleteKey(%q) of a missing key = %v, want nil", id, err)
			}
		}
		checkKeys(t, s, "ListKeys after deleting missing keys", newest, oldest)
	})
}
