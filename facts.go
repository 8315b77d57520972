package healthcode

import (
	"context"
	"time"
)

// Medical event kinds, entered by health authorities (SPEC §3).
var MedicalKinds = []string{"CONFIRMED", "SUSPECTED", "SUSPECT_EXCLUDED", "ASYMPTOMATIC", "ISOLATION_RELEASED",
	"CLOSE_CONTACT", "DISCHARGED", "FOLLOWUP_NORMAL"}

// MedicalKindName names a medical event kind in Chinese (密切接触 for
// CLOSE_CONTACT), as staff and residents read it; an unknown kind keeps its
// name.
func MedicalKindName(kind string) string {
	if n, ok := medicalKindNames[kind]; ok {
		return n
	}
	return kind
}

var medicalKindNames = map[string]string{"CONFIRMED": "确诊", "SUSPECTED": "疑似", "SUSPECT_EXCLUDED": "排除疑似",
	"ASYMPTOMATIC": "无症状感染", "ISOLATION_RELEASED": "解除隔离", "CLOSE_CONTACT": "密切接触", "DISCHARGED": "治愈出院",
	"FOLLOWUP_NORMAL": "复诊正常"}

// RiskLevelName names an area risk level in Chinese (高风险 for HIGH); an
// unknown level keeps its name.
func RiskLevelName(level string) string {
	switch level {
	case RiskHigh:
		return "高风险"
	case RiskMedium:
		return "中风险"
	case RiskLow:
		return "低风险"
	}
	return level
}

// Area risk levels.
const (
	RiskHigh   = "HIGH"
	RiskMedium = "MEDIUM"
	RiskLow    = "LOW"
)

// AreaRisk is one area risk designation, with its history position.
type AreaRisk struct {
	ID         int64
	RegionCode string
	Level      string
	From       time.Time
	Reason     string
	Actor      string
	CreatedAt  time.Time
	// Pending: the designation awaits its approval (a HIGH level, or the
	// lowering of one) and is not in force; ApprovedBy is who approved it.
	Pending    bool
	ApprovedBy string
	// RequestID is the colour change request of a pending designation.
	RequestID int64
}

// AreaRiskPreview is what designating a region's risk level would change,
// computed before saving with the rule set in force over the persons the
// designation reaches (those SetAreaRisk re-evaluates), without writing.
type AreaRiskPreview struct {
	RegionCode string
	Level      string
	// Evaluated counts the persons the designation reaches.
	Evaluated int
	// Changed counts those whose colour would change.
	Changed int
	// Transitions counts every (from, to) pair, unchanged ones included.
	Transitions []ColourTransition
}

// Fact is one fact about a person as shown to staff on an appeal or person
// view: its kind, what it says, where it came from, who entered it and when.
type Fact struct {
	Kind          string // STAY, MEDICAL, HEALTH, DESIGNATION
	ID            int64
	Summary       string // in Chinese
	Source        string
	Actor         string
	CreatedAt     time.Time
	RetractedAt   *time.Time
	RetractReason string
	// Venue and Institution say where a checkpoint scan (source SCAN) was
	// made; "" for other facts.
	Venue, Institution string
	// OnBehalf is 监护人代报 when a guardian's account entered the fact for
	// the person; "" otherwise.
	OnBehalf string
	// ApprovedBy is the subject of the second person who approved the fact
	// (a red designation, or a fact entered through a colour change
	// request); RetractApprovedBy the one who approved its retraction.
	ApprovedBy, RetractApprovedBy string
	// What the fact says, field by field (Summary says it in one line for
	// the audit): When is its date and time, or a stay's period
	// ("2026-11-20 至 2026-11-25", "2026-11-20 起至今"). Place is a STAY's
	// region code or ABROAD:<ISO>, PlaceName the Shaanxi region's name, the national
	// name of a place in another province (湖北省武汉市), a place abroad's
	// country (境外（日本）; divisions.PlaceLabel, as clause reasons name it),
	// "" for an unknown code. MedicalKind is a MEDICAL fact's kind; Note a medical
	// event's note or a designation's reason. Temperature (nil when none was
	// measured) and Symptoms are a HEALTH record's, or a scan's temperature.
	// Colour is a DESIGNATION's, Pending when it awaits its approval.
	When, Place, PlaceName, MedicalKind, Note string
	Temperature                               *float64
	Symptoms                                  []string
	Colour                                    string
	Pending                                   bool
}

