package credential

import (
	"crypto/sha512"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"pgregory.net/rapid"
)

// withSig returns tok with its signature replaced by edit's change of it.
func withSig(t testing.TB, tok string, edit func(sig []byte)) string {
	t.Helper()
	dot := strings.LastIndexByte(tok, '.')
	sig, err := b64.DecodeString(tok[dot+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature of %q: %v", tok, err)
	}
	edit(sig)
	return tok[:dot+1] + b64.EncodeToString(sig)
}

// ell is the order ℓ of the Ed25519 base point, little-endian.
var ell = [32]byte{
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

// nonCanonicalS replaces S by S + ℓ, the same scalar not reduced.
func nonCanonicalS(sig []byte) {
	carry := 0
	for i := range ell {
		v := int(sig[32+i]) + int(ell[i]) + carry
		sig[32+i], carry = byte(v), v>>8
	}
}

// badR is an encoding that is not a curve point (no x for its y).
var badR = func() [32]byte {
	for y := byte(2); ; y++ {
		enc := curve.CompressedEdwardsY{y}
		var p curve.EdwardsPoint
		if _, err := p.SetCompressedY(&enc); err != nil {
			return enc
		}
	}
}()

// batchMix returns a verifier for the province and the national platform,
// with a revocation list, and a generator of batches mixing good tokens with
// every kind of bad one.
func batchMix(t *testing.T) (*Verifier, *rapid.Generator[[]BatchItem]) {
	national, _ := NewMemoryKeyRing(IssuerNational)
	rogue, _ := NewMemoryKeyRing("4401")
	rogueSigner, _ := NewSigner(rogue)
	nationalSigner, _ := NewSigner(national)
	f := newFixture(t, national.Trusted("国家政务服务平台", t0))
	rl := &RevocationList{GeneratedAt: t0, Entries: []Revoked{
		{Issuer: IssuerProvince, CodeID: "hc_revoked", RevokedAt: t0.Add(time.Second), Reason: RevokeColourChanged},
	}}
	v, err := NewVerifier(f.ks, rl)
	if err != nil {
		t.Fatal(err)
	}
	return v, rapid.Custom(func(rt *rapid.T) []BatchItem {
		n := rapid.IntRange(0, 200).Draw(rt, "n")
		items := make([]BatchItem, n)
		for i := range items {
			at := t0.Add(time.Duration(rapid.IntRange(-10, 10).Draw(rt, "minutes")) * time.Minute)
			c := claimsAt(IssuerProvince, t0, 5*time.Minute)
			c.CodeID = fmt.Sprintf("hc_%d", i)
			if rapid.IntRange(0, 9).Draw(rt, "revoked") == 0 {
				c.CodeID = "hc_revoked"
			}
			tok := mustSign(t, f.signer, c)
			switch rapid.IntRange(0, 11).Draw(rt, "kind") {
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
			case 5: // S + ℓ: the same scalar, not canonical
				tok = withSig(t, tok, nonCanonicalS)
			case 6: // an R that is not a point
				tok = withSig(t, tok, func(sig []byte) { copy(sig, badR[:]) })
			}
			items[i] = BatchItem{Token: tok, At: at}
		}
		return items
	})
}

// VerifyBatch gives, for every mix of good and bad tokens, exactly what
// Verify gives for each of them: same claims, same reason.
func TestPropertyVerifyBatchEqualsVerify(t *testing.T) {
	v, batches := batchMix(t)
	rapid.Check(t, func(rt *rapid.T) {
		items := batches.Draw(rt, "items")
		sameAsVerify(rt, v, items, v.VerifyBatch(items, DefaultSkew), "batch")
	})
}

// sameAsVerify fails rt (a *testing.T or a *rapid.T) unless got holds, item
// by item, exactly what Verify gives for items.
func sameAsVerify(rt interface{ Fatalf(string, ...any) }, v *Verifier, items []BatchItem, got []BatchResult, what string) {
	if len(got) != len(items) {
		rt.Fatalf("%d results for %d items", len(got), len(items))
	}
	for i, it := range items {
		want, werr := v.Verify(it.Token, it.At, DefaultSkew)
		if !reflect.DeepEqual(got[i].Claims, want) || !reflect.DeepEqual(got[i].Err, werr) {
			rt.Fatalf("item %d: %s (%v, %v), one by one (%v, %v)", i, what, got[i].Claims, got[i].Err, want, werr)
		}
	}
}

// For every mix of tokens, a PendingBatch's Wait gives exactly what Verify
// gives for each, from any number of goroutines; Unverified, available at
// once, fails every item that Wait fails for a reason other than the
// signature, with the same error, and gives the claims of every item that
// Wait accepts.
func TestPropertyPendingBatch(t *testing.T) {
	v, batches := batchMix(t)
	rapid.Check(t, func(rt *rapid.T) {
		items := batches.Draw(rt, "items")
		pb := v.StartBatch(items, DefaultSkew)
		un := pb.Unverified()
		const callers = 3
		waits := make([][]BatchResult, callers)
		var wg sync.WaitGroup
		for c := range waits {
			wg.Go(func() {
				_ = pb.Unverified()
				waits[c] = pb.Wait()
			})
		}
		wg.Wait()
		if len(un) != len(items) {
			rt.Fatalf("%d unverified results for %d items", len(un), len(items))
		}
		for c, got := range waits {
			sameAsVerify(rt, v, items, got, "Wait")
			for i := range items {
				switch {
				case (un[i].Claims == nil) == (un[i].Err == nil):
					rt.Fatalf("item %d: Unverified (%v, %v)", i, un[i].Claims, un[i].Err)
				case un[i].Err != nil && got[i].Err == nil:
					rt.Fatalf("item %d: Unverified fails (%v), Wait accepts", i, un[i].Err)
				case got[i].Err == nil && !reflect.DeepEqual(un[i].Claims, got[i].Claims):
					rt.Fatalf("item %d: Unverified claims %v, Wait claims %v", i, un[i].Claims, got[i].Claims)
				case got[i].Err != nil && AsVerifyError(got[i].Err).Reason != ReasonBadSignature && !reflect.DeepEqual(un[i].Err, got[i].Err):
					rt.Fatalf("item %d: Unverified (%v, %v), Wait fails with %v", i, un[i].Claims, un[i].Err, got[i].Err)
				}
				if got[i].Claims != nil && (got[i].Claims == un[i].Claims || c > 0 && got[i].Claims == waits[0][i].Claims) {
					rt.Fatalf("item %d: claims shared between calls", i)
				}
			}
		}
	})
}

// A forged signature among many good ones by the same key fails the batch
// equation: it alone is reported, as BAD_SIGNATURE, and the others pass.
func TestVerifyBatchCatchesOneForgery(t *testing.T) {
	f := newFixture(t)
	for _, n := range []int{2, 64, 300, 1000} {
		items := make([]BatchItem, n)
		for i := range items {
			c := claimsAt(IssuerProvince, t0, 5*time.Minute)
			c.CodeID = fmt.Sprintf("hc_%d", i)
			items[i] = BatchItem{Token: mustSign(t, f.signer, c), At: t0}
		}
		// A well-formed signature (R a point, S canonical) by the right key,
		// but over another payload.
		forged := n * 2 / 3
		other := mustSign(t, f.signer, claimsAt(IssuerProvince, t0, time.Hour))
		tok := items[forged].Token
		items[forged].Token = tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
		for i, r := range f.v.VerifyBatch(items, DefaultSkew) {
			switch {
			case i == forged:
				if r.Claims != nil {
					t.Fatalf("n=%d: forged item %d accepted", n, i)
				}
				wantReason(t, r.Err, ReasonBadSignature)
			case r.Err != nil || r.Claims == nil || r.Claims.CodeID != fmt.Sprintf("hc_%d", i):
				t.Fatalf("n=%d: item %d: (%v, %v)", n, i, r.Claims, r.Err)
			}
		}
	}
}

// Forgeries anywhere in a batch, from one to every signature, are each
// reported as Verify reports them, and every good signature still passes:
// batches of 2 to 1,000 tokens by the same key, with well-formed signatures
// (R a point, S canonical) over another token's payload, every signature
// forged or up to 24 at random positions.
func TestPropertyVerifyBatchForgeries(t *testing.T) {
	f := newFixture(t)
	good := make([]string, 1000)
	for i := range good {
		c := claimsAt(IssuerProvince, t0, 5*time.Minute)
		c.CodeID = fmt.Sprintf("hc_%d", i)
		good[i] = mustSign(t, f.signer, c)
	}
	forge := func(i int) string { // token i with the signature of token i+1
		tok, other := good[i], good[(i+1)%len(good)]
		return tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
	}
	for _, n := range []int{2, 3, 17, 501, 1000} { // every signature forged
		items := make([]BatchItem, n)
		for i := range items {
			items[i] = BatchItem{Token: forge(i), At: t0}
		}
		sameAsVerify(t, f.v, items, f.v.VerifyBatch(items, DefaultSkew), "batch")
	}
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, len(good)).Draw(rt, "n")
		items := make([]BatchItem, n)
		for i := range items {
			items[i] = BatchItem{Token: good[i], At: t0}
		}
		if rapid.IntRange(0, 9).Draw(rt, "all") == 0 {
			for i := range items {
				items[i].Token = forge(i)
			}
		} else {
			for range rapid.IntRange(1, 24).Draw(rt, "forgeries") {
				i := rapid.IntRange(0, n-1).Draw(rt, "at")
				items[i].Token = forge(i)
			}
		}
		sameAsVerify(rt, f.v, items, f.v.VerifyBatch(items, DefaultSkew), "batch")
	})
}

