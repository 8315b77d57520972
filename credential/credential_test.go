package credential

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"healthcode"
)

// t0 is the day of the notice (陕肺炎办发〔2020〕103号).
var t0 = time.Date(2020, 3, 31, 10, 0, 0, 0, time.UTC)

type fixture struct {
	ring   *KeyRing
	signer *Signer
	ks     *KeySet
	v      *Verifier
}

// newFixture returns the provincial issuer "61" with a memory ring and a
// verifier over its key set plus the given trusted issuers, built at t0.
func newFixture(t testing.TB, trusted ...TrustedIssuerKeys) *fixture {
	t.Helper()
	ring, err := NewMemoryKeyRing(IssuerProvince)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(ring)
	if err != nil {
		t.Fatal(err)
	}
	ks := BuildKeySet(ring, trusted, t0)
	v, err := NewVerifier(&ks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ring: ring, signer: s, ks: &ks, v: v}
}

func claimsAt(iss string, now time.Time, life time.Duration) Claims {
	return Claims{
		Issuer: iss, CodeID: "hc_42", Colour: ColourGreen, MaskedName: "张*三", Kind: KindElectronic,
		IssuedAt: now, ExpiresAt: now.Add(life),
	}
}

func mustSign(t testing.TB, s *Signer, c Claims) string {
	t.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	ve := AsVerifyError(err)
	if ve == nil {
		t.Fatalf("error = %v, want VerifyError %s", err, reason)
	}
	if ve.Reason != reason {
		t.Fatalf("reason = %s (%v), want %s", ve.Reason, err, reason)
	}
}

// craft builds a compact JWS over arbitrary header and payload bytes.
func craft(priv ed25519.PrivateKey, header, payload string) string {
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	return in + "." + b64.EncodeToString(ed25519.Sign(priv, []byte(in)))
}

func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	raw, err := b64.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClaimsCarryNoPersonalData(t *testing.T) {
	// The Claims type holds exactly these fields.
	var names []string
	for f := range reflect.TypeFor[Claims]().Fields() {
		names = append(names, f.Name)
	}
	wantNames := []string{"Issuer", "CodeID", "Colour", "MaskedName", "Kind", "IssuedAt", "ExpiresAt", "TokenID"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("Claims fields = %v, want exactly %v", names, wantNames)
	}
	// The payload holds exactly the eight short claims.
	f := newFixture(t)
	tok := mustSign(t, f.signer, claimsAt("61", t0, 5*time.Minute))
	payload := segment(t, tok, 1)
	var keys []string
	for k := range payload {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"cid", "col", "exp", "iat", "iss", "jti", "knd", "nm"}; !slices.Equal(keys, want) {
		t.Fatalf("payload claims = %v, want exactly %v", keys, want)
	}
	if payload["nm"] != "张*三" || payload["col"] != "GREEN" || payload["iat"] != float64(t0.Unix()) {
		t.Fatalf("payload = %v", payload)
	}
	header := segment(t, tok, 0)
	if len(header) != 3 || header["alg"] != "EdDSA" || header["typ"] != "hc+jwt" || header["kid"] != f.ring.Active().Kid {
		t.Fatalf("header = %v", header)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	f := newFixture(t)
	in := claimsAt("61", t0, 5*time.Minute)
	in.IssuedAt = in.IssuedAt.Add(700 * time.Millisecond) // the format keeps whole seconds
	in.TokenID = "jti-1"
	tok := mustSign(t, f.signer, in)
	got, err := f.v.Verify(tok, t0.Add(time.Minute), DefaultSkew)
	if err != nil {
		t.Fatal(err)
	}
	if got.Issuer != "61" || got.CodeID != "hc_42" || got.Colour != ColourGreen || got.MaskedName != "张*三" ||
		got.Kind != KindElectronic || got.TokenID != "jti-1" ||
		!got.IssuedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("claims = %+v", got)
	}
	// The package-level Verify agrees.
	if _, err := Verify(tok, f.ks, nil, t0, 0); err != nil {
		t.Fatal(err)
	}
	// An empty TokenID gets a random one.
	a := mustSign(t, f.signer, claimsAt("61", t0, time.Minute))
	b := mustSign(t, f.signer, claimsAt("61", t0, time.Minute))
	ca, _ := f.v.Verify(a, t0, 0)
	cb, _ := f.v.Verify(b, t0, 0)
	if ca.TokenID == "" || ca.TokenID == cb.TokenID {
		t.Fatalf("token ids %q %q", ca.TokenID, cb.TokenID)
	}
	// Interoperability: go-jose verifies our tokens with the published key.
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	active := f.ring.Active()
	pub, _ := active.PublicKey()
	if _, err := jws.Verify(pub); err != nil {
		t.Fatalf("go-jose verify: %v", err)
	}
	if jws.Signatures[0].Protected.KeyID != active.Kid {
		t.Fatalf("kid = %q", jws.Signatures[0].Protected.KeyID)
	}
}

