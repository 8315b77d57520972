package healthcode

import (
	"context"
	"strings"
	"time"
)

// MaxSubsystemBatch bounds the records of one sub-system push (NDJSON lines
// or GraphQL list elements).
const MaxSubsystemBatch = 1000

// SubsystemRecord is one person's record in a city sub-system's push, in the
// unified format (docs/exchange.md, after the data items of GB/T 38962).
// Package exchange decodes it from NDJSON; the GraphQL layer builds it from
// its input type.
type SubsystemRecord struct {
	// RecordID is the sub-system's own id of the record: the idempotency key
	// per city.
	RecordID    string
	Name        string
	Sex         string // GB/T 2261.1: 0 unknown, 1 male, 2 female, 9 not stated
	Nationality string // ISO 3166-1 alpha-3 (GB/T 2659), e.g. CHN
	DocType     DocType
	DocNumber   string
	Region      string // residence: a community or compound code inside the city
	Address     string
	Phone       string
	Temperature float64
	Symptoms    []string
	Travel      []TravelEntry // region codes or ABROAD:<ISO alpha-2>, with dates
	Colour      Colour        // the colour the sub-system issued
	IssuedAt    time.Time     // when the sub-system issued that colour
	Issuer      string        // the sub-system's id: its city code
}

// Validate checks the record's own fields at now, in this order: the record
// id (1 to 64 visible ASCII characters), the colour, the issue time (given,
// not later than an hour from now), the sex (GB/T 2261.1) and the
// nationality (three capital letters, GB/T 2659). The issuer, the residence
// and the travel are checked against the key's city and the region tree by
// SubsystemService. Any caller may call it. Errors: INVALID naming the field
// (in the wire format's words).
func (r *SubsystemRecord) Validate(now time.Time) error {
	if n := len(r.RecordID); n == 0 || n > 64 || strings.ContainsFunc(r.RecordID, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return FieldError("recordId", "记录编号须为 1 至 64 位可见 ASCII 字符")
	}
	switch r.Colour {
	case Green, Yellow, Red:
	default:
		return FieldError("colour", "码颜色应为 GREEN、YELLOW 或 RED")
	}
	if r.IssuedAt.IsZero() || r.IssuedAt.After(now.Add(time.Hour)) {
		return FieldError("issuedAt", "赋码时间不能为空，也不能晚于当前时间")
	}
	switch r.Sex {
	case "0", "1", "2", "9":
	default:
		return FieldError("sex", "性别应为 GB/T 2261.1 代码 0、1、2 或 9")
	}
	if len(r.Nationality) != 3 || strings.ToUpper(r.Nationality) != r.Nationality {
		return FieldError("nationality", "国籍应为 3 位大写字母代码（GB/T 2659）")
	}
	return nil
}

// Statuses of a record in a push.
const (
	SubsystemAccepted  = "ACCEPTED"  // new, or a changed re-push (Updated)
	SubsystemDuplicate = "DUPLICATE" // the same record with the same content was pushed before
	SubsystemRejected  = "REJECTED"  // see Reason
	// SubsystemPending: the record would make the person red or lift a red;
	// it is a colour change request (RequestID) that takes effect when a
	// health officer of the residence approves it (docs/exchange.md).
	SubsystemPending = "PENDING_APPROVAL"
)

// Reasons of a rejected record.
const (
	RejectInvalid        = "INVALID"             // a field is missing or malformed (Message names it)
	RejectOutsideCity    = "OUTSIDE_CITY"        // the residence region is not inside the key's city
	RejectIssuer         = "ISSUER_MISMATCH"     // issuer is not the key's city
	RejectDuplicateInBat = "DUPLICATE_IN_BATCH"  // the record id appears earlier in the same push
	RejectPersonElse     = "PERSON_OUTSIDE_CITY" // the person is registered as living in another city
)

// Deviation events of a record in a push.
const (
	DeviationOpened    = "OPENED" // the sub-system's colour differs from the unified colour: a new deviation
	DeviationStillOpen = "OPEN"   // it still differs: the open deviation is kept (and brought up to date)
	DeviationClosed    = "CLOSED" // it now agrees: the open deviation is corrected
)