// goodJobs returns n good signatures to check, by the province's key but
// every seventh by the national platform's.
func goodJobs(t *testing.T, n int) []sigJob {
	national, _ := NewMemoryKeyRing(IssuerNational)
	nationalSigner, _ := NewSigner(national)
	f := newFixture(t, national.Trusted("国家政务服务平台", t0))
	jobs := make([]sigJob, n)
	for i := range jobs {
		c := claimsAt(IssuerProvince, t0, 5*time.Minute)
		c.CodeID = fmt.Sprintf("hc_%d", i)
		s := f.signer
		if i%7 == 3 {
			c.Issuer, s = IssuerNational, nationalSigner
		}
		tb := []byte(mustSign(t, s, c))
		var p parsed
		if err := f.v.parse(tb, t0, DefaultSkew, &p); err != nil {
			t.Fatal(err)
		}
		jobs[i] = sigJob{msg: tb[:p.inputLen], sig: p.sig, vk: p.vk}
	}
	return jobs
}

// The batch equation holds for good signatures by one key or several, and
// fails as soon as one signature is not good, whatever its position.
func TestBatchEquation(t *testing.T) {
	jobs := goodJobs(t, 200)
	h := sha512.New()
	holds := func(jobs []sigJob) bool {
		terms := make([]batchTerm, len(jobs))
		for i := range jobs {
			if !terms[i].prepare(&jobs[i], i, h) {
				t.Fatalf("job %d not batchable", i)
			}
		}
		return equationHolds(terms)
	}
	for _, n := range []int{1, 2, 7, 64, 150, 200} { // Straus and Pippenger
		if !holds(jobs[:n]) {
			t.Fatalf("equation fails for %d good signatures", n)
		}
		for _, bad := range []int{0, n / 2, n - 1} {
			forged := slices.Clone(jobs[:n])
			forged[bad].msg = append(slices.Clone(forged[bad].msg), 'x')
			if holds(forged) {
				t.Fatalf("equation holds for %d signatures with #%d forged", n, bad)
			}
			forged[bad] = jobs[bad]
			forged[bad].vk = jobs[(bad+3)%n].vk // a signature under another key
			if forged[bad].vk != jobs[bad].vk && holds(forged) {
				t.Fatalf("equation holds for %d signatures with #%d under another key", n, bad)
			}
		}
	}
	// Not batchable: S not canonical, R not a point.
	job := jobs[0]
	nonCanonicalS(job.sig[:])
	if new(batchTerm).prepare(&job, 0, h) {
		t.Error("non-canonical S added to the equation")
	}
	job = jobs[0]
	copy(job.sig[:], badR[:])
	if new(batchTerm).prepare(&job, 0, h) {
		t.Error("R off the curve added to the equation")
	}
}

