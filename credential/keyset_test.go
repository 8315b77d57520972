package credential

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"healthcode"
)

func TestKeySetJSON(t *testing.T) {
	national, _ := NewMemoryKeyRing(IssuerNational)
	city, _ := NewMemoryKeyRing("6101")
	from := t0.Add(-time.Hour)
	tc := city.Trusted("", t0)
	tc.Issuer.ValidFrom = &from
	f := newFixture(t, national.Trusted("国家政务服务平台", t0), tc)

	data, err := json.Marshal(f.ks)
	if err != nil {
		t.Fatal(err)
	}
	// Standard JWK members, no private material.
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 3 {
		t.Fatalf("keys = %v", raw.Keys)
	}
	for _, k := range raw.Keys {
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["d"] != nil {
			t.Fatalf("key %v", k)
		}
	}
	got, err := ParseKeySet(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f.ks) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, f.ks)
	}
	if got.ETag() != f.ks.ETag() {
		t.Fatal("etag changed in a round trip")
	}
	// Rebuilding later gives the same tag; a rotation changes it.
	later := BuildKeySet(f.ring, []TrustedIssuerKeys{national.Trusted("国家政务服务平台", t0), tc}, t0.Add(time.Hour))
	if later.ETag() != f.ks.ETag() {
		t.Fatal("etag depends on GeneratedAt")
	}
	if _, err := f.ring.Rotate(t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	rotated := BuildKeySet(f.ring, nil, t0)
	if rotated.ETag() == f.ks.ETag() {
		t.Fatal("etag did not change")
	}
	// The name of a well-known issuer is filled in.
	if xa, ok := got.IssuerKeys("6101"); !ok || xa.Issuer.Name != "西安市" || len(xa.Keys) != 1 || !xa.Issuer.ValidFrom.Equal(from) {
		t.Fatalf("IssuerKeys(6101) = %+v %v", xa, ok)
	}
	if !got.Fresh(t0.Add(time.Hour), 24*time.Hour) || got.Fresh(t0.Add(48*time.Hour), 24*time.Hour) {
		t.Fatal("Fresh")
	}
}

func TestParseKeySetStrict(t *testing.T) {
	f := newFixture(t)
	good, _ := json.Marshal(f.ks)
	x := f.ring.Active().X
	kid := f.ring.Active().Kid
	for name, doc := range map[string]string{
		"unknown field":     strings.Replace(string(good), `"generatedAt"`, `"extra":1,"generatedAt"`, 1),
		"trailing data":     string(good) + `{}`,
		"not json":          `keys`,
		"bad x":             strings.Replace(string(good), x, "AAAA", 1),
		"rsa key":           strings.Replace(string(good), `"kty":"OKP"`, `"kty":"RSA"`, 1),
		"other alg":         strings.Replace(string(good), `"alg":"EdDSA"`, `"alg":"ES256"`, 1),
		"unlisted issuer":   strings.Replace(string(good), `"iss":"61"`, `"iss":"62"`, 1),
		"no generatedAt":    `{"issuers":[],"keys":[]}`,
		"duplicate issuer":  strings.Replace(string(good), `"issuers":[`, `"issuers":[{"id":"61","name":"x"},`, 1),
		"duplicate key":     strings.Replace(string(good), `"keys":[`, `"keys":[{"kty":"OKP","crv":"Ed25519","x":"`+x+`","kid":"`+kid+`","iss":"61","alg":"EdDSA"},`, 1),
		"bad issuer id":     strings.Replace(string(good), `"id":"61"`, `"id":"陕西"`, 1),
		"empty window":      strings.Replace(string(good), `"name":"陕西省"`, `"name":"陕西省","validFrom":"2020-04-01T00:00:00Z","validUntil":"2020-04-01T00:00:00Z"`, 1),
		"private key field": strings.Replace(string(good), `"kty":"OKP"`, `"d":"AAAA","kty":"OKP"`, 1),
	} {
		if _, err := ParseKeySet([]byte(doc)); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%s: err = %v, want INVALID", name, err)
		}
	}
}

