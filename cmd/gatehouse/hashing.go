package main

import (
	"runtime"
	"sync"

	"github.com/gatehouse/gatehouse/password"
)

// newHasher returns the server's password hasher: DefaultParams, and as
// many hashes at once as the Go runtime had Ps (GOMAXPROCS: the CPUs this
// process may use, or the GOMAXPROCS variable). It also gives the runtime
// a P for each of those hashes on top, so that while every slot hashes the
// scheduler still has a P per CPU for the checks (see "Hashing beside
// quick requests" in package password).
func newHasher() *password.Hasher {
	return password.NewHasher(password.DefaultParams, hashSlots(), 0)
}

// hashSlots doubles GOMAXPROCS, once per process, and returns its value
// from before. It acts once because GOMAXPROCS belongs to the process, and
// tests may run serve several times in one. Once set, GOMAXPROCS no longer
// follows changes of the process's CPU limit (its cgroup's quota) while it
// runs.
var hashSlots = sync.OnceValue(func() int {
	cpus := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(2 * cpus)
	return cpus
})
