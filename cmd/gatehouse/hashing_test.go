package main

import (
	"runtime"
	"testing"
)

func TestDoubleProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)
	if n := doubleProcs(); n != before || runtime.GOMAXPROCS(0) != 2*before {
		t.Fatalf("doubleProcs() = %d, GOMAXPROCS %d; want %d and %d", n, runtime.GOMAXPROCS(0), before, 2*before)
	}
}
