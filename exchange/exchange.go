// Package exchange carries data to and from other platforms: the daily push
// of codes to the national government service platform (SPEC §7), its HTTP
// client, and a stub receiver implementing the same interface for
// development and tests (`healthcode national-stub`).
package exchange

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Record is one code in a push: no ID number, phone or address, only the
// opaque code id, the masked name, the region, the colour and when it changed.
type Record struct {
	CodeID     string    `json:"codeId"`
	MaskedName string    `json:"maskedName"`
	RegionCode string    `json:"regionCode"`
	Colour     string    `json:"colour"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Batch is one signed batch of a day's push.
type Batch struct {
	BatchID string   `json:"batchId"` // "<day>-<seq>": the receiver deduplicates on it
	Issuer  string   `json:"issuer"`  // "61"
	Day     string   `json:"day"`     // YYYY-MM-DD, China Standard Time
	Seq     int      `json:"seq"`
	Of      int      `json:"of"`
	Records []Record `json:"records"`
}

// Receipt is the receiver's acknowledgement of a batch.
type Receipt struct {
	BatchID  string    `json:"batchId"`
	Receipt  string    `json:"receipt"`
	Received time.Time `json:"received"`
	Records  int       `json:"records"`
}

// Sender delivers a batch to the national platform and returns its receipt.
// The HTTP client is the real adapter; tests use the stub through it.
type Sender interface {
	Send(ctx context.Context, body []byte, signature string) (*Receipt, error)
}

// Sign returns the detached Ed25519 signature of a batch body, base64url.
func Sign(key ed25519.PrivateKey, body []byte) string {
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, body))
}

// Digest is the hex SHA-256 of a batch body.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Client posts batches to the configured national endpoint
// (NATIONAL_PUSH_URL) with the signature in X-Signature and the key id in
// X-Key-ID. Any non-2xx answer is an error to retry.
type Client struct {
	URL   string
	KeyID string
	HTTP  *http.Client
}

// Send implements Sender.
func (c *Client) Send(ctx context.Context, body []byte, signature string) (*Receipt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("national push request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", signature)
	req.Header.Set("X-Key-ID", c.KeyID)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("national push: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("national push: status %d", resp.StatusCode)
	}
	var r Receipt
	if err := json.Unmarshal(b, &r); err != nil || r.Receipt == "" {
		return nil, errors.New("national push: malformed receipt")
	}
	return &r, nil
}

// Stub is the development receiver of the national platform: it verifies
// each batch's signature with the platform's public key, stores the batch
// once by its id (a repeated batch gets the same receipt), and can be told to
// fail the next N requests or to answer late.
type Stub struct {
	PublicKey ed25519.PublicKey
	mu        sync.Mutex
	failNext  int
	Delay     time.Duration
	batches   map[string]Batch
	receipts  map[string]Receipt
	Now       func() time.Time
}

// NewStub returns a stub verifying with key.
func NewStub(key ed25519.PublicKey) *Stub {
	return &Stub{PublicKey: key, batches: map[string]Batch{}, receipts: map[string]Receipt{}, Now: time.Now}
}

// FailNext makes the next n requests fail with 503.
func (s *Stub) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// Records returns how many distinct records the stub holds.
func (s *Stub) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.batches {
		n += len(b.Records)
	}
	return n
}

// Batches returns how many distinct batches the stub holds.
func (s *Stub) Batches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batches)
}

// ServeHTTP receives one batch.
func (s *Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.unavailable() {
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	rc, status, msg := s.receive(body, r.Header.Get("X-Signature"))
	if status != http.StatusOK {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rc)
}

// Send implements Sender in process: it receives the batch as ServeHTTP
// does, without HTTP (the demo province pushes to a stub of its own). Any
// caller may use it. Errors: the refusals of ServeHTTP, with their status.
func (s *Stub) Send(ctx context.Context, body []byte, signature string) (*Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.unavailable() {
		return nil, fmt.Errorf("national stub: status %d: temporarily unavailable", http.StatusServiceUnavailable)
	}
	rc, status, msg := s.receive(body, signature)
	if status != http.StatusOK {
		return nil, fmt.Errorf("national stub: status %d: %s", status, msg)
	}
	return &rc, nil
}

// unavailable waits Delay and reports whether this request is one of the
// failures FailNext asked for.
func (s *Stub) unavailable() bool {
	if s.Delay > 0 {
		time.Sleep(s.Delay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return true
	}
	return false
}

// receive verifies and stores one batch (once by its id) and returns its
// receipt, or the HTTP status and message of a refusal.
func (s *Stub) receive(body []byte, signature string) (Receipt, int, string) {
	sig, err := base64.RawURLEncoding.DecodeString(signature)
	if err != nil || !ed25519.Verify(s.PublicKey, body, sig) {
		return Receipt{}, http.StatusUnauthorized, "bad signature"
	}
	var b Batch
	if err := json.Unmarshal(body, &b); err != nil || b.BatchID == "" {
		return Receipt{}, http.StatusBadRequest, "bad batch"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rc, seen := s.receipts[b.BatchID]
	if !seen {
		rc = Receipt{BatchID: b.BatchID, Receipt: "NR-" + Digest(body)[:16], Received: s.Now().UTC(), Records: len(b.Records)}
		s.receipts[b.BatchID], s.batches[b.BatchID] = rc, b
	}
	return rc, http.StatusOK, ""
}
