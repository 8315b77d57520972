package credential

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// checkAgainstGoJose cross-checks an accepted token with an independent
// implementation: go-jose must verify it with the same key and
// encoding/json must decode the same claims from its payload.
func checkAgainstGoJose(t *testing.T, f *fixture, tok string, c *Claims) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("accepted a token go-jose cannot parse: %v", err)
	}
	pub, _ := f.ring.Active().PublicKey()
	payload, err := jws.Verify(pub)
	if err != nil {
		t.Fatalf("accepted a token go-jose does not verify: %v", err)
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		t.Fatalf("accepted a payload encoding/json rejects: %v", err)
	}
	want := Claims{Issuer: w.Iss, CodeID: w.Cid, Colour: w.Col, MaskedName: w.Nm, Kind: w.Knd,
		IssuedAt: time.Unix(w.Iat, 0), ExpiresAt: time.Unix(w.Exp, 0), TokenID: w.Jti}
	if *c != want {
		t.Fatalf("claims differ from encoding/json:\n got %+v\nwant %+v", *c, want)
	}
	if h := jws.Signatures[0].Protected; h.Algorithm != "EdDSA" || h.KeyID != f.ring.Active().Kid {
		t.Fatalf("header %+v", h)
	}
}

func checkError(t *testing.T, err error) {
	t.Helper()
	ve := AsVerifyError(err)
	if ve == nil {
		t.Fatalf("error is not a VerifyError: %v", err)
	}
	if _, ok := reasonMessages[ve.Reason]; !ok {
		t.Fatalf("unknown reason %q", ve.Reason)
	}
}

// FuzzVerify feeds arbitrary strings to the token parser: it never panics,
// every failure is a VerifyError with a known reason, and whatever it accepts
// go-jose accepts too with the same claims.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	valid, err := fx.signer.Sign(claimsAt("61", t0, 5*time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, n := range []int{0, 1, 10, 36, 37, 38, len(valid) / 2, len(valid) - 87, len(valid) - 86, len(valid) - 1} {
		f.Add(valid[:n])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		f.Add(string(b))
	}
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(valid + "." + valid)
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := fx.v.Verify(tok, t0, DefaultSkew)
		if err != nil {
			checkError(t, err)
			return
		}
		checkAgainstGoJose(t, fx, tok, c)
	})
}

// FuzzClaimsParser signs arbitrary header and payload bytes with a trusted
// key, so the JSON parsers are reached past the signature check; whatever
// verifies must agree with go-jose and encoding/json.
func FuzzClaimsParser(f *testing.F) {
	fx := newFixture(f)
	kid := fx.ring.Active().Kid
	hdr := `{"alg":"EdDSA","kid":"` + kid + `","typ":"hc+jwt"}`
	iat, exp := itoa(t0.Unix()), itoa(t0.Unix()+300)
	f.Add(hdr, `{"iss":"61","cid":"hc_1","col":"GREEN","nm":"张*","knd":"ELECTRONIC","iat":`+iat+`,"exp":`+exp+`,"jti":"j"}`)
	f.Add(hdr, `{"iss":"61","cid":"hc\"1","col":"RED","nm":"\u5f20\ud83d\ude00*","knd":"PAPER","iat":`+iat+`,"exp":`+exp+`,"jti":"\n"}`)
	f.Add(` {"typ":"hc+jwt" , "kid":"`+kid+`","alg":"EdDSA"}`, ` { "exp":`+exp+`,"iat":`+iat+`,"jti":"x","knd":"PASS_CARD","nm":"","col":"YELLOW","cid":"c","iss":"61" } `)
	f.Add(hdr, `{"iss":"61","cid":"hc_1","col":"GREEN","nm":"\ud800","knd":"ELECTRONIC","iat":`+iat+`,"exp":`+exp+`,"jti":"j"}`)
	f.Add(hdr, `{}`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		tok := craft(fx.ring.activeKey().priv, header, payload)
		c, err := fx.v.Verify(tok, t0, DefaultSkew)
		if err != nil {
			checkError(t, err)
			return
		}
		checkAgainstGoJose(t, fx, tok, c)
	})
}