func TestVerifyTimes(t *testing.T) {
	f := newFixture(t)
	tok := mustSign(t, f.signer, claimsAt("61", t0, 5*time.Minute))
	exp := t0.Add(5 * time.Minute)
	skew := time.Minute
	for _, tc := range []struct {
		name   string
		now    time.Time
		reason string // "" for valid
	}{
		{"issued", t0, ""},
		{"at exp", exp, ""},
		{"within skew after exp", exp.Add(skew), ""},
		{"expired", exp.Add(skew + time.Second), ReasonExpired},
		{"within skew before iat", t0.Add(-skew), ""},
		{"not yet valid", t0.Add(-skew - time.Second), ReasonNotYetValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.v.Verify(tok, tc.now, skew)
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantReason(t, err, tc.reason)
		})
	}
}

func TestVerifyErrorMessages(t *testing.T) {
	f := newFixture(t)
	tok := mustSign(t, f.signer, claimsAt("61", t0, 5*time.Minute))
	_, err := f.v.Verify(tok, t0.Add(time.Hour), 0)
	wantReason(t, err, ReasonExpired)
	if healthcode.ErrorCode(err) != healthcode.EINVALID || healthcode.ErrorMessage(err) != "健康码已过期，请刷新" {
		t.Fatalf("code=%s message=%s", healthcode.ErrorCode(err), healthcode.ErrorMessage(err))
	}
	for _, r := range Reasons {
		if m := ReasonMessage(r); m == "健康码验证失败" || m == "" {
			t.Fatalf("reason %s has no message", r)
		}
	}
}

func TestVerifyTamperedPayload(t *testing.T) {
	f := newFixture(t)
	in := claimsAt("61", t0, 5*time.Minute)
	in.Colour = ColourRed
	tok := mustSign(t, f.signer, in)
	parts := strings.Split(tok, ".")
	raw, _ := b64.DecodeString(parts[1])
	forged := strings.Replace(string(raw), `"RED"`, `"GREEN"`, 1)
	parts[1] = b64.EncodeToString([]byte(forged))
	_, err := f.v.Verify(strings.Join(parts, "."), t0, 0)
	wantReason(t, err, ReasonBadSignature)

	// A flipped signature bit too.
	sig, _ := b64.DecodeString(parts[2])
	sig[10] ^= 1
	bad := parts[0] + "." + strings.Split(tok, ".")[1] + "." + b64.EncodeToString(sig)
	_, err = f.v.Verify(bad, t0, 0)
	wantReason(t, err, ReasonBadSignature)
}

func TestVerifyUnknownKey(t *testing.T) {
	f := newFixture(t)
	// Same issuer id, a key that is not in the set.
	rogue, _ := NewMemoryKeyRing("61")
	rs, _ := NewSigner(rogue)
	tok := mustSign(t, rs, claimsAt("61", t0, 5*time.Minute))
	_, err := f.v.Verify(tok, t0, 0)
	wantReason(t, err, ReasonUnknownKey)
}

