package server

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

var fuzzTree = units.Tree{Units: []units.Unit{{ID: "szs", NameZH: "石嘴山市", NameEN: "Shizuishan", Kind: "city"},
	{ID: "dwk", Parent: "szs", NameZH: "大武口区", NameEN: "Dawukou", Kind: "district"}}}

// FuzzDecodeAndValidate feeds arbitrary bodies through the decoding and validation every
// handler uses: it must never panic, and every failure must be one a client can be told.
func FuzzDecodeAndValidate(f *testing.F) {
	for _, seed := range []string{
		`{"name":"admin","password":"x"}`, `{"name":5}`, `{`, `[]`, `null`, `{"a":1}`, `{} {}`, ``,
		`{"name":"wang.dwk","display_name":"王","password":"Dawukou-Library-1","role":"librarian","unit":"dwk"}`,
		`{"id":"dwk-x","parent":"dwk","name_zh":"站","name_en":"St","kind":"station"}`,
		`{"label":"t","expires_in_days":30}`, `{"role":"admin","disabled":true}`, "{\"name\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(err error) {
			if err == nil {
				return
			}
			var de *decodeError
			var ve validate.Errors
			if !errors.As(err, &de) && !errors.As(err, &ve) && !errors.Is(err, accounts.ErrForbidden) {
				t.Fatalf("unexpected error kind %T: %v", err, err)
			}
		}
		var login loginRequest
		if err := decodeJSON("application/json", bytes.NewReader(body), &login); err == nil {
			check(login.validate())
		} else {
			check(err)
		}
		var na accounts.NewAccount
		if err := decodeJSON("application/json", bytes.NewReader(body), &na); err == nil {
			na.Normalize()
			check(na.Validate(&fuzzTree))
		} else {
			check(err)
		}
		var ch accounts.Change
		if err := decodeJSON("application/json", bytes.NewReader(body), &ch); err == nil {
			_, err := ch.Apply(accounts.Account{Name: "x", Role: accounts.Citizen}, &fuzzTree)
			check(err)
		} else {
			check(err)
		}
		var u units.Unit
		if err := decodeJSON("application/json", bytes.NewReader(body), &u); err == nil {
			check(fuzzTree.Validate(u))
		} else {
			check(err)
		}
		// The limit reader path: a body over the limit is reported as too large.
		rec := httptest.NewRecorder()
		limited := httptestLimit(rec, body, 64)
		var any map[string]any
		if err := decodeJSON("application/json", limited, &any); err != nil {
			check(err)
			var de *decodeError
			if len(body) > 64 && errors.As(err, &de) && de.kind != "too_large" && !strings.Contains(de.kind, "syntax") &&
				de.kind != "trailing" && de.kind != "wrong_type" && de.kind != "empty" {
				t.Fatalf("body over limit reported as %s", de.kind)
			}
		}
	})
}
