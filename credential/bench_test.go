package credential

import (
	"crypto/ed25519"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type benchFixture struct {
	v     *Verifier
	token string
	pub   ed25519.PublicKey
	input []byte // the JWS signing input
	sig   []byte
}

var (
	benchOnce  sync.Once
	benchFx    *benchFixture
	ratioOnce  sync.Once
	ratioValue float64
)

// getBenchFixture signs one electronic-code token with a key set holding the
// province, a city and the national platform, as a scanner would see it.
func getBenchFixture(b *testing.B) *benchFixture {
	benchOnce.Do(func() {
		national, _ := NewMemoryKeyRing(IssuerNational)
		city, _ := NewMemoryKeyRing("6101")
		f := newFixture(b, national.Trusted("国家政务服务平台", t0), city.Trusted("西安市", t0))
		tok := mustSign(b, f.signer, claimsAt("61", t0, 5*time.Minute))
		dot := strings.LastIndexByte(tok, '.')
		sig, err := b64.DecodeString(tok[dot+1:])
		if err != nil {
			b.Fatal(err)
		}
		pub, _ := f.ring.Active().PublicKey()
		benchFx = &benchFixture{v: f.v, token: tok, pub: pub, input: []byte(tok[:dot]), sig: sig}
	})
	if benchFx == nil {
		b.Fatal("no bench fixture")
	}
	return benchFx
}

// ratioIterations is the fixed number of verifications per side over which
// x_baseline is measured, so the metric means the same under -benchtime 1x.
const ratioIterations = 2000

// baselineRatio measures Verifier.Verify against bare ed25519.Verify over
// the same signing input: ratioIterations pairs, each timing one baseline
// and one Verify back to back so both see the same machine conditions; the
// metric is the median of the per-pair ratios, which shrugs off pairs
// disturbed by other load.
func baselineRatio(b *testing.B, fx *benchFixture) float64 {
	ratioOnce.Do(func() {
		ratios := make([]float64, 0, ratioIterations)
		for range ratioIterations {
			start := time.Now()
			if !ed25519.Verify(fx.pub, fx.input, fx.sig) {
				b.Fatal("baseline verify failed")
			}
			base := time.Since(start)
			start = time.Now()
			if _, err := fx.v.Verify(fx.token, t0, DefaultSkew); err != nil {
				b.Fatal(err)
			}
			ratios = append(ratios, float64(time.Since(start))/float64(max(base, 1)))
		}
		slices.Sort(ratios)
		ratioValue = ratios[len(ratios)/2]
	})
	return ratioValue
}

// BenchmarkVerify measures the scanner's hot path: Verifier.Verify of a valid
// token. It reports verifications/s and x_baseline, the cost relative to a
// bare ed25519.Verify of the same signing input.
func BenchmarkVerify(b *testing.B) {
	fx := getBenchFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := fx.v.Verify(fx.token, t0, DefaultSkew); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	b.ReportMetric(baselineRatio(b, fx), "x_baseline")
}

// BenchmarkVerifyBaseline is the floor: ed25519.Verify alone over the same
// signing input and signature.
func BenchmarkVerifyBaseline(b *testing.B) {
	fx := getBenchFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !ed25519.Verify(fx.pub, fx.input, fx.sig) {
			b.Fatal("verify failed")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}
