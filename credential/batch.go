package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"hash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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

// batchChunk is how many signatures one batch equation checks at most:
// large enough to amortise the multi-scalar multiplication, small enough
// that bad signatures (which make their chunk bisected, see bisector) cost a
// bounded amount and that the chunks spread over the cores.
// voi multiplies up to 190 terms with Straus's method and more with
// Pippenger's, whose cost per term falls as terms are added; measured on
// 1,000 tokens by one key, the CPU time per signature (parsing included) is
// about 8.4 µs in chunks of 64 to 188 (Straus), 7.4 µs in chunks of 250 and
// 7.0 µs in chunks of 500 (Pippenger), so an upload of 1,000 scans makes
// one chunk per core on two cores. The price of a bad signature is paid by
// its chunk: one costs about 2.7 ms of CPU more than the 2.7 ms of a chunk
// of 500 good signatures, and many at most about 8 % more than checking the
// 500 one by one with crypto/ed25519 (about 21 ms), see bisector.
const batchChunk = 500

// minChunk is the fewest signatures a chunk is given to spread a small batch
// over more cores: below it, the fixed cost of an equation outweighs the gain.
const minChunk = 16

// minParse is the fewest tokens a goroutine is given to parse.
const minParse = 64

// VerifyBatch verifies many tokens at once, on every core, with the same
// checks and results as calling Verify on each (the scan-upload service
// calls it for a batch of scans). Signatures are checked in chunks, each
// with one Ed25519 batch equation whose terms are grouped by key (nearly all
// scans carry the same provincial key), several times faster per signature
// than one by one. A chunk whose batch equation fails is bisected: its
// halves are checked with equations of their own, and the halves that fail
// are split again, down to a few signatures checked one at a time with
// crypto/ed25519, as is a signature that cannot enter an equation (S not
// canonical, R not a point); a signature is rejected only by crypto/ed25519,
// so a bad signature is reported exactly as Verify reports it. A good
// signature is accepted by a batch equation under ZIP-215 rules, which
// differ from crypto/ed25519 only on non-canonical encodings and small-order
// components that only the holder of the private key could put in a valid
// signature.
//
// VerifyBatch is StartBatch followed by Wait, except that it verifies on
// every core.
func (v *Verifier) VerifyBatch(items []BatchItem, skew time.Duration) []BatchResult {
	return v.start(items, skew, runtime.GOMAXPROCS(0)).Wait()
}

// PendingBatch is a batch whose signatures are being verified in the
// background. It is safe for concurrent use: Unverified and Wait may be
// called any number of times from any goroutines, and each call returns a
// new slice with claims of its own.
type PendingBatch struct {
	claims []Claims // by item: the claims as parsed when errs[i] is nil
	errs   []error  // by item: the error of a check other than the signature
	sig    []int    // by item: the index of its signature in ok, -1 if none is checked
	ok     []bool   // by checked signature: good; written by the workers until done closes
	done   chan struct{}
}

// StartBatch parses every token (all the checks of Verify except the signature,
// i.e. including exp, iat and revocation) and starts verifying the signatures
// on every core in the background. It returns at once.
//
// Parsing is done before it returns, spread over the cores for a large batch;
// hashing, decoding R and the batch equations are left to the background.
// StartBatch keeps no reference to items.
//
// The background leaves one core (GOMAXPROCS, if more than one) to the
// caller: its goroutine is doing I/O meanwhile, and with every P busy
// verifying it would wait for the scheduler to preempt a worker (up to
// 10 ms) each time an answer arrived.
func (v *Verifier) StartBatch(items []BatchItem, skew time.Duration) *PendingBatch {
	return v.start(items, skew, max(1, runtime.GOMAXPROCS(0)-1))
}

