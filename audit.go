package healthcode

import (
	"context"
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

// AuditVerification is the result of checking the hash chain.
type AuditVerification struct {
	Checked int64
	// BrokenID is the id of the first record whose hash or link does not
	// match, 0 when the chain is intact.
	BrokenID int64
	Problem  string
	// CheckedAt is when the walk ended.
	CheckedAt time.Time
}
