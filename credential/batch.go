package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"runtime"
	"sync"
	"time"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
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

// voiOptions: ZIP-215 semantics, the only ones batch verification supports.
var voiOptions = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// VerifyBatch verifies many tokens at once, on every core, with the same
// checks and results as calling Verify on each (the scan-upload service
// calls it for a batch of scans). Signatures are checked in chunks with
// Ed25519 batch verification, several times faster per signature than one
// by one; a chunk whose batch equation fails is checked again one signature
// at a time with crypto/ed25519, so a bad signature is reported exactly as
// Verify reports it. A good signature is accepted by the batch equation
// under ZIP-215 rules, which differ from crypto/ed25519 only on
// non-canonical encodings and small-order components that only the holder
// of the private key could put in a valid signature.
func (v *Verifier) VerifyBatch(items []BatchItem, skew time.Duration) []BatchResult {
	out := make([]BatchResult, len(items))
	ps := make([]parsed, len(items))
	tbs := make([][]byte, len(items))
	var sigOK []bool
	var pending []int // items whose signature remains to be checked
	for i := range items {
		if len(items[i].Token) > MaxTokenSize {
			out[i].Err = fail(ReasonMalformed, "token larger than 2 KiB")
			continue
		}
		tbs[i] = []byte(items[i].Token)
		if err := v.parse(tbs[i], items[i].At, skew, &ps[i]); err != nil {
			out[i].Err = err
			continue
		}
		pending = append(pending, i)
	}
	sigOK = make([]bool, len(items))
	check := func(chunk []int) {
		bv := voi.NewBatchVerifierWithCapacity(len(chunk))
		batchable := true
		for _, i := range chunk {
			p := &ps[i]
			if p.vk.expanded == nil {
				batchable = false
				break
			}
			bv.AddExpandedWithOptions(p.vk.expanded, tbs[i][:p.inputLen], p.sig[:], voiOptions)
		}
		if batchable && len(chunk) > 1 && bv.VerifyBatchOnly(rand.Reader) {
			for _, i := range chunk {
				sigOK[i] = true
			}
			return
		}
		for _, i := range chunk {
			p := &ps[i]
			sigOK[i] = ed25519.Verify(p.vk.pub, tbs[i][:p.inputLen], p.sig[:])
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
