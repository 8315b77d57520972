package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"hash"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// BatchItem is one token of a batch to verify at its own time (a scan's
// original time).
type BatchItem struct {
	Token string
	At    time.Time
}

// BatchResult is the outcome of one BatchItem: the claims, or a
// *VerifyError exactly as Verify would return it.
type BatchResult struct {
	Claims *Claims
	Err    error
}

// batchChunk is how many signatures one batch equation checks: large enough
// to amortise the multi-scalar multiplication, small enough that a bad
// signature (which makes its chunk fall back to one-by-one checks) costs
// little and that the chunks spread over the cores.
const batchChunk = 64

// VerifyBatch verifies many tokens at once, on every core, with the same
// checks and results as calling Verify on each (the scan-upload service
// calls it for a batch of scans). Signatures are checked in chunks, each
// with one Ed25519 batch equation whose terms are grouped by key (nearly all
// scans carry the same provincial key), several times faster per signature
// than one by one; a chunk whose batch equation fails is checked again one
// signature at a time with crypto/ed25519, and so is a signature that cannot
// enter the equation (S not canonical, R not a point), so a bad signature is
// reported exactly as Verify reports it. A good signature is accepted by the
// batch equation under ZIP-215 rules, which differ from crypto/ed25519 only
// on non-canonical encodings and small-order components that only the holder
// of the private key could put in a valid signature.
func (v *Verifier) VerifyBatch(items []BatchItem, skew time.Duration) []BatchResult {
	out := make([]BatchResult, len(items))
	ps := make([]parsed, len(items))
	jobs := make([]sigJob, len(items))
	var pending []int // items whose signature remains to be checked
	for i := range items {
		if len(items[i].Token) > MaxTokenSize {
			out[i].Err = fail(ReasonMalformed, "token larger than 2 KiB")
			continue
		}
		tb := []byte(items[i].Token)
		if err := v.parse(tb, items[i].At, skew, &ps[i]); err != nil {
			out[i].Err = err
			continue
		}
		jobs[i] = sigJob{msg: tb[:ps[i].inputLen], sig: ps[i].sig, vk: ps[i].vk}
		pending = append(pending, i)
	}
	sigOK := make([]bool, len(items))
	check := func(chunk []int) {
		cj := make([]sigJob, len(chunk))
		ok := make([]bool, len(chunk))
		for j, i := range chunk {
			cj[j] = jobs[i]
		}
		checkSigs(cj, ok)
		for j, i := range chunk {
			sigOK[i] = ok[j]
		}
	}
	var chunks [][]int
	for len(pending) > 0 {
		n := min(batchChunk, len(pending))
		chunks, pending = append(chunks, pending[:n]), pending[n:]
	}
	workers := min(runtime.GOMAXPROCS(0), len(chunks))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := w; c < len(chunks); c += workers {
				check(chunks[c])
			}
		}()
	}
	wg.Wait()
	for _, chunk := range chunks {
		for _, i := range chunk {
			if !sigOK[i] {
				out[i].Err = fail(ReasonBadSignature, "")
				continue
			}
			c := new(Claims)
			if err := v.finish(&ps[i], items[i].At, skew, c); err != nil {
				out[i].Err = err
				continue
			}
			out[i].Claims = c
		}
	}
	return out
}

// basepoint is the Ed25519 basepoint B, expanded once for the batch equation.
var basepoint = curve.NewExpandedEdwardsPoint(curve.ED25519_BASEPOINT_POINT)

// expandNeg decodes an Ed25519 public key A, accepting non-canonical
// encodings and small-order points as ZIP-215 does, and returns −A expanded
// for the batch equation, or nil when pub does not decode to a point.
func expandNeg(pub ed25519.PublicKey) *curve.ExpandedEdwardsPoint {
	var enc curve.CompressedEdwardsY
	if _, err := enc.SetBytes(pub); err != nil {
		return nil
	}
	var a curve.EdwardsPoint
	if _, err := a.SetCompressedY(&enc); err != nil {
		return nil
	}
	return curve.NewExpandedEdwardsPoint(a.Neg(&a))
}

// sigJob is one signature to check: sig over msg (the signing input) by vk.
type sigJob struct {
	msg []byte
	sig [ed25519.SignatureSize]byte
	vk  *verKey
}

// checkSigs checks the signatures of jobs, writing ok[j] for jobs[j]. It
// checks the batchable ones with one batch equation and, when that fails or
// when fewer than two are batchable, one by one with crypto/ed25519; a job
// that is not batchable (S not canonical, R or the key not a point) is
// checked one by one with crypto/ed25519 without failing the others.
func checkSigs(jobs []sigJob, ok []bool) {
	var e batchEquation
	batched := make([]int, 0, len(jobs))
	e.init(len(jobs))
	for j := range jobs {
		if e.add(&jobs[j]) {
			batched = append(batched, j)
			continue
		}
		ok[j] = verifyOne(&jobs[j])
	}
	if len(batched) >= 2 && e.holds() {
		for _, j := range batched {
			ok[j] = true
		}
		return
	}
	for _, j := range batched {
		ok[j] = verifyOne(&jobs[j])
	}
}

