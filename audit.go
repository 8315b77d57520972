package healthcode

import (
	"context"
	"strconv"
	"time"
)

// AuditRecord is one entry of the append-only, hash-chained audit log. It is
// written in the same transaction as the change it records.
type AuditRecord struct {
	ID         int64
	Actor      string // the actor's subject: "staff:12", "resident:7", "system"
	ActorName  string
	Role       Role   // the role that allowed the action ("" for residents acting on themselves)
	RegionCode string // the region the action happened in
	Action     string // "staff.create", "grant.revoke", "person.unmask", ...
	Object     string // "staff:12", "grant:3", "person:99", ...
	Reason     string // why: a ticket id, a purpose, a free text
	Detail     map[string]any
	At         time.Time
	PrevHash   string // hex SHA-256 of the previous record ("" for the first)
	Hash       string // hex SHA-256 over this record's fields and PrevHash
}

// AuditFilter selects audit records to list.
type AuditFilter struct {
	First int
	After int64 // keyset cursor: records with a smaller id (newest first)
	// Optional filters; zero values select everything.
	Action string    // the action, or its prefix when it ends with "." ("code.")
	Actor  string    // the actor's subject ("staff:12") or name (username)
	Object string    // the object ("person:99")
	Reason string    // a prefix of the reason ("area_risk:4")
	Region string    // records inside this region
	From   time.Time // at or after
	To     time.Time // before
}

// AuditService reads and checks the audit log. Writing happens inside the
// storage transactions of the changes themselves.
type AuditService interface {
	// ListAudit returns records in regions inside the caller's audit.read
	// regions, newest first. Errors: UNAUTHENTICATED, FORBIDDEN.
	ListAudit(ctx context.Context, filter AuditFilter) ([]*AuditRecord, bool, error)
	// VerifyAuditChain walks the whole chain as `healthcode audit verify`
	// does, for callers with audit.read at the province (the chain is one
	// for the whole platform). Errors: UNAUTHENTICATED, FORBIDDEN.
	VerifyAuditChain(ctx context.Context) (AuditVerification, error)
}

// AuditAnchor is a signed checkpoint of the audit chain's head, published
// outside the database (the key directory's audit-checkpoints.json, served at
// /.well-known/healthcode/audit-checkpoints.json): whoever can rewrite the
// database but not the key directory cannot delete the newest records, or
// rewrite the chain, without `healthcode audit verify` noticing.
type AuditAnchor struct {
	Seq  int64     `json:"seq"`  // the id of the newest record at the time
	Hash string    `json:"hash"` // that record's hash
	At   time.Time `json:"at"`   // when the anchor was signed
	Kid  string    `json:"kid"`  // the signing key (the province's key ring)
	Sig  string    `json:"sig"`  // base64url Ed25519 signature over Payload()
}

// Payload returns the bytes an anchor's signature covers. Any caller may use
// it.
func (a AuditAnchor) Payload() []byte {
	return []byte("healthcode-audit-anchor/1\n" + strconv.FormatInt(a.Seq, 10) + "\n" + a.Hash + "\n" +
		a.At.UTC().Format(time.RFC3339Nano))
}

// AuditAnchorer signs and publishes the audit chain's head. Only the workers
// (the periodic audit:anchor task) and operators call it.
type AuditAnchorer interface {
	// AnchorAudit signs the current head of the chain and appends the anchor
	// to the published list; an empty chain is anchored as seq 0. Errors:
	// storage and file-system errors (retried by the task).
	AnchorAudit(ctx context.Context) (*AuditAnchor, error)
}

// AuditVerification is the result of checking the hash chain.
type AuditVerification struct {
	// Anchors is how many published anchors were checked against the chain
	// (their signatures verified); Anchored is the seq of the newest one.
	Anchors  int
	Anchored int64
	Checked  int64
	// BrokenID is the id of the first record whose hash or link does not
	// match, 0 when the chain is intact.
	BrokenID int64
	Problem  string
	// CheckedAt is when the walk ended.
	CheckedAt time.Time
}
