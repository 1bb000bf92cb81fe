package token

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// claimsStruct is accessClaims as encoding/json's struct decode reads it,
// "aud" a string or an array of strings.
type claimsStruct struct {
	Issuer    string        `json:"iss"`
	Subject   string        `json:"sub"`
	Audience  audienceField `json:"aud"`
	ExpiresAt numericDate   `json:"exp"`
	NotBefore numericDate   `json:"nbf"`
	IssuedAt  numericDate   `json:"iat"`
	ID        string        `json:"jti"`
	SessionID string        `json:"sid"`
	Email     string        `json:"email"`
	Roles     []string      `json:"roles"`
	Scope     string        `json:"scope"`
}

type audienceField audience

func (a *audienceField) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil && string(b) != "null" {
		*a = audienceField{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// TestUnmarshalReadsSign: the claims Sign writes, with optional claims
// there or not, read back as they were.
func TestUnmarshalReadsSign(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := accessClaims{
		Issuer: "https://auth.example.test", Subject: "user_123", Audience: audience{"gatehouse"},
		ExpiresAt: newNumericDate(now.Add(10 * time.Minute)), NotBefore: newNumericDate(now), IssuedAt: newNumericDate(now),
		ID: "jti_abc", SessionID: "sid_xyz", Email: "zoë@example.test",
		Roles: []string{"admin", "customer"}, Scope: "cart:read orders:read",
	}
	bare := full
	bare.Email, bare.Roles, bare.Scope, bare.NotBefore = "", nil, "", 0
	for name, want := range map[string]accessClaims{"full": full, "bare": bare} {
		b, err := json.Marshal(&want)
		if err != nil {
			t.Fatal(err)
		}
		var got accessClaims
		if err := json.Unmarshal(b, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s read as %#v, %v", name, b, got, err)
		}
	}
}

// TestUnmarshalIsStructDecode: with member names spelled exactly, the
// claims read as encoding/json's struct decode reads them, and are refused
// when it refuses them.
func TestUnmarshalIsStructDecode(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`{"iss":"i","sub":"s","aud":"a","exp":1893554045,"nbf":1893553445,"iat":1893553445,"jti":"j","sid":"l","email":"zoë@x","roles":["a","b"],"scope":"x y"}`,
		`{"aud":["a","b"],"exp":1.5,"roles":[],"other":{"sub":"nested"}}`,
		`{"sub":"first","sub":"last"}`,
		`{"sub":null,"roles":null,"aud":null,"exp":null}`,
		`{"s\u0075b":"escaped name","email":"\u00e9\n"}`,
		`{"roles":"admin"}`,
		`{"exp":"soon"}`,
		`{"aud":1}`,
		`{"sub":["s"]}`,
		`[]`,
		`{`,
	} {
		var got accessClaims
		var want claimsStruct
		err := json.Unmarshal([]byte(in), &got)
		errStruct := json.Unmarshal([]byte(in), &want)
		switch {
		case (err == nil) != (errStruct == nil):
			t.Errorf("%s: error %v, struct decode error %v", in, err, errStruct)
		case err == nil && !reflect.DeepEqual(got, accessClaims{
			Issuer: want.Issuer, Subject: want.Subject, Audience: audience(want.Audience),
			ExpiresAt: want.ExpiresAt, NotBefore: want.NotBefore, IssuedAt: want.IssuedAt,
			ID: want.ID, SessionID: want.SessionID, Email: want.Email, Roles: want.Roles, Scope: want.Scope,
		}):
			t.Errorf("%s: read as %#v, struct decode %#v", in, got, want)
		}
	}
}
