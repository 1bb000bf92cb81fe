package main

import (
	"runtime"

	"github.com/gatehouse/gatehouse/password"
)

// hashSlots is how many passwords the server hashes at once; 0 means
// GOMAXPROCS. main sets it with doubleProcs; tests, which call run in a
// process of their own making, leave it alone.
var hashSlots int

// doubleProcs gives the Go runtime a P for each concurrent hash on top of
// one per CPU, so that while every slot hashes the scheduler still has a
// P per CPU for the quick requests (see "Hashing beside quick requests"
// in package password), and returns the number of slots: GOMAXPROCS from
// before (the CPUs this process may use, or the GOMAXPROCS variable).
// GOMAXPROCS belongs to the process, so only main calls it, once; after
// it, GOMAXPROCS no longer follows changes of the process's CPU quota.
func doubleProcs() int {
	cpus := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(2 * cpus)
	return cpus
}

// newHasher returns the server's password hasher: DefaultParams and
// hashSlots hashes at once.
func newHasher() *password.Hasher {
	return password.NewHasher(password.DefaultParams, hashSlots, 0)
}