// start is StartBatch with workers goroutines verifying.
func (v *Verifier) start(items []BatchItem, skew time.Duration, workers int) *PendingBatch {
	n := len(items)
	p := &PendingBatch{
		claims: make([]Claims, n),
		errs:   make([]error, n),
		sig:    make([]int, n),
		done:   make(chan struct{}),
	}
	jobs := make([]sigJob, n)

	// Parse, in contiguous shares, one per goroutine.
	shares := max(1, min(runtime.GOMAXPROCS(0), n/minParse)) // the caller waits for this part
	var wg sync.WaitGroup
	for w := 1; w < shares; w++ {
		wg.Go(func() { v.parseRange(items, w*n/shares, (w+1)*n/shares, skew, p, jobs) })
	}
	v.parseRange(items, 0, n/shares, skew, p, jobs)
	wg.Wait()

	// Keep the signatures to check (compacting jobs in place), and cut them
	// into chunks.
	checked := jobs[:0]
	for i := range p.sig {
		if p.sig[i] < 0 {
			continue
		}
		p.sig[i] = len(checked)
		checked = append(checked, jobs[i])
	}
	p.ok = make([]bool, len(checked))
	bounds := chunkBounds(len(checked), workers)
	chunks := len(bounds) - 1
	if chunks <= 0 {
		close(p.done)
		return p
	}
	var next, running atomic.Int32
	running.Store(int32(min(workers, chunks)))
	for range min(workers, chunks) {
		go func() {
			for c := int(next.Add(1)) - 1; c < chunks; c = int(next.Add(1)) - 1 {
				lo, hi := bounds[c], bounds[c+1]
				checkSigs(checked[lo:hi], p.ok[lo:hi])
			}
			if running.Add(-1) == 0 {
				close(p.done)
			}
		}()
	}
	return p
}

// parseRange runs the checks before the signature and after it on items
// lo to hi-1, filling p.claims, p.errs and jobs, and setting p.sig to 0 for
// an item whose signature is to be checked, -1 otherwise. The signing
// inputs are copied into one buffer for the range.
func (v *Verifier) parseRange(items []BatchItem, lo, hi int, skew time.Duration, p *PendingBatch, jobs []sigJob) {
	size := 0
	for _, it := range items[lo:hi] {
		if len(it.Token) <= MaxTokenSize {
			size += len(it.Token)
		}
	}
	buf := make([]byte, 0, size)
	var ps parsed
	for i := lo; i < hi; i++ {
		p.sig[i] = -1
		tok, at := items[i].Token, items[i].At
		if len(tok) > MaxTokenSize {
			p.errs[i] = fail(ReasonMalformed, "token larger than 2 KiB")
			continue
		}
		start := len(buf)
		buf = append(buf, tok...)
		tb := buf[start:len(buf):len(buf)]
		if err := v.parse(tb, at, skew, &ps); err != nil {
			p.errs[i] = err
			continue
		}
		p.sig[i] = 0
		jobs[i] = sigJob{msg: tb[:ps.inputLen], sig: ps.sig, vk: ps.vk}
		if err := v.finish(&ps, at, skew, &p.claims[i]); err != nil {
			p.errs[i], p.claims[i] = err, Claims{}
		}
	}
}

// chunkBounds cuts n signatures into chunks of about equal size, at most
// batchChunk each and a multiple of workers of them, but no more than makes
// chunks of minChunk; chunk c is [bounds[c], bounds[c+1]).
func chunkBounds(n, workers int) (bounds []int) {
	if n == 0 {
		return nil
	}
	chunks := (n + batchChunk - 1) / batchChunk
	chunks = (chunks + workers - 1) / workers * workers
	chunks = max(1, min(chunks, n/minChunk))
	bounds = make([]int, chunks+1)
	for c := range bounds {
		bounds[c] = c * n / chunks
	}
	return bounds
}

// Unverified returns, for each item, the claims as parsed before their signature
// is checked, or the *VerifyError of a check other than the signature. An item with
// an error here also fails in Wait (possibly with another reason, e.g. BAD_SIGNATURE
// first, exactly as Verify orders reasons). Callers may only act on these claims
// provisionally, undoing what they did for items that Wait rejects.
func (p *PendingBatch) Unverified() []BatchResult {
	out := make([]BatchResult, len(p.errs))
	for i := range out {
		if out[i].Err = p.errs[i]; out[i].Err == nil {
			c := p.claims[i]
			out[i].Claims = &c
		}
	}
	return out
}

