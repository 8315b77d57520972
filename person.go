package healthcode

import (
	"context"
	"time"
)

// Colour is a health code colour.
type Colour string

// The three colours of Annex 1 一.
const (
	Green  Colour = "GREEN"
	Yellow Colour = "YELLOW"
	Red    Colour = "RED"
)

// Label is the colour's Chinese name.
func (c Colour) Label() string {
	switch c {
	case Green:
		return "绿码"
	case Yellow:
		return "黄码"
	case Red:
		return "红码"
	}
	return string(c)
}

// Form is one of the four declaration forms of Annex 2.
type Form string

// Declaration forms.
const (
	FormArrival         Form = "ARRIVAL"          // 来陕返陕人员
	FormPublicSector    Form = "PUBLIC_SECTOR"    // 机关事业单位人员
	FormReturningWorker Form = "RETURNING_WORKER" // 复工复产人员
	FormResident        Form = "RESIDENT"         // 居民个人
)

// Valid reports whether f is a known form.
func (f Form) Valid() bool {
	switch f {
	case FormArrival, FormPublicSector, FormReturningWorker, FormResident:
		return true
	}
	return false
}

// Symptoms recognised in declarations, check-ins and scans.
var KnownSymptoms = map[string]string{
	"fever":               "发热",
	"dry_cough":           "干咳",
	"cough":               "咳嗽",
	"shortness_of_breath": "气促",
	"fatigue":             "乏力",
	"sore_throat":         "咽痛",
	"diarrhea":            "腹泻",
	"loss_of_smell":       "嗅（味）觉减退",
}

// TravelEntry is one place of the 14-day travel and residence history: a
// region code at any level (inside or outside Shaanxi) or ABROAD:<ISO 3166
// alpha-2>, with the dates of the stay.
type TravelEntry struct {
	Place string
	From  time.Time
	To    time.Time
}

// DeclarationInput is a submitted declaration form (SPEC §2).
type DeclarationInput struct {
	Form          Form
	Name          string
	DocType       DocType
	DocNumber     string
	Phone         string
	ResidenceCode string // a community or compound code
	Address       string // detailed address inside the residence region
	Employer      string // required by PUBLIC_SECTOR and RETURNING_WORKER
	Travel        []TravelEntry
	Temperature   float64
	Symptoms      []string
	CloseContact  bool // self-reported contact with a case
	// ARRIVAL only.
	Origin      string // where the person came from: a region code or ABROAD:<ISO>
	ArrivalDate time.Time
	Transport   string
}

// Person is a person as shown to a caller: personal data masked unless the
// caller is the person (or their guardian).
type Person struct {
	ID            int64
	Name          string // masked for anyone but the person
	DocType       DocType
	DocNumber     string // masked for anyone but the person
	Phone         string // masked for anyone but the person
	ResidenceCode string
	Address       string // empty for anyone but the person and unmasking staff
	Employer      string
	// Relation is SELF or DEPENDENT for the calling resident; "" for staff.
	Relation  string
	GuardedBy string // masked phone of the guardian account, for community staff
	CreatedAt time.Time
}

// CodeClause is one clause of the rule set that holds for a person.
type CodeClause struct {
	ID       string
	Colour   Colour
	Citation string
	Reason   string
	FactIDs  []int64
}

// Code is a person's current health code.
type Code struct {
	PersonID       int64
	Colour         Colour
	Clauses        []CodeClause
	RuleSetVersion string
	UpdatedAt      time.Time
	ReevaluateAt   *time.Time
}

// CodeChange is one entry of a code's colour history.
type CodeChange struct {
	ID             int64
	PersonID       int64
	From           Colour // "" for the first issue
	To             Colour
	ClauseIDs      []string
	RuleSetVersion string
	Cause          string // "declaration:12", "fact:stay:40", "area_risk:3", "ruleset:2020-04", "time"
	Actor          string
	At             time.Time
}

// PersonCorrection corrects a person's information (修改个人信息); nil
// fields stay as they are. The document number identifies the person and
// cannot be corrected here (a wrong one is a different person).
type PersonCorrection struct {
	Name          *string
	Phone         *string
	ResidenceCode *string
	Address       *string
	Employer      *string
}

// PersonFilter selects persons to list.
type PersonFilter struct {
	RegionCode string // optional: only persons living inside this region
	First      int
	After      int64
}

// CheckIn is a daily health check-in (健康打卡).
type CheckIn struct {
	Temperature float64
	Symptoms    []string
}

// CodeService issues and reads health codes.
type CodeService interface {
	// SubmitDeclaration validates a declaration, creates or updates the
	// person, records the facts, evaluates the code in the same transaction
	// and returns it. Residents declare for themselves or, as guardians, for
	// dependents; community staff (person.declare at the residence) declare
	// for people without phones: a person no resident account holds.
	// Errors: UNAUTHENTICATED, INVALID (with the field at fault), FORBIDDEN
	// (staff: no person.declare at the residence, or a person a resident
	// account holds), CONFLICT (a dependent already bound to another
	// guardian; staff: a person registered outside their jurisdiction).
	SubmitDeclaration(ctx context.Context, in DeclarationInput) (*Person, *Code, error)
	// MyCode returns the code of the calling resident's own person or of one
	// of their dependents (personID 0 means their own), re-evaluating it first
	// when its reevaluate_at has passed. Errors: UNAUTHENTICATED, NOT_FOUND.
	MyCode(ctx context.Context, personID int64) (*Code, error)
	// MyPersons returns the calling resident's own person and dependents,
	// unmasked. Errors: UNAUTHENTICATED.
	MyPersons(ctx context.Context) ([]*Person, error)
	// CheckIn records a daily check-in and re-evaluates the code.
	// Errors: UNAUTHENTICATED, INVALID, NOT_FOUND.
	CheckIn(ctx context.Context, personID int64, in CheckIn) (*Code, error)
	// CorrectPersonInfo corrects the calling resident's own or a dependent's
	// information (personID 0: their own); a new residence is recorded as a
	// stay and the code is re-evaluated; the change is audited.
	// Errors: UNAUTHENTICATED, NOT_FOUND, INVALID.
	CorrectPersonInfo(ctx context.Context, personID int64, c PersonCorrection) (*Person, *Code, error)
	// FindPerson returns a person, masked, to staff with person.read at the
	// person's residence, with the guardian binding if any.
	// Errors: UNAUTHENTICATED, NOT_FOUND.
	FindPerson(ctx context.Context, personID int64) (*Person, error)
	// ListPersons returns persons living inside the caller's person.read
	// regions (optionally inside RegionCode), masked, ordered by id.
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
	ListPersons(ctx context.Context, f PersonFilter) ([]*Person, bool, error)
	// CodeOf returns the current code of a person the caller (staff) may
	// read. Errors: UNAUTHENTICATED, NOT_FOUND.
	CodeOf(ctx context.Context, personID int64) (*Code, error)
	// CodeHistory returns the colour history of a person the caller may see.
	// Errors: UNAUTHENTICATED, NOT_FOUND.
	CodeHistory(ctx context.Context, personID int64) ([]*CodeChange, error)
}
