package main

import (
	"runtime"
	"testing"
)

func TestHashSlots(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	n := hashSlots()
	if before != 2*n && n != before {
		t.Fatalf("hashSlots() = %d with GOMAXPROCS %d before", n, before)
	}
	if got := runtime.GOMAXPROCS(0); got != 2*n {
		t.Errorf("GOMAXPROCS = %d after hashSlots() = %d, want %d", got, n, 2*n)
	}
	if again := hashSlots(); again != n || runtime.GOMAXPROCS(0) != 2*n {
		t.Errorf("second hashSlots() = %d with GOMAXPROCS %d, want %d and %d: it must act once", again, runtime.GOMAXPROCS(0), n, 2*n)
	}
	if newHasher() == nil {
		t.Error("newHasher() = nil")
	}
}