// OnBehalfGuardian marks a fact a guardian entered for a dependent.
const OnBehalfGuardian = "监护人代报"

// DesignationInput is a manual designation by a health officer.
type DesignationInput struct {
	PersonID int64
	Colour   Colour // RED or YELLOW
	Reason   string
	Days     int // default 14
}

// FactService records facts about persons and areas; every write
// re-evaluates the affected codes.
type FactService interface {
	// RecordMedicalEvent records a medical status event for a person inside
	// the caller's fact.write regions and re-evaluates the code in the same
	// transaction. Errors: UNAUTHENTICATED, INVALID, NOT_FOUND (no such
	// person, or outside the caller's jurisdiction), FORBIDDEN (the caller
	// sees the person but lacks fact.write).
	RecordMedicalEvent(ctx context.Context, personID int64, kind string, at time.Time, note string) (*Code, error)
	// RetractFact retracts a fact (kind STAY, MEDICAL, HEALTH or DESIGNATION)
	// with a reason and re-evaluates the code; the STAY of a checkpoint scan
	// is retracted by its stay id, the scan itself staying recorded. The fever
	// report a retracted checkpoint temperature raised is closed with it
	// (docs/roles.md). Errors: UNAUTHENTICATED, INVALID (empty reason),
	// NOT_FOUND, FORBIDDEN (the person is visible but fact.write is
	// missing), CONFLICT (already retracted).
	RetractFact(ctx context.Context, kind string, factID int64, reason string) (*Code, error)
	// Designate records a manual designation. A yellow one takes effect at
	// once; a red one only after a second officer approves it.
	// Errors: UNAUTHENTICATED, INVALID, NOT_FOUND, FORBIDDEN (the person is
	// visible but designation.write is missing).
	Designate(ctx context.Context, in DesignationInput) (int64, *Code, error)
	// ApproveDesignation approves a red designation entered by someone else.
	// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN (own designation, or the
	// person is visible but designation.approve is missing), CONFLICT.
	ApproveDesignation(ctx context.Context, designationID int64) (*Code, error)
	// SetAreaRisk designates a region's risk level from now on, inside the
	// caller's area_risk.write regions, and queues the re-evaluation of the
	// persons who stayed there within the window or live there.
	// Errors: UNAUTHENTICATED, INVALID, FORBIDDEN.
	SetAreaRisk(ctx context.Context, regionCode, level, reason string) (*AreaRisk, error)
	// AreaRisks lists the designations in force inside the caller's
	// region.read regions (history when history is true).
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	AreaRisks(ctx context.Context, regionCode string, history bool) ([]*AreaRisk, error)
	// PreviewAreaRisk reports what SetAreaRisk with the same region and
	// level would change — the persons it re-evaluates, evaluated with the
	// designation as if saved now, against their current colours — and
	// writes nothing (the caller needs area_risk.write there, as for
	// SetAreaRisk). Errors: UNAUTHENTICATED, INVALID, FORBIDDEN, NOT_FOUND
	// (no such region).
	PreviewAreaRisk(ctx context.Context, regionCode, level string) (*AreaRiskPreview, error)
	// AreaRiskOutcome counts the colour changes a saved designation has
	// caused so far, by (from, to), for callers with area_risk.write at its
	// region. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	AreaRiskOutcome(ctx context.Context, areaRiskID int64) ([]ColourTransition, error)
	// PersonFacts lists every fact about a person, retracted ones included
	// (checkpoint scans as STAY facts with source SCAN), for staff with
	// person.read at the person's residence.
	// Errors: UNAUTHENTICATED, NOT_FOUND.
	PersonFacts(ctx context.Context, personID int64) ([]*Fact, error)
	// MyFacts lists every fact about the calling resident's own person, or a
	// dependent's (personID), retracted ones included, so that the code page
	// can show the facts behind each clause and an appeal can name the
	// disputed one. Residents only.
	// Errors: UNAUTHENTICATED, NOT_FOUND (not a resident, or not their person).
	MyFacts(ctx context.Context, personID int64) ([]*Fact, error)
}