// checkSigs finds the bad signatures of a chunk by bisection: one bad
// signature, wherever it is, is found with at most bisectLeaf signatures
// checked one by one, and when every signature is bad, each is checked one
// by one exactly once. Every other signature is accepted.
func TestCheckSigsBisects(t *testing.T) {
	good := goodJobs(t, batchChunk)
	check := func(n int, bad []int) int {
		t.Helper()
		jobs := slices.Clone(good[:n])
		for _, i := range bad { // the signature of the next job
			jobs[i].sig = good[(i+1)%len(good)].sig
		}
		ok := make([]bool, n)
		single := checkSigs(jobs, ok)
		for i := range ok {
			if ok[i] == slices.Contains(bad, i) {
				t.Fatalf("n=%d, bad %v: job %d ok=%v", n, bad, i, ok[i])
			}
		}
		return single
	}
	for _, n := range []int{2, 3, bisectLeaf, bisectLeaf + 1, 2*bisectLeaf + 1, 100, batchChunk} {
		for _, at := range []int{0, 1, n/2 - 1, n / 2, n - 2, n - 1, n / 3, n * 2 / 3} {
			if single := check(n, []int{at}); single > bisectLeaf {
				t.Errorf("n=%d, bad %d: %d signatures checked one by one", n, at, single)
			}
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		if single := check(n, all); single != n {
			t.Errorf("n=%d, all bad: %d signatures checked one by one", n, single)
		}
		if n >= 4 { // one bad signature in each half
			check(n, []int{0, n - 1})
			check(n, []int{n/2 - 1, n / 2})
		}
	}
}

// Chunks cover the signatures in order, at most batchChunk each and of
// about equal sizes, a multiple of the workers in number unless they would
// fall below minChunk signatures.
func TestChunkBounds(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8, 64} {
		for _, n := range []int{0, 1, 15, 16, 17, 40, 100, 499, 500, 501, 999, 1000, 1001, 5000} {
			b := chunkBounds(n, workers)
			if n == 0 {
				if len(b) != 0 {
					t.Fatalf("n=0, %d workers: %v", workers, b)
				}
				continue
			}
			chunks := len(b) - 1
			if b[0] != 0 || b[chunks] != n {
				t.Fatalf("n=%d, %d workers: bounds %v", n, workers, b)
			}
			small, large := n, 0
			for c := range chunks {
				small, large = min(small, b[c+1]-b[c]), max(large, b[c+1]-b[c])
			}
			if small < 1 || large > batchChunk || large-small > 1 {
				t.Fatalf("n=%d, %d workers: chunk sizes %d to %d", n, workers, small, large)
			}
			if chunks%workers != 0 && chunks != max(1, n/minChunk) {
				t.Fatalf("n=%d, %d workers: %d chunks", n, workers, chunks)
			}
		}
	}
}