// verifyOne checks one signature exactly as Verify does.
func verifyOne(job *sigJob) bool {
	return ed25519.Verify(job.vk.pub, job.msg, job.sig[:])
}

// batchEquation accumulates signatures (R_i, s_i) by keys A_i over messages
// M_i, with k_i = SHA-512(R_i ‖ A_i ‖ M_i) mod ℓ and a random 128-bit z_i per
// signature, into the cofactored batch equation
//
//	[8]( [−Σ z_i s_i]B + Σ [z_i]R_i + Σ_A [−Σ_{i: A_i = A} z_i k_i](−A) ) = 0
//
// that is [8](Σ z_i (R_i + [k_i]A_i − [s_i]B)) = 0, which holds when every
// signature satisfies the ZIP-215 equation [8][s_i]B = [8](R_i + [k_i]A_i)
// and otherwise holds with probability at most about 2⁻¹²⁸. Grouping the terms
// by key leaves n + K + 1 points for n signatures by K keys (instead of
// 2n + 1), and each −A comes expanded from NewVerifier.
type batchEquation struct {
	rnd  []byte               // 16 random bytes per signature, read in one call
	z    []scalar.Scalar      // z_i
	r    []curve.EdwardsPoint // R_i
	zs   scalar.Scalar        // Σ z_i s_i
	keys []*verKey            // the distinct keys
	zk   []scalar.Scalar      // Σ z_i k_i by key
	h    hash.Hash            // SHA-512
}

// init prepares the equation for at most n signatures.
func (e *batchEquation) init(n int) {
	e.rnd = make([]byte, 16*n)
	// crypto/rand.Read never fails; it always fills the buffer.
	_, _ = rand.Read(e.rnd)
	e.z = make([]scalar.Scalar, 0, n)
	e.r = make([]curve.EdwardsPoint, 0, n)
	e.h = sha512.New()
}

// add adds one signature to the equation and reports whether it could: S
// must be canonical (below ℓ) and R and the key must decode to points
// (non-canonical encodings and small-order points are accepted, as under
// ZIP-215).
func (e *batchEquation) add(job *sigJob) bool {
	if job.vk.negA == nil {
		return false
	}
	var s scalar.Scalar
	if _, err := s.SetCanonicalBytes(job.sig[32:]); err != nil {
		return false
	}
	var enc curve.CompressedEdwardsY
	if _, err := enc.SetBytes(job.sig[:32]); err != nil {
		return false
	}
	var r curve.EdwardsPoint
	if _, err := r.SetCompressedY(&enc); err != nil {
		return false
	}

	var digest [sha512.Size]byte
	e.h.Reset()
	e.h.Write(job.sig[:32])
	e.h.Write(job.vk.pub)
	e.h.Write(job.msg)
	var k scalar.Scalar
	if _, err := k.SetBytesModOrderWide(e.h.Sum(digest[:0])); err != nil {
		return false
	}

	// z is 128 random bits, never 0 (0 becomes 2¹²⁸); being below ℓ, it
	// needs no reduction.
	var zb [scalar.ScalarSize]byte
	copy(zb[:16], e.rnd[16*len(e.z):])
	if zb == [scalar.ScalarSize]byte{} {
		zb[16] = 1
	}
	var z scalar.Scalar
	if _, err := z.SetBits(zb[:]); err != nil {
		return false
	}

	e.z = append(e.z, z)
	e.r = append(e.r, r)
	var t scalar.Scalar
	e.zs.Add(&e.zs, t.Mul(&z, &s))
	ki := slices.Index(e.keys, job.vk)
	if ki < 0 {
		ki = len(e.keys)
		e.keys = append(e.keys, job.vk)
		e.zk = append(e.zk, scalar.Scalar{})
	}
	e.zk[ki].Add(&e.zk[ki], t.Mul(&z, &k))
	return true
}

// holds computes the equation over the signatures added (at least one) and
// reports whether it holds.
func (e *batchEquation) holds() bool {
	// Static points: B and each −A, expanded once; dynamic ones: each R_i.
	coeffs := make([]scalar.Scalar, 1+len(e.keys))
	ss := make([]*scalar.Scalar, len(coeffs))
	sp := make([]*curve.ExpandedEdwardsPoint, len(coeffs))
	coeffs[0].Neg(&e.zs)
	ss[0], sp[0] = &coeffs[0], basepoint
	for i, k := range e.keys {
		coeffs[1+i].Neg(&e.zk[i])
		ss[1+i], sp[1+i] = &coeffs[1+i], k.negA
	}
	ds := make([]*scalar.Scalar, len(e.z))
	dp := make([]*curve.EdwardsPoint, len(e.r))
	for i := range e.z {
		ds[i], dp[i] = &e.z[i], &e.r[i]
	}
	var sum curve.EdwardsPoint
	return sum.ExpandedMultiscalarMulVartime(ss, sp, ds, dp).IsSmallOrder()
}
