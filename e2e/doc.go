// Package e2e holds black-box tests of the built gatehouse binary against
// the public contract (shared/API.md): it builds the binary once, starts it
// on free loopback ports with temporary databases, and talks to it over
// HTTP and through its command line.
package e2e