// BenchmarkVerifyBatch verifies batches of 1,000 distinct tokens, as the
// scan upload does, against Verify one by one on every core (the path it
// replaces); x_baseline = batch rate ÷ one-by-one rate (higher is better).
// All tokens carry the province's active key, as nearly all scans do: the
// case for which the batch equation groups its terms by key.
//
// It also verifies the same batch with one token forged (a well-formed
// signature by the same key over another payload, at two thirds of the
// batch) and with every token forged, and reports their rates next to the
// all-good one: forged_x_good and allforged_x_good = their rate ÷ the
// all-good rate, what a bad signature costs the server (1 would be free).
func BenchmarkVerifyBatch(b *testing.B) {
	f := newFixture(b)
	items := make([]BatchItem, 1000)
	for i := range items {
		c := claimsAt(IssuerProvince, t0, 5*time.Minute)
		c.CodeID = fmt.Sprintf("hc_%d", i)
		items[i] = BatchItem{Token: mustSign(b, f.signer, c), At: t0}
	}
	// Token i with the signature of token i+1.
	forge := func(i int) string {
		tok, other := items[i].Token, items[(i+1)%len(items)].Token
		return tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
	}
	oneForged := slices.Clone(items)
	oneForged[len(items)*2/3].Token = forge(len(items) * 2 / 3)
	allForged := slices.Clone(items)
	for i := range allForged {
		allForged[i].Token = forge(i)
	}
	// timeBatch verifies items as a batch, and fails b unless exactly bad
	// of them are rejected, all for their signature.
	timeBatch := func(items []BatchItem, bad int) time.Duration {
		start := time.Now()
		res := f.v.VerifyBatch(items, DefaultSkew)
		elapsed := time.Since(start)
		for _, r := range res {
			if r.Err != nil {
				if AsVerifyError(r.Err).Reason != ReasonBadSignature {
					b.Fatal(r.Err)
				}
				bad--
			}
		}
		if bad != 0 {
			b.Fatalf("%d rejections more than forgeries", -bad)
		}
		return elapsed
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
	var batch, base, forged, allForgedTime time.Duration
	for i := 0; i < b.N; i++ {
		base += oneByOne()
		batch += timeBatch(items, 0)
		forged += timeBatch(oneForged, 1)
		allForgedTime += timeBatch(allForged, len(allForged))
	}
	n := float64(b.N * len(items))
	b.ReportMetric(n/batch.Seconds(), "verifications/s")
	b.ReportMetric(n/base.Seconds(), "baseline_verifications/s")
	b.ReportMetric(base.Seconds()/batch.Seconds(), "x_baseline")
	b.ReportMetric(n/forged.Seconds(), "forged_verifications/s")
	b.ReportMetric(batch.Seconds()/forged.Seconds(), "forged_x_good")
	b.ReportMetric(n/allForgedTime.Seconds(), "allforged_verifications/s")
	b.ReportMetric(batch.Seconds()/allForgedTime.Seconds(), "allforged_x_good")
}