func TestVerifyIssuerMustMatchKey(t *testing.T) {
	// A trusted city sub-system must not issue tokens in the province's name:
	// its key is not in the set for issuer 61.
	city, _ := NewMemoryKeyRing("6101")
	f := newFixture(t, city.Trusted("西安市", t0))
	priv := city.activeKey().priv
	hdr := `{"alg":"EdDSA","kid":"` + city.Active().Kid + `","typ":"hc+jwt"}`
	payload := `{"iss":"61","cid":"hc_1","col":"GREEN","nm":"张*","knd":"ELECTRONIC","iat":` +
		itoa(t0.Unix()) + `,"exp":` + itoa(t0.Unix()+60) + `,"jti":"j"}`
	_, err := f.v.Verify(craft(priv, hdr, payload), t0, 0)
	wantReason(t, err, ReasonUnknownKey)
	// The same token in its own name verifies.
	payload = strings.Replace(payload, `"iss":"61"`, `"iss":"6101"`, 1)
	c, err := f.v.Verify(craft(priv, hdr, payload), t0, 0)
	if err != nil || c.Issuer != "6101" {
		t.Fatalf("claims %+v err %v", c, err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestVerifyUnknownIssuer(t *testing.T) {
	f := newFixture(t)
	other, _ := NewMemoryKeyRing("62") // Gansu, not trusted
	gs, _ := NewSigner(other)
	tok := mustSign(t, gs, claimsAt("62", t0, 5*time.Minute))
	_, err := f.v.Verify(tok, t0, 0)
	wantReason(t, err, ReasonUnknownIssuer)
}

func TestVerifyRetiredIssuer(t *testing.T) {
	city, _ := NewMemoryKeyRing("6104")
	cs, _ := NewSigner(city)
	until := t0.Add(time.Hour)
	tr := city.Trusted("咸阳市", t0)
	tr.Issuer.ValidUntil = &until
	f := newFixture(t, tr)

	early := mustSign(t, cs, claimsAt("6104", t0, 5*time.Minute))
	if _, err := f.v.Verify(early, t0, 0); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	// A scanner still holding that key set after ValidUntil rejects the issuer.
	late := mustSign(t, cs, claimsAt("6104", until, 5*time.Minute))
	_, err := f.v.Verify(late, until, 0)
	wantReason(t, err, ReasonUnknownIssuer)

	// A key set built after retirement no longer lists the issuer at all.
	ks := BuildKeySet(f.ring, []TrustedIssuerKeys{tr}, until)
	if _, ok := ks.IssuerKeys("6104"); ok {
		t.Fatal("retired issuer still in the key set")
	}
	_, err = Verify(late, &ks, nil, until, 0)
	wantReason(t, err, ReasonUnknownIssuer)

	// An issuer whose window has not begun.
	from := t0.Add(24 * time.Hour)
	tr2 := city.Trusted("咸阳市", t0)
	tr2.Issuer.ValidFrom = &from
	ks2 := BuildKeySet(f.ring, []TrustedIssuerKeys{tr2}, t0)
	_, err = Verify(early, &ks2, nil, t0, 0)
	wantReason(t, err, ReasonUnknownIssuer)
}

func TestVerifyRevoked(t *testing.T) {
	f := newFixture(t)
	paper := claimsAt("61", t0, PaperTokenLifetime)
	paper.Kind = KindPaper
	paper.TokenID = NewTokenID()
	tok := mustSign(t, f.signer, paper)
	other := mustSign(t, f.signer, paper2(paper))

	rl := &RevocationList{GeneratedAt: t0.Add(time.Hour), Entries: []Revoked{
		{Issuer: "61", TokenID: paper.TokenID, RevokedAt: t0.Add(time.Hour), Reason: RevokeSuperseded},
	}}
	now := t0.Add(2 * time.Hour)
	_, err := Verify(tok, f.ks, rl, now, 0)
	wantReason(t, err, ReasonRevoked)
	if _, err := Verify(other, f.ks, rl, now, 0); err != nil {
		t.Fatalf("another token of the same code: %v", err)
	}

	// A code id entry revokes the tokens issued before it, not the replacement.
	rl = &RevocationList{GeneratedAt: t0.Add(time.Hour), Entries: []Revoked{
		{Issuer: "61", CodeID: "hc_42", RevokedAt: t0.Add(time.Hour), Reason: RevokeColourChanged},
	}}
	_, err = Verify(tok, f.ks, rl, now, 0)
	wantReason(t, err, ReasonRevoked)
	repl := mustSign(t, f.signer, claimsAt("61", t0.Add(time.Hour), PaperTokenLifetime))
	if _, err := Verify(repl, f.ks, rl, now, 0); err != nil {
		t.Fatalf("replacement: %v", err)
	}
	// Entries are scoped to their issuer.
	rl.Entries[0].Issuer = "6101"
	if _, err := Verify(tok, f.ks, rl, now, 0); err != nil {
		t.Fatalf("entry of another issuer: %v", err)
	}
}

func paper2(c Claims) Claims {
	c.TokenID = NewTokenID()
	return c
}

func TestVerifyRejectsOtherAlgorithms(t *testing.T) {
	f := newFixture(t)
	kid := f.ring.Active().Kid
	payload := `{"iss":"61","cid":"hc_1","col":"GREEN","nm":"张*","knd":"ELECTRONIC","iat":` +
		itoa(t0.Unix()) + `,"exp":` + itoa(t0.Unix()+60) + `,"jti":"j"}`
	enc := func(s string) string { return b64.EncodeToString([]byte(s)) }

	// alg none with an empty signature.
	none := enc(`{"alg":"none","kid":"`+kid+`","typ":"hc+jwt"}`) + "." + enc(payload) + "."
	_, err := f.v.Verify(none, t0, 0)
	wantReason(t, err, ReasonMalformed)

	// HS256 keyed with the public key bytes (the classic confusion attack).
	active := f.ring.Active()
	pub, _ := active.PublicKey()
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(pub)},
		(&jose.SignerOptions{}).WithType(TokenType).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := hs.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	hsTok, _ := obj.CompactSerialize()
	_, err = f.v.Verify(hsTok, t0, 0)
	wantReason(t, err, ReasonMalformed)

	// A correctly signed token whose header has extra members (jwk, crit) or
	// lacks typ.
	priv := f.ring.activeKey().priv
	for _, hdr := range []string{
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"hc+jwt","jwk":{"kty":"OKP"}}`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"hc+jwt","crit":["exp"]}`,
		`{"alg":"EdDSA","kid":"` + kid + `"}`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"JWT"}`,
		`{"alg":"EdDSA","alg":"EdDSA","kid":"` + kid + `","typ":"hc+jwt"}`,
	} {
		_, err := f.v.Verify(craft(priv, hdr, payload), t0, 0)
		wantReason(t, err, ReasonMalformed)
	}
	// The accepted header, in another member order and with white space.
	ok := craft(priv, ` { "typ" : "HC+JWT", "kid":"`+kid+`" ,"alg":"EdDSA"} `, payload)
	if _, err := f.v.Verify(ok, t0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyPayloadStrictness(t *testing.T) {
	f := newFixture(t)
	kid := f.ring.Active().Kid
	priv := f.ring.activeKey().priv
	hdr := `{"alg":"EdDSA","kid":"` + kid + `","typ":"hc+jwt"}`
	iat, exp := itoa(t0.Unix()), itoa(t0.Unix()+60)
	base := `"iss":"61","cid":"hc_1","col":"GREEN","nm":"张*","knd":"PAPER","iat":` + iat + `,"exp":` + exp + `,"jti":"j"`
	for name, payload := range map[string]string{
		"id number":      `{` + base + `,"idn":"610113199001011234"}`,
		"missing jti":    `{"iss":"61","cid":"hc_1","col":"GREEN","nm":"张*","knd":"PAPER","iat":` + iat + `,"exp":` + exp + `}`,
		"duplicate col":  `{` + base + `,"col":"RED"}`,
		"bad colour":     strings.Replace(`{`+base+`}`, "GREEN", "BLUE", 1),
		"float iat":      strings.Replace(`{`+base+`}`, `"iat":`+iat, `"iat":`+iat+`.5`, 1),
		"string exp":     strings.Replace(`{`+base+`}`, `"exp":`+exp, `"exp":"`+exp+`"`, 1),
		"exp before iat": strings.Replace(`{`+base+`}`, `"exp":`+exp, `"exp":`+itoa(t0.Unix()-1), 1),
		"trailing":       `{` + base + `}x`,
		"not object":     `[` + base + `]`,
		"escaped key":    strings.Replace(`{`+base+`}`, `"nm"`, `"n\u006d"`, 1),
		"empty cid":      strings.Replace(`{`+base+`}`, `"hc_1"`, `""`, 1),
		"bad utf8":       strings.Replace(`{`+base+`}`, "张", "\xff", 1),
	} {
		_, err := f.v.Verify(craft(priv, hdr, payload), t0, 0)
		if ve := AsVerifyError(err); ve == nil || ve.Reason != ReasonMalformed {
			t.Errorf("%s: err = %v, want MALFORMED", name, err)
		}
	}
	// Escaped strings decode (other issuers may escape non-ASCII).
	escaped := strings.Replace(`{`+base+`}`, `"张*"`, `"\u5f20*\/"`, 1)
	c, err := f.v.Verify(craft(priv, hdr, escaped), t0, 0)
	if err != nil || c.MaskedName != "张*/" || c.Kind != KindPaper {
		t.Fatalf("claims %+v err %v", c, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	f := newFixture(t)
	tok := mustSign(t, f.signer, claimsAt("61", t0, time.Minute))
	for name, s := range map[string]string{
		"empty":          "",
		"two segments":   tok[:strings.LastIndexByte(tok, '.')],
		"four segments":  tok + ".AAAA",
		"padding":        tok + "==",
		"newline":        tok[:10] + "\n" + tok[10:],
		"standard b64":   strings.Replace(tok, tok[5:6], "+", 1),
		"too large":      tok + strings.Repeat("A", MaxTokenSize),
		"short sig":      tok[:len(tok)-2],
		"empty header":   tok[strings.IndexByte(tok, '.'):],
		"not base64 hdr": "A" + tok[1:],
	} {
		_, err := f.v.Verify(s, t0, 0)
		if ve := AsVerifyError(err); ve == nil || (ve.Reason != ReasonMalformed && ve.Reason != ReasonBadSignature) {
			t.Errorf("%s: err = %v, want MALFORMED", name, err)
		}
	}
	// Over 2 KiB is rejected before parsing, even when otherwise valid.
	_, err := f.v.Verify(strings.Repeat("A", MaxTokenSize+1), t0, 0)
	wantReason(t, err, ReasonMalformed)
}

func TestSignValidates(t *testing.T) {
	f := newFixture(t)
	for name, mod := range map[string]func(*Claims){
		"clear name":       func(c *Claims) { c.MaskedName = "张三" },
		"other issuer":     func(c *Claims) { c.Issuer = "6101" },
		"bad colour":       func(c *Claims) { c.Colour = "BLUE" },
		"bad kind":         func(c *Claims) { c.Kind = "" },
		"no code id":       func(c *Claims) { c.CodeID = "" },
		"exp before iat":   func(c *Claims) { c.ExpiresAt = c.IssuedAt },
		"no issue time":    func(c *Claims) { c.IssuedAt = time.Time{} },
		"long masked name": func(c *Claims) { c.MaskedName = "张" + strings.Repeat("*", 40) },
	} {
		c := claimsAt("61", t0, time.Minute)
		mod(&c)
		if _, err := f.signer.Sign(c); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%s: err = %v, want INVALID", name, err)
		}
	}
}

func TestNationalIssuer(t *testing.T) {
	// The national platform simulator: a memory ring trusted by our key set.
	national, err := NewMemoryKeyRing(IssuerNational)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := NewSigner(national)
	f := newFixture(t, national.Trusted("国家政务服务平台", t0))
	c := claimsAt(IssuerNational, t0, 5*time.Minute)
	c.CodeID = "national_9"
	c.MaskedName = "李*"
	tok := mustSign(t, ns, c)
	got, err := f.v.Verify(tok, t0, DefaultSkew)
	if err != nil {
		t.Fatal(err)
	}
	if got.Issuer != IssuerNational || got.MaskedName != "李*" {
		t.Fatalf("claims = %+v", got)
	}
	if d := Describe(got); !strings.Contains(d, "国家政务服务平台") || !strings.Contains(d, "绿码") {
		t.Fatalf("describe = %s", d)
	}
	// Without the trust entry the same token is UNKNOWN_ISSUER.
	_, err = newFixture(t).v.Verify(tok, t0, 0)
	wantReason(t, err, ReasonUnknownIssuer)
}

func TestDescribe(t *testing.T) {
	c := &Claims{Issuer: "61", CodeID: "hc_1", Colour: ColourYellow, MaskedName: "张*", Kind: KindPaper,
		IssuedAt: t0, ExpiresAt: t0.Add(PaperTokenLifetime), TokenID: "j"}
	got := Describe(c)
	want := "黄码｜张*｜纸质健康码｜签发方：陕西省（61）｜有效期：2020-03-31 18:00:00 至 2020-04-14 18:00:00（北京时间）"
	if got != want {
		t.Fatalf("Describe = %s\nwant       %s", got, want)
	}
	if Describe(nil) != "" {
		t.Fatal("Describe(nil) not empty")
	}
}

func TestVerifyOffline(t *testing.T) {
	f := newFixture(t)
	paper := claimsAt("61", t0, PaperTokenLifetime)
	paper.Kind = KindPaper
	paper.TokenID = "paper-1"
	tok := mustSign(t, f.signer, paper)
	ksJSON, err := json.Marshal(f.ks)
	if err != nil {
		t.Fatal(err)
	}
	c, err := VerifyOffline(tok, ksJSON, nil, t0.Add(time.Hour))
	if err != nil || c.Kind != KindPaper {
		t.Fatalf("claims %+v err %v", c, err)
	}
	rl := RevocationList{GeneratedAt: t0, Entries: []Revoked{{Issuer: "61", TokenID: "paper-1", RevokedAt: t0, Reason: RevokeSuperseded}}}
	rlJSON, _ := json.Marshal(rl)
	_, err = VerifyOffline(tok, ksJSON, rlJSON, t0.Add(time.Hour))
	wantReason(t, err, ReasonRevoked)
	// A broken document is an INVALID error, not a VerifyError.
	_, err = VerifyOffline(tok, []byte(`{"keys":[]`), nil, t0)
	if AsVerifyError(err) != nil || healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Fatalf("err = %v", err)
	}
}

func TestVerifierAllocations(t *testing.T) {
	f := newFixture(t)
	tok := mustSign(t, f.signer, claimsAt("61", t0, 5*time.Minute))
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := f.v.Verify(tok, t0, DefaultSkew); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Fatalf("Verify allocates %.1f times per call, want ≤ 2", allocs)
	}
}

func TestVerifyErrorIsError(t *testing.T) {
	var err error = &VerifyError{Reason: ReasonRevoked, Detail: RevokeSuperseded}
	if !strings.Contains(err.Error(), "REVOKED") {
		t.Fatal(err.Error())
	}
	var de *healthcode.Error
	if !errors.As(err, &de) || de.Message != "健康码已作废，请出示最新的健康码" {
		t.Fatalf("domain error = %v", de)
	}
}
