package credential

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	voied25519 "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// The hand-written parts of the package against the libraries they stand
// in for (docs/benchmarks.md, "credential: hand-written or library"):
// Verify's JWS parser against go-jose, and VerifyBatch's batch equation
// against curve25519-voi's own batch verifier.

// verifyGoJose is Verify with go-jose doing the JWS work: parse the compact
// form (EdDSA only), look the kid up under the claimed issuer, verify the
// signature, decode the claims and check the times, as Verify does. It is
// the comparison, not an alternative: it checks less (no exact header and
// claim sets, no revocation).
func verifyGoJose(v *Verifier, token string, now time.Time, skew time.Duration) (*Claims, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fail(ReasonMalformed, "")
	}
	var wc wireClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &wc); err != nil {
		return nil, fail(ReasonMalformed, "")
	}
	vi := v.issuers[wc.Iss]
	if vi == nil {
		return nil, fail(ReasonUnknownIssuer, "")
	}
	vk := vi.keys[jws.Signatures[0].Protected.KeyID]
	if vk == nil {
		return nil, fail(ReasonUnknownKey, "")
	}
	if _, err := jws.Verify(vk.pub); err != nil {
		return nil, fail(ReasonBadSignature, "")
	}
	c := &Claims{Issuer: wc.Iss, CodeID: wc.Cid, Colour: wc.Col, MaskedName: wc.Nm, Kind: wc.Knd,
		IssuedAt: time.Unix(wc.Iat, 0), ExpiresAt: time.Unix(wc.Exp, 0), TokenID: wc.Jti}
	if c.ExpiresAt.Before(now.Add(-skew)) {
		return nil, fail(ReasonExpired, "")
	}
	if c.IssuedAt.After(now.Add(skew)) {
		return nil, fail(ReasonNotYetValid, "")
	}
	return c, nil
}

// BenchmarkVerifyGoJose verifies the token of BenchmarkVerify with go-jose
// (verifyGoJose) and reports x_ours: how many times Verify's rate it
// reaches (below 1: slower than the hand-written parser).
func BenchmarkVerifyGoJose(b *testing.B) {
	fx := getBenchFixture(b)
	if c, err := verifyGoJose(fx.v, fx.token, t0, DefaultSkew); err != nil || c.CodeID == "" {
		b.Fatalf("go-jose: %+v, %v", c, err)
	}
	timeRun := func(verify func() error) time.Duration {
		start := time.Now()
		for range ratioIterations {
			if err := verify(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := verifyGoJose(fx.v, fx.token, t0, DefaultSkew); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	var ours, theirs time.Duration
	for range 5 { // alternate, so both see the same machine
		ours += timeRun(func() error { _, err := fx.v.Verify(fx.token, t0, DefaultSkew); return err })
		theirs += timeRun(func() error { _, err := verifyGoJose(fx.v, fx.token, t0, DefaultSkew); return err })
	}
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "x_ours")
}

// BenchmarkParseGoJose isolates the parsing: go-jose's ParseSignedCompact
// and claims decoding against Verifier.parse (everything before the
// signature), without the signature check that dominates both.
func BenchmarkParseGoJose(b *testing.B) {
	fx := getBenchFixture(b)
	var buf [MaxTokenSize]byte
	tb := buf[:copy(buf[:], fx.token)]
	ourParse := func() error {
		var p parsed
		return fx.v.parse(tb, t0, DefaultSkew, &p)
	}
	theirParse := func() error {
		jws, err := jose.ParseSignedCompact(fx.token, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			return err
		}
		var wc wireClaims
		return json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &wc)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := theirParse(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "parses/s")
	var ours, theirs time.Duration
	for range 5 {
		start := time.Now()
		for range ratioIterations {
			if err := ourParse(); err != nil {
				b.Fatal(err)
			}
		}
		ours += time.Since(start)
		start = time.Now()
		for range ratioIterations {
			if err := theirParse(); err != nil {
				b.Fatal(err)
			}
		}
		theirs += time.Since(start)
	}
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "x_ours")
	b.ReportMetric(float64(theirs)/float64(5*ratioIterations), "ns/parse")
	b.ReportMetric(float64(ours)/float64(5*ratioIterations), "ours_ns/parse")
}

// BenchmarkVerifyBatchVoi verifies the 1,000 good tokens of
// BenchmarkVerifyBatch with curve25519-voi's own batch verifier
// (primitives/ed25519.BatchVerifier, ZIP-215 like ours, one equation of
// 2n+1 terms per batch), the tokens parsed by Verifier.parse as ours are
// and split over both cores as ours are, and reports x_ours: how many times
// VerifyBatch's rate it reaches.
func BenchmarkVerifyBatchVoi(b *testing.B) {
	f := newFixture(b)
	items := make([]BatchItem, 1000)
	for i := range items {
		c := claimsAt(IssuerProvince, t0, 5*time.Minute)
		c.CodeID = fmt.Sprintf("hc_%d", i)
		items[i] = BatchItem{Token: mustSign(b, f.signer, c), At: t0}
	}
	opts := &voied25519.Options{Verify: voied25519.VerifyOptionsZIP_215}
	// voiBatch parses every token and verifies the signatures with one voi
	// batch verifier per core.
	voiBatch := func() time.Duration {
		start := time.Now()
		const workers = 2
		var wg sync.WaitGroup
		var failed sync.Once
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				bv := voied25519.NewBatchVerifierWithCapacity(len(items) / workers)
				for i := w; i < len(items); i += workers {
					tok := items[i].Token
					var buf [MaxTokenSize]byte
					tb := buf[:copy(buf[:], tok)]
					var p parsed
					if err := f.v.parse(tb, t0, DefaultSkew, &p); err != nil {
						failed.Do(func() { b.Error(err) })
						return
					}
					msg := []byte(tok[:strings.LastIndexByte(tok, '.')])
					bv.AddWithOptions(voied25519.PublicKey(p.vk.pub), msg, p.sig[:], opts)
				}
				if !bv.VerifyBatchOnly(rand.Reader) {
					failed.Do(func() { b.Error("voi batch rejected good signatures") })
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	ourBatch := func() time.Duration {
		start := time.Now()
		for _, r := range f.v.VerifyBatch(items, DefaultSkew) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		return time.Since(start)
	}
	var ours, theirs time.Duration
	for i := 0; i < b.N; i++ {
		theirs += voiBatch()
		ours += ourBatch()
	}
	n := float64(b.N * len(items))
	b.ReportMetric(n/theirs.Seconds(), "verifications/s")
	b.ReportMetric(n/ours.Seconds(), "ours_verifications/s")
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "x_ours")
}
