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

// CodeClause is one clause of the rule set that holds for a person.
type CodeClause struct {
	ID       string
	Colour   Colour
	Citation string
	Reason   string
	FactIDs  []int64
	// FactKind is the kind of every fact in FactIDs (STAY, MEDICAL, HEALTH,
	// DESIGNATION); "" when there are none.
	FactKind string `json:",omitempty"`
	// CheckIns is how far a clause that closes by consecutive daily normal
	// check-ins has come; nil for other clauses.
	CheckIns *CheckInProgress `json:",omitempty"`
}

// CheckInProgress is Done of the Needed consecutive days of normal check-ins
// that close a clause (rules.CheckInProgress).
type CheckInProgress struct {
	Needed int
	Done   int
}

// Code is a person's current health code.
type Code struct {
	PersonID       int64
	Colour         Colour
	Clauses        []CodeClause
	RuleSetVersion string
	UpdatedAt      time.Time
	ReevaluateAt   *time.Time
	// Pending is the colour change request the write that returned this
	// code created instead of changing it (it awaits a second person's
	// approval); nil otherwise.
	Pending *ColourRequest
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

// CheckIn is a daily health check-in (健康打卡).
type CheckIn struct {
	Temperature float64
	Symptoms    []string
}

// Validate checks the temperature (35.0 to 42.0 ℃, NaN refused) and that
// every symptom is one of KnownSymptoms. CodeService.CheckIn and
// DeclarationInput.Validate call it; any caller may. Errors: INVALID naming
// the field.
func (in CheckIn) Validate() error {
	if !(in.Temperature >= 35.0 && in.Temperature <= 42.0) { // NaN too
		return FieldError("体温", "应在 35.0 至 42.0 ℃ 之间，请重新测量")
	}
	for _, s := range in.Symptoms {
		if _, ok := KnownSymptoms[s]; !ok {
			return FieldError("症状", "未知症状 %q", Truncate(s, 20))
		}
	}
	return nil
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
	// CodesOf returns the current codes of persons the caller may read, in
	// the order of personIDs, with an error per person: a resident's own
	// and dependents' (as MyCode), staff's inside person.read (as CodeOf).
	// The codes whose reevaluate_at has passed or whose rule set is retired
	// are re-evaluated first, together (the GraphQL loader of Person.code
	// calls it for a page). Errors (per person): UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND; storage errors for all.
	CodesOf(ctx context.Context, personIDs []int64) ([]*Code, []error)
	// CodeHistory returns the colour history of a person the caller may see.
	// Errors: UNAUTHENTICATED, NOT_FOUND.
	CodeHistory(ctx context.Context, personID int64) ([]*CodeChange, error)
}

// Reevaluator re-evaluates codes in bulk: the work of the codes:* tasks
// (tasks.go). It checks no grants: only the task handlers call it, for
// tasks that a service's transaction or the scheduler created. Every method
// is idempotent and returns how many batches it wrote or persons it
// evaluated. Errors: NOT_FOUND (an unknown area designation) and storage
// errors (retried).
type Reevaluator interface {
	// FanOutArea writes the re-evaluation batches of an area designation.
	FanOutArea(ctx context.Context, areaRiskID int64) (int, error)
	// FanOutAreaLate is the designation's second pass, a minute later.
	FanOutAreaLate(ctx context.Context, areaRiskID int64) (int, error)
	// FanOutAll writes the id ranges of everyone (a published rule set).
	FanOutAll(ctx context.Context, cause string) (int, error)
	// ReevaluateIDs re-evaluates at most ReevaluateBatchSize persons.
	ReevaluateIDs(ctx context.Context, ids []int64, cause string) (int, error)
	// ReevaluateRange re-evaluates the persons with from <= id < to.
	ReevaluateRange(ctx context.Context, from, to int64, cause string) (int, error)
	// ReevaluateDue re-evaluates the codes whose reevaluate_at has passed,
	// until none is left or budget is spent.
	ReevaluateDue(ctx context.Context, budget time.Duration) (int, error)
}
