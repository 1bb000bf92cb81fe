// Package gatehouse is the domain of the Gatehouse sign-in server: users,
// logins (one record for a cookie session and a token login alike), roles
// and permissions, audit events, the small store interfaces the domain
// needs, and Service, which holds every rule.
//
// The package imports the standard library and the leaf packages password
// and token only; stores (sqlite, postgres) and transports (httpapi, guard)
// import it, never the other way round.
package gatehouse
