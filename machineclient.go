package healthcode

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// API keys and medical institutions' machine clients (issue 12 §1,
// docs/exchange.md, docs/security-colour.md).
//
// A city sub-system's key (SUBSYSTEM) pushes records of its city; a record
// that would make a person red or lift a red waits for a second person. A
// registered, ACTIVE medical institution's machine client key
// (MEDICAL_CLIENT) records medical events of the persons living in the
// institution's county directly: because it can make people red alone, it is
// in force only after a different natural person administering the parent
// region (the city) approved it.

// API key kinds.
const (
	APIKeySubsystem     = "SUBSYSTEM"
	APIKeyMedicalClient = "MEDICAL_CLIENT"
)

// MaxMedicalEventBatch bounds the records of one machine client request.
const MaxMedicalEventBatch = 1000

// APIKey is an API key as administrators see it: never its secret.
type APIKey struct {
	ID   int64
	Name string
	// Kind is SUBSYSTEM or MEDICAL_CLIENT.
	Kind string
	// RegionCode is where the key acts: a sub-system's city, or the county
	// a machine client records for (the county containing the institution).
	RegionCode      string
	RegionName      string
	InstitutionID   int64 // MEDICAL_CLIENT only
	InstitutionName string
	CreatedBy       string // subject
	CreatedAt       time.Time
	// Pending: a machine client key waiting for its second approver.
	Pending    bool
	ApprovedBy string // subject; "" unless approved
	ApprovedAt *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	RevokedBy  string // subject; "" unless revoked
}

// APIKeyFilter selects API keys to list.
type APIKeyFilter struct {
	Region      string // default: every region of the caller's apikey.manage grants
	PendingOnly bool
}

// MedicalEventRecord is one record of a machine client's request: a medical
// event of a person identified by document, under the institution's own
// record id (the idempotency key).
type MedicalEventRecord struct {
	Line      int // position in the request, 1-based
	RecordID  string
	DocType   DocType
	DocNumber string
	Kind      string // one of MedicalKinds
	At        time.Time
	Note      string
	// Invalid is set by the transport for a record it could not read
	// (INVALID with a Chinese message naming the field).
	Invalid error
}

// MedicalEventMaxAge bounds how far back a machine client may date an event.
const MedicalEventMaxAge = 30 * 24 * time.Hour

var medicalRecordIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// Validate checks the record's own fields at now, in the order of the
// record (the transport's Invalid first, then the record id, the document,
// the kind, the time and the note), and normalises the document number and
// the note in place; whether the person exists and lives in the key's county
// needs the database, and MachineClientService checks it. Any caller may
// call it. Errors: INVALID naming the field (in the wire format's words).
func (r *MedicalEventRecord) Validate(now time.Time) error {
	if r.Invalid != nil {
		return r.Invalid
	}
	if !medicalRecordIDRE.MatchString(r.RecordID) {
		return FieldError("recordId", "记录编号须为 1 至 64 位字母、数字或 . _ : -，且以字母或数字开头")
	}
	doc, err := NormalizeDocument(r.DocType, r.DocNumber, now)
	if err != nil {
		return err
	}
	r.DocNumber = doc
	if !slices.Contains(MedicalKinds, r.Kind) {
		return FieldError("kind", "医学状态应为 %s 之一", strings.Join(MedicalKinds, "、"))
	}
	if r.At.IsZero() || r.At.After(now.Add(time.Hour)) || r.At.Before(now.Add(-MedicalEventMaxAge)) {
		return FieldError("at", "发生时间应在最近 30 天内，且不晚于当前时间")
	}
	r.Note = strings.TrimSpace(r.Note)
	if utf8.RuneCountInString(r.Note) > 200 || strings.ContainsRune(r.Note, 0) {
		return FieldError("note", "备注不超过 200 个字")
	}
	return nil
}

// Statuses and reasons of a machine client's record.
const (
	MedicalRecordAccepted  = "ACCEPTED"
	MedicalRecordDuplicate = "DUPLICATE" // the record id was recorded before with the same content
	MedicalRecordRejected  = "REJECTED"

	RejectOutsideJurisdiction = "OUTSIDE_JURISDICTION" // no such person living in the key's county
	RejectRecordIDReused      = "RECORD_ID_REUSED"     // the record id was recorded before with other content
)

// MedicalEventResult is the answer for one record, in order.
type MedicalEventResult struct {
	Line     int
	RecordID string
	Status   string
	Reason   string // REJECTED: INVALID, OUTSIDE_JURISDICTION, DUPLICATE_IN_BATCH, RECORD_ID_REUSED
	Message  string // REJECTED, in Chinese
	EventID  int64  // the medical event (ACCEPTED, DUPLICATE)
	Colour   Colour // the person's colour after the record (ACCEPTED, DUPLICATE)
}

// MedicalEventPushResult is the answer to a machine client's request.
type MedicalEventPushResult struct {
	Records                        []MedicalEventResult
	Accepted, Duplicates, Rejected int
}

// MachineClientService administers API keys and receives the medical events
// of medical institutions' machine clients.
type MachineClientService interface {
	// CreateMachineClientKey requests an API key for the machine client of
	// a registered, ACTIVE medical institution (HOSPITAL, CDC, CLINIC):
	// staff holding apikey.manage at the institution's region. The key,
	// hck_<id>_<secret>, is returned once and authenticates nobody until
	// ApproveAPIKey. Errors: UNAUTHENTICATED, FORBIDDEN (not staff, or no
	// apikey.manage there), NOT_FOUND (unknown institution, or outside the
	// caller's grants), INVALID (name), CONFLICT (not a medical
	// institution, or not ACTIVE).
	CreateMachineClientKey(ctx context.Context, institutionID int64, name string) (key string, id int64, err error)
	// APIKeys lists the API keys whose region lies inside the caller's
	// apikey.manage grants (newest first, at most 500). Errors:
	// UNAUTHENTICATED, FORBIDDEN (not staff, no apikey.manage, or a region
	// outside the grants), INVALID (region).
	APIKeys(ctx context.Context, f APIKeyFilter) ([]*APIKey, error)
	// ApproveAPIKey puts a pending machine client key in force: staff
	// holding apikey.manage at the parent region of the key's county (the
	// city), a different natural person from the requester, with a verified
	// phone. Errors: UNAUTHENTICATED, NOT_FOUND (unknown, or outside the
	// caller's grants), FORBIDDEN (same person, phone not verified, not
	// the parent region's administrator), CONFLICT (not pending, revoked,
	// or the institution is no longer ACTIVE).
	ApproveAPIKey(ctx context.Context, id int64) (*APIKey, error)
	// RevokeAPIKey revokes a key at once (a pending one is thereby
	// refused): staff holding apikey.manage at the key's region. Errors:
	// UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, CONFLICT (already revoked).
	RevokeAPIKey(ctx context.Context, id int64) (*APIKey, error)
	// RecordMedicalEvents records a machine client's medical events, each
	// answered on its own: only a machine client key (MEDICAL_CLIENT) of an
	// ACTIVE institution may call it; a record of a person not living in
	// the key's county is rejected. Accepted events take effect at once.
	// Errors (the whole request): UNAUTHENTICATED, FORBIDDEN (not a machine
	// client key, or the institution is not ACTIVE), INVALID (no record, or
	// more than MaxMedicalEventBatch).
	RecordMedicalEvents(ctx context.Context, records []MedicalEventRecord) (*MedicalEventPushResult, error)
}
