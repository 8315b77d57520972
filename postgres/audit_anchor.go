package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/credential"
)

// AuditAnchorFile is the name of the published anchors in the key directory.
const AuditAnchorFile = "audit-checkpoints.json"

// MaxAuditAnchors bounds the published list: the newest are kept (at one
// anchor every ten minutes, about 70 days).
const MaxAuditAnchors = 10000

// AuditAnchors signs the audit chain's head with the province's key ring and
// keeps the signed anchors in a file of the key directory, which the
// database's superuser cannot rewrite (healthcode.AuditAnchorer). The file is
// served at /.well-known/healthcode/audit-checkpoints.json, so copies exist
// wherever it was fetched. One process writes it at a time (the periodic
// task runs once per slot; the writes of one process are serialised).
type AuditAnchors struct {
	DB   *DB
	Ring *credential.KeyRing
	// Path is the file (usually <key dir>/audit-checkpoints.json).
	Path string

	mu sync.Mutex
}

// AuditAnchorsFile is the published document.
type AuditAnchorsFile struct {
	Issuer  string                   `json:"issuer"`
	Anchors []healthcode.AuditAnchor `json:"anchors"` // oldest first
}

// AnchorAudit implements healthcode.AuditAnchorer.
func (a *AuditAnchors) AnchorAudit(ctx context.Context) (*healthcode.AuditAnchor, error) {
	var anchor healthcode.AuditAnchor
	err := a.DB.Pool.QueryRow(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&anchor.Seq, &anchor.Hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read audit head: %w", err)
	}
	anchor.At = a.DB.now().UTC()
	kid, sig := a.Ring.SignDetached(anchor.Payload())
	anchor.Kid, anchor.Sig = kid, base64.RawURLEncoding.EncodeToString(sig)

	a.mu.Lock()
	defer a.mu.Unlock()
	doc, err := a.read()
	if err != nil {
		return nil, err
	}
	if n := len(doc.Anchors); n > 0 && doc.Anchors[n-1].Seq > anchor.Seq {
		// The chain is shorter than it was when last anchored: never
		// overwrite the evidence; verify reports it.
		return nil, fmt.Errorf("audit chain head %d is behind the last anchor %d: records were deleted", anchor.Seq, doc.Anchors[n-1].Seq)
	}
	doc.Issuer = a.Ring.Issuer()
	doc.Anchors = append(doc.Anchors, anchor)
	if len(doc.Anchors) > MaxAuditAnchors {
		doc.Anchors = doc.Anchors[len(doc.Anchors)-MaxAuditAnchors:]
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, err
	}
	tmp := a.Path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, fmt.Errorf("write audit anchors: %w", err)
	}
	if err := os.Rename(tmp, a.Path); err != nil {
		return nil, fmt.Errorf("publish audit anchors: %w", err)
	}
	return &anchor, nil
}

func (a *AuditAnchors) read() (AuditAnchorsFile, error) {
	var doc AuditAnchorsFile
	b, err := os.ReadFile(a.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return doc, fmt.Errorf("read audit anchors: %w", err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return doc, fmt.Errorf("read audit anchors %s: %w", filepath.Base(a.Path), err)
	}
	return doc, nil
}

// Published returns the published document (an empty list before the first
// anchor), for the well-known endpoint. Any caller may use it. Errors: file
// errors.
func (a *AuditAnchors) Published(context.Context) (AuditAnchorsFile, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	doc, err := a.read()
	if doc.Anchors == nil {
		doc.Anchors = []healthcode.AuditAnchor{}
	}
	doc.Issuer = a.Ring.Issuer()
	return doc, err
}

// Load returns the anchors whose signatures verify with the ring, and one
// problem per anchor that does not (a forged or damaged entry, or one signed
// by a key the ring no longer holds). `healthcode audit verify` calls it
// before VerifyAuditAnchored. Errors: file errors.
func (a *AuditAnchors) Load() (valid []healthcode.AuditAnchor, problems []string, err error) {
	a.mu.Lock()
	doc, err := a.read()
	a.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	for _, an := range doc.Anchors {
		sig, derr := base64.RawURLEncoding.DecodeString(an.Sig)
		if derr == nil {
			derr = a.Ring.VerifyDetached(an.Kid, an.Payload(), sig)
		}
		if derr != nil {
			problems = append(problems, fmt.Sprintf("anchor of record %d at %s: %s", an.Seq, an.At.Format("2006-01-02T15:04:05Z07:00"),
				healthcode.ErrorMessage(derr)))
			continue
		}
		valid = append(valid, an)
	}
	return valid, problems, nil
}
