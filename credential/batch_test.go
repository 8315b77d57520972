package credential

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// VerifyBatch gives, for every mix of good and bad tokens, exactly what
// Verify gives for each of them: same claims, same reason.
func TestPropertyVerifyBatchEqualsVerify(t *testing.T) {
	national, _ := NewMemoryKeyRing(IssuerNational)
	rogue, _ := NewMemoryKeyRing("4401")
	rogueSigner, _ := NewSigner(rogue)
	nationalSigner, _ := NewSigner(national)
	f := newFixture(t, national.Trusted("国家政务服务平台", t0))
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 200).Draw(rt, "n")
		items := make([]BatchItem, n)
		for i := range items {
			at := t0.Add(time.Duration(rapid.IntRange(-10, 10).Draw(rt, "minutes")) * time.Minute)
			c := claimsAt(IssuerProvince, t0, 5*time.Minute)
			c.CodeID = fmt.Sprintf("hc_%d", i)
			tok := mustSign(t, f.signer, c)
			switch rapid.IntRange(0, 9).Draw(rt, "kind") {
			case 0: // a flipped signature bit
				b := []byte(tok)
				b[len(b)-5] ^= 1
				if b[len(b)-5] == '.' || !b64url[b[len(b)-5]] {
					b[len(b)-5] = 'A'
				}
				tok = string(b)
			case 1: // an untrusted issuer
				c.Issuer = "4401"
				tok = mustSign(t, rogueSigner, c)
			case 2: // the national platform
				c.Issuer = IssuerNational
				tok = mustSign(t, nationalSigner, c)
			case 3: // garbage
				tok = rapid.StringMatching(`[A-Za-z0-9_.-]{0,120}`).Draw(rt, "garbage")
			case 4: // another token's signature
				other := mustSign(t, f.signer, claimsAt(IssuerProvince, t0, time.Minute))
				tok = tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
			}
			items[i] = BatchItem{Token: tok, At: at}
		}
		got := f.v.VerifyBatch(items, DefaultSkew)
		if len(got) != n {
			rt.Fatalf("%d results for %d items", len(got), n)
		}
		for i, it := range items {
			want, werr := f.v.Verify(it.Token, it.At, DefaultSkew)
			if !reflect.DeepEqual(got[i].Claims, want) || !reflect.DeepEqual(got[i].Err, werr) {
				rt.Fatalf("item %d: batch (%v, %v), one by one (%v, %v)", i, got[i].Claims, got[i].Err, want, werr)
			}
		}
	})
}

// BenchmarkVerifyBatch verifies batches of 1,000 distinct tokens, as the
// scan upload does, against Verify one by one on every core (the path it
// replaces); x_baseline = batch rate ÷ one-by-one rate (higher is better).
func BenchmarkVerifyBatch(b *testing.B) {
	f := newFixture(b)
	items := make([]BatchItem, 1000)
	for i := range items {
		c := claimsAt(IssuerProvince, t0, 5*time.Minute)
		c.CodeID = fmt.Sprintf("hc_%d", i)
		items[i] = BatchItem{Token: mustSign(b, f.signer, c), At: t0}
	}
	oneByOne := func() time.Duration {
		start := time.Now()
		done := make(chan struct{})
		for w := 0; w < 2; w++ {
			go func() {
				for i := w; i < len(items); i += 2 {
					if _, err := f.v.Verify(items[i].Token, t0, DefaultSkew); err != nil {
						panic(err)
					}
				}
				done <- struct{}{}
			}()
		}
		<-done
		<-done
		return time.Since(start)
	}
	var batch, base time.Duration
	for i := 0; i < b.N; i++ {
		base += oneByOne()
		start := time.Now()
		for _, r := range f.v.VerifyBatch(items, DefaultSkew) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		batch += time.Since(start)
	}
	n := float64(b.N * len(items))
	b.ReportMetric(n/batch.Seconds(), "verifications/s")
	b.ReportMetric(n/base.Seconds(), "baseline_verifications/s")
	b.ReportMetric(base.Seconds()/batch.Seconds(), "x_baseline")
}
