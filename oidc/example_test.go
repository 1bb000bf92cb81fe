package oidc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/sqlite"
)

// ExampleNew mounts the provider beside the JSON API, as serve does, and
// reads its discovery document.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	const issuer = "https://auth.example.com"
	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Tokens: &gatehouse.TokenConfig{Issuer: issuer, Secret: []byte("an example secret of 32 bytes...")},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil { // loads the signing keys
		log.Fatal(err)
	}
	var api httpapi.Config
	provider, err := oidc.New(svc, oidc.Config{Issuer: issuer, API: api}, nil)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(oidc.DiscoveryPath, provider)
	mux.Handle("/oauth2/", provider)
	mux.Handle("/", httpapi.NewServer(svc, nil, api)) // and the JWKS

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", issuer+oidc.DiscoveryPath, nil))
	var d struct {
		Issuer        string `json:"issuer"`
		Authorization string `json:"authorization_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	json.Unmarshal(w.Body.Bytes(), &d)
	fmt.Println(d.Issuer)
	fmt.Println(d.Authorization)
	fmt.Println(d.JWKS)
	// Output:
	// https://auth.example.com
	// https://auth.example.com/oauth2/authorize
	// https://auth.example.com/.well-known/jwks.json
}