func TestBuildKeySetFilters(t *testing.T) {
	own, _ := NewMemoryKeyRing("61")
	other, _ := NewMemoryKeyRing("62")
	retired := t0.Add(-time.Minute)
	past := t0.Add(-time.Second)
	expiredKey := other.Active()
	expiredKey.NotAfter = &past
	badKey := other.Active()
	badKey.Kid, badKey.X = "bad", "AAAA"
	mislabelled := other.Active()
	mislabelled.Kid, mislabelled.Iss = "mis", "63"
	noIss := other.Active()
	noIss.Kid, noIss.Iss = "noiss", ""

	ks := BuildKeySet(own, []TrustedIssuerKeys{
		{Issuer: TrustedIssuer{ID: "61", Name: "impostor"}, Keys: other.PublicKeys(t0)}, // our own id: ignored
		{Issuer: TrustedIssuer{ID: "62"}, Keys: []JWK{expiredKey, badKey, mislabelled, noIss}},
		{Issuer: TrustedIssuer{ID: "63", ValidUntil: &retired}, Keys: nil},
	}, t0)
	if len(ks.Issuers) != 2 || ks.Issuers[0].ID != "61" || ks.Issuers[0].Name != "陕西省" || ks.Issuers[1].Name != "甘肃省" {
		t.Fatalf("issuers = %+v", ks.Issuers)
	}
	if got := kids(ks.Keys); len(got) != 2 || got[0] != own.Active().Kid || got[1] != "noiss" || ks.Keys[1].Iss != "62" {
		t.Fatalf("keys = %+v", ks.Keys)
	}
	// What BuildKeySet produces always parses.
	data, _ := json.Marshal(ks)
	if _, err := ParseKeySet(data); err != nil {
		t.Fatal(err)
	}
}

func TestRevocationListJSON(t *testing.T) {
	rl := RevocationList{GeneratedAt: t0, Entries: []Revoked{
		{Issuer: "61", TokenID: "jti-1", RevokedAt: t0, Reason: RevokeSuperseded},
		{Issuer: "61", CodeID: "hc_7", RevokedAt: t0.Add(time.Minute), Reason: RevokeColourChanged},
	}}
	data, _ := json.Marshal(rl)
	got, err := ParseRevocationList(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, rl) {
		t.Fatalf("round trip %+v", got)
	}
	set := NewRevocationSet(got)
	if set.Len() != 2 {
		t.Fatal(set.Len())
	}
	if e, ok := set.Lookup(&Claims{Issuer: "61", TokenID: "jti-1", CodeID: "hc_1", IssuedAt: t0}); !ok || e.Reason != RevokeSuperseded {
		t.Fatal("token entry not found")
	}
	if _, ok := set.Lookup(&Claims{Issuer: "61", TokenID: "x", CodeID: "hc_7", IssuedAt: t0.Add(time.Minute)}); ok {
		t.Fatal("token issued at RevokedAt is revoked")
	}
	if _, ok := (*RevocationSet)(nil).Lookup(&Claims{}); ok {
		t.Fatal("nil set revokes")
	}
	for name, doc := range map[string]string{
		"both ids":      `{"generatedAt":"2020-03-31T10:00:00Z","entries":[{"iss":"61","jti":"a","cid":"b","revokedAt":"2020-03-31T10:00:00Z","reason":"x"}]}`,
		"no id":         `{"generatedAt":"2020-03-31T10:00:00Z","entries":[{"iss":"61","revokedAt":"2020-03-31T10:00:00Z","reason":"x"}]}`,
		"no issuer":     `{"generatedAt":"2020-03-31T10:00:00Z","entries":[{"jti":"a","revokedAt":"2020-03-31T10:00:00Z","reason":"x"}]}`,
		"no time":       `{"generatedAt":"2020-03-31T10:00:00Z","entries":[{"iss":"61","jti":"a","reason":"x"}]}`,
		"unknown field": `{"generatedAt":"2020-03-31T10:00:00Z","entries":[],"idn":"1"}`,
	} {
		if _, err := ParseRevocationList([]byte(doc)); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestValidityHelpers(t *testing.T) {
	from, until := t0, t0.Add(time.Hour)
	ti := TrustedIssuer{ID: "6101", ValidFrom: &from, ValidUntil: &until}
	if ti.ValidAt(t0.Add(-time.Second)) || !ti.ValidAt(t0) || !ti.ValidAt(until.Add(-time.Second)) || ti.ValidAt(until) {
		t.Fatal("ValidAt window is not [from, until)")
	}
	if !(&TrustedIssuer{ID: "61"}).ValidAt(t0) {
		t.Fatal("open window")
	}
	rl := &RevocationList{GeneratedAt: t0}
	if !rl.Fresh(t0.Add(time.Hour), MaxRevocationAge) || rl.Fresh(t0.Add(MaxRevocationAge), MaxRevocationAge) {
		t.Fatal("Fresh")
	}
	empty := rl.ETag()
	rl.Entries = append(rl.Entries, Revoked{Issuer: "61", TokenID: "j", RevokedAt: t0, Reason: RevokeCancelled})
	if rl.ETag() == empty || !strings.HasPrefix(empty, `"`) {
		t.Fatalf("etag %s", empty)
	}
}