// Wait blocks until the signatures are checked and returns exactly what VerifyBatch returns.
func (p *PendingBatch) Wait() []BatchResult {
	<-p.done
	out := make([]BatchResult, len(p.errs))
	for i := range out {
		switch {
		case p.sig[i] >= 0 && !p.ok[p.sig[i]]:
			out[i].Err = fail(ReasonBadSignature, "")
		case p.errs[i] != nil:
			out[i].Err = p.errs[i]
		default:
			c := p.claims[i]
			out[i].Claims = &c
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

// bisectLeaf is the most signatures known to hold a bad one that are checked
// one by one rather than split in two for two smaller batch equations. An
// equation has a fixed cost (about 29 µs for 2 signatures, 35 µs for 4,
// 48 µs for 8, against 35 µs per signature for crypto/ed25519); measured on
// chunks of 500 with one bad signature, the chunk costs about 5.4 ms of CPU
// with leaves of 4, 5.5 ms with 8, 5.6 ms with 2 or 16 and 6.1 ms with 32.
const bisectLeaf = 4

// checkSigs checks the signatures of jobs, writing ok[j] for jobs[j]. A job
// that is not batchable (S not canonical, R or the key not a point) is
// checked one by one with crypto/ed25519 without failing the others; the
// batchable ones, when there are at least two, are checked with one batch
// equation, which accepts them all if it holds, and by bisection if it fails
// (see bisector), so that a few bad signatures cost a few smaller equations
// rather than checking the whole chunk one by one.
//
// It returns how many signatures it checked one by one.
func checkSigs(jobs []sigJob, ok []bool) (single int) {
	terms := make([]batchTerm, 0, len(jobs))
	h := sha512.New()
	for j := range jobs {
		var t batchTerm
		if t.prepare(&jobs[j], j, h) {
			terms = append(terms, t)
			continue
		}
		ok[j] = verifyOne(&jobs[j])
		single++
	}
	b := bisector{jobs: jobs, ok: ok, budget: len(terms)}
	if len(terms) >= 2 && equationHolds(terms) {
		b.accept(terms)
		return single
	}
	b.bisect(terms)
	return single + b.single
}

// bisector finds the bad signatures among the batchable ones of a chunk
// whose equation failed: it splits them in two, checks each half with an
// equation of its own, and splits again each half whose equation fails,
// down to bisectLeaf signatures, checked one by one with crypto/ed25519. It
// never accepts a signature that no equation and no crypto/ed25519 check
// accepted.
//
// The equations that fail are wasted work, and budget bounds it: they may
// hold at most as many terms in all as the chunk has batchable signatures
// (an equation that holds is never wasted: it accepts its signatures for
// less than checking them one by one would cost). That is always enough to
// find one bad signature, which wastes at most n/2 + n/4 + … terms, but runs
// out soon with several: what the budget cannot split is checked one by one.
// So a chunk full of bad signatures, the costliest case, costs at most those
// n terms (3 to 6 µs each) more than checking it all one by one as was done
// before bisection. Measured on chunks of 500 signatures, about 2.7 ms of
// CPU when all are good: 5.4 ms with one bad, 16 ms with two at random
// places, 20.5 ms with four and 22.5 ms with eight or all, against about
// 21 ms for any number before. Twice the budget would bring two bad signatures
// down to 7.5 ms and four to 14 ms, but make a chunk full of them cost
// 24.5 ms.
type bisector struct {
	jobs   []sigJob
	ok     []bool
	budget int // how many more terms failing equations may hold
	single int // how many signatures were checked one by one
}

// bisect checks terms whose equation failed (or would fail: see below). It
// checks them one by one if they are at most bisectLeaf or the budget cannot
// pay for the failure of both halves; otherwise it checks each half with an
// equation and bisects each half that fails.
func (b *bisector) bisect(terms []batchTerm) {
	if len(terms) <= bisectLeaf || len(terms) > b.budget {
		for i := range terms {
			j := terms[i].j
			b.ok[j] = verifyOne(&b.jobs[j])
		}
		b.single += len(terms)
		return
	}
	half := len(terms) / 2
	first, second := terms[:half], terms[half:]
	switch {
	case b.holds(first):
		// The second half holds the bad signature that failed the whole
		// (but for a chance of about 2⁻¹²⁸): its own equation would fail.
		b.bisect(second)
	case b.holds(second):
		b.bisect(first)
	default:
		b.bisect(first)
		b.bisect(second)
	}
}

// holds checks terms with an equation of their own: it accepts them all if
// it holds, and takes them from the budget if it fails.
func (b *bisector) holds(terms []batchTerm) bool {
	if equationHolds(terms) {
		b.accept(terms)
		return true
	}
	b.budget -= len(terms)
	return false
}

// accept marks the signatures of terms good.
func (b *bisector) accept(terms []batchTerm) {
	for i := range terms {
		b.ok[terms[i].j] = true
	}
}

// verifyOne checks one signature exactly as Verify does.
func verifyOne(job *sigJob) bool {
	return ed25519.Verify(job.vk.pub, job.msg, job.sig[:])
}

// batchTerm is what a batchable signature brings to any batch equation, all
// but its random z: prepared once per signature and used by every equation
// that holds it, the chunk's and, when that fails, its halves'.
type batchTerm struct {
	j  int                // the index of the signature's job
	vk *verKey            // the key A
	s  scalar.Scalar      // S, canonical
	k  scalar.Scalar      // k = SHA-512(R ‖ A ‖ M) mod ℓ
	r  curve.EdwardsPoint // R
}

// prepare sets t for job, the j-th of its chunk, hashing with h, and
// reports whether the signature is batchable: S must be canonical (below ℓ)
// and R and the key must decode to points (non-canonical encodings and
// small-order points are accepted, as under ZIP-215).
func (t *batchTerm) prepare(job *sigJob, j int, h hash.Hash) bool {
	if job.vk.negA == nil {
		return false
	}
	if _, err := t.s.SetCanonicalBytes(job.sig[32:]); err != nil {
		return false
	}
	var enc curve.CompressedEdwardsY
	if _, err := enc.SetBytes(job.sig[:32]); err != nil {
		return false
	}
	if _, err := t.r.SetCompressedY(&enc); err != nil {
		return false
	}
	var digest [sha512.Size]byte
	h.Reset()
	h.Write(job.sig[:32])
	h.Write(job.vk.pub)
	h.Write(job.msg)
	if _, err := t.k.SetBytesModOrderWide(h.Sum(digest[:0])); err != nil {
		return false
	}
	t.j, t.vk = j, job.vk
	return true
}

// equationHolds reports whether the batch equation over terms (at least one)
// holds, with random z_i of its own.
func equationHolds(terms []batchTerm) bool {
	var e batchEquation
	e.init(len(terms))
	for i := range terms {
		e.add(&terms[i])
	}
	return e.holds()
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
//
// An equation is used once: its z_i are read from crypto/rand by init and
// never shared with another equation, even one over some of the same
// signatures, so that each equation that holds over a bad signature does so
// by its own chance of about 2⁻¹²⁸, independently of the others.
type batchEquation struct {
	rnd  []byte                // 16 random bytes per signature, read in one call
	z    []scalar.Scalar       // z_i
	r    []*curve.EdwardsPoint // R_i, in the terms added
	zs   scalar.Scalar         // Σ z_i s_i
	keys []*verKey             // the distinct keys
	zk   []scalar.Scalar       // Σ z_i k_i by key
}

// init prepares the equation for at most n signatures.
func (e *batchEquation) init(n int) {
	e.rnd = make([]byte, 16*n)
	// crypto/rand.Read never fails; it always fills the buffer.
	_, _ = rand.Read(e.rnd)
	e.z = make([]scalar.Scalar, 0, n)
	e.r = make([]*curve.EdwardsPoint, 0, n)
}

// add adds a prepared signature to the equation with the next random z. t
// must not change until holds returns.
func (e *batchEquation) add(t *batchTerm) {
	// z is 128 random bits, never 0 (0 becomes 2¹²⁸); being below ℓ, it
	// needs no reduction.
	var zb [scalar.ScalarSize]byte
	copy(zb[:16], e.rnd[16*len(e.z):])
	if zb == [scalar.ScalarSize]byte{} {
		zb[16] = 1
	}
	var z scalar.Scalar
	_, _ = z.SetBits(zb[:]) // fails only for an input not ScalarSize long

	e.z = append(e.z, z)
	e.r = append(e.r, &t.r)
	var p scalar.Scalar
	e.zs.Add(&e.zs, p.Mul(&z, &t.s))
	ki := slices.Index(e.keys, t.vk)
	if ki < 0 {
		ki = len(e.keys)
		e.keys = append(e.keys, t.vk)
		e.zk = append(e.zk, scalar.Scalar{})
	}
	e.zk[ki].Add(&e.zk[ki], p.Mul(&z, &t.k))
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
	for i := range e.z {
		ds[i] = &e.z[i]
	}
	var sum curve.EdwardsPoint
	return sum.ExpandedMultiscalarMulVartime(ss, sp, ds, e.r).IsSmallOrder()
}