// SubsystemRecordResult is the answer for one record of a push, in order.
type SubsystemRecordResult struct {
	Line     int // NDJSON line (0 for GraphQL pushes)
	RecordID string
	Status   string
	Updated  bool   // ACCEPTED: a changed re-push of a known record
	Reason   string // REJECTED only
	Message  string // REJECTED only, in Chinese
	// UnifiedColour is the colour the unified rules give the person (empty
	// when rejected; the stored one for a duplicate).
	UnifiedColour Colour
	// Deviation is OPENED, OPEN, CLOSED or "" (no deviation involved).
	Deviation string
	// RequestID is the colour change request of a PENDING_APPROVAL record.
	RequestID int64
}

// SubsystemPushResult is the answer to a push.
type SubsystemPushResult struct {
	Records                            []SubsystemRecordResult
	Accepted, Duplicates, Rejected     int
	Pending                            int // PENDING_APPROVAL records
	DeviationsOpened, DeviationsClosed int
}

// Deviation statuses.
const (
	DeviationOpen      = "OPEN"
	DeviationCorrected = "CORRECTED"
)

// Deviation (纠正偏差) is a sub-system code whose colour differs from the
// colour the unified rules give the same person. Person fields and clause
// reasons are empty for callers without person.read at the record's region
// (supervisors see no personal data).
type Deviation struct {
	ID              int64
	CityCode        string
	RecordID        string
	RegionCode      string
	PersonID        int64  // 0 when hidden
	MaskedName      string // "" when hidden
	SubsystemColour Colour
	UnifiedColour   Colour
	// Clauses are the unified rules' clauses (GREEN: the clause G) with
	// their Chinese reason.
	Clauses        []CodeClause
	RuleSetVersion string
	OpenedAt       time.Time
	CorrectedAt    *time.Time
	CorrectedBy    string
}

// Status returns OPEN or CORRECTED (from CorrectedAt). Any caller may use
// it; it cannot fail.
func (d *Deviation) Status() string {
	if d.CorrectedAt != nil {
		return DeviationCorrected
	}
	return DeviationOpen
}

// DeviationFilter selects deviations to list.
type DeviationFilter struct {
	CityCode string // optional: one city
	Status   string // optional: OPEN or CORRECTED
	First    int
	After    int64 // keyset cursor: deviations with a smaller id (newest first)
}

// DeviationSummary counts a city's deviations inside the caller's regions.
type DeviationSummary struct {
	CityCode   string
	CityName   string
	Open       int
	Corrected  int
	Records    int        // sub-system records received
	LastPushAt *time.Time // the last accepted record
}

// SubsystemService receives the pushes of city sub-systems and lists the
// deviations between their colours and the unified rules (SPEC §7, §6).
type SubsystemService interface {
	// PushRecords stores a batch of a city sub-system (a machine client with
	// exchange.push, scoped to its city): each record is checked on its own
	// (rejected records do not stop the others), idempotent by (city,
	// recordId), entered as declaration facts of the person, re-evaluated
	// under the published rule set, and compared with the sub-system's
	// colour, opening or closing deviations. One transaction, audited.
	// Errors: UNAUTHENTICATED, FORBIDDEN (not a sub-system key), INVALID
	// (empty batch or more than MaxSubsystemBatch records).
	PushRecords(ctx context.Context, records []SubsystemRecord) (*SubsystemPushResult, error)
	// Deviations lists deviations inside the caller's deviation.read regions
	// (province and city administrators, supervisors), newest first; person
	// fields and reasons only where the caller holds person.read.
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (city code or status).
	Deviations(ctx context.Context, f DeviationFilter) ([]*Deviation, bool, error)
	// DeviationSummary counts open and corrected deviations per city inside
	// the caller's deviation.read regions (optionally one city).
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (city code).
	DeviationSummary(ctx context.Context, cityCode string) ([]*DeviationSummary, error)
}
