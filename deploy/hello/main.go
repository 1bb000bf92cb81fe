// Command hello is the smallest app to put behind a proxy that asks
// Gatehouse about every request (see deploy/README.md): it answers every
// request with whom the proxy says is signed in, from the X-Gatehouse-*
// headers, and the URL asked for.
//
//	go run ./deploy/hello --addr 127.0.0.1:3000
//
// It believes those headers because only the proxy reaches it: like any
// app behind forward authentication, it must listen where nothing but the
// proxy can connect (here, loopback).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"slices"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "where to listen; only the proxy may reach it")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: http.HandlerFunc(hello), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("hello: listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}

// hello greets the signed-in user and lists what the proxy passed on.
func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "Hello, %s!\n\nYou asked for %s\n\nThe proxy said:\n", r.Header.Get("X-Gatehouse-Email"), r.URL.RequestURI())
	var names []string
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Gatehouse-") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %s: %s\n", name, r.Header.Get(name))
	}
}
