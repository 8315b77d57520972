package healthcode

import (
	"context"
	"time"
)

// Colour change requests (issue 12 §1, docs/security-colour.md). A change
// that would make a person red or take them out of red — a medical event, the
// retraction of a fact, a declaration entered by staff, a HIGH area risk or
// the lowering of one — asked for by one member of staff takes effect only
// when a different natural person with colour.approve approves it.

// Operations a colour change request holds.
const (
	ColourOpMedical  = "MEDICAL"   // recordMedicalEvent, or an appeal correction recording one
	ColourOpRetract  = "RETRACT"   // retractFact, or an appeal correction retracting one
	ColourOpDeclare  = "DECLARE"   // a declaration entered by staff for a person
	ColourOpAreaRisk = "AREA_RISK" // setAreaRisk to or from HIGH
	// ColourOpSubsystem is a city sub-system's pushed record (an API key's);
	// the approver must be another natural person than the key's creator.
	ColourOpSubsystem = "SUBSYSTEM"
)

// States of a colour change request. An unanswered request lapses at its
// ExpiresAt (EXPIRED, computed when read).
const (
	ColourPending  = "PENDING"
	ColourApproved = "APPROVED"
	ColourRejected = "REJECTED"
	ColourExpired  = "EXPIRED"
)

// ColourRequestTTL is how long a colour change request waits for its
// approval before it lapses.
const ColourRequestTTL = 72 * time.Hour

// ColourRequest is one colour change request.
type ColourRequest struct {
	ID       int64
	Op       string
	PersonID int64  // 0 for AREA_RISK
	Region   string // where colour.approve is checked: the residence, or the area
	// Summary says what the change is, in Chinese (确诊 2026-12-01, 撤销行程…).
	Summary     string
	Status      string
	RequestedBy string // subject
	RequestedAt time.Time
	ExpiresAt   time.Time
	DecidedBy   string // subject; "" while pending
	DecidedAt   *time.Time
	Reason      string // the rejection's reason
	// Effect names what the approval produced (medical:12, retract:stay:5,
	// declaration:7, area_risk:3); "" until approved.
	Effect string
	// MaskedName is the person's masked name ("" for AREA_RISK); Colour the
	// person's current colour ("" without a code).
	MaskedName string
	Colour     Colour
	// ResultColour is the colour the person would have if the pending
	// request were approved now, evaluated in memory with the rule set in
	// force (MEDICAL and RETRACT requests); "" when not computed.
	ResultColour Colour
}

// ColourRequestFilter selects colour change requests to list.
type ColourRequestFilter struct {
	Region   string // default: every region the caller may approve or read persons in
	Status   string // default PENDING
	PersonID int64
}

// ColourRequestService lists and decides colour change requests.
type ColourRequestService interface {
	// ColourRequests lists requests inside the caller's colour.approve or
	// person.read regions (newest first, at most 200).
	// Errors: UNAUTHENTICATED, FORBIDDEN (not staff), INVALID (status, region).
	ColourRequests(ctx context.Context, f ColourRequestFilter) ([]*ColourRequest, error)
	// ApproveColourRequest applies a pending request: a member of staff with
	// colour.approve at the request's region (HEALTH_OFFICER), with a
	// verified phone, who is not the natural person who asked for it. The
	// change is applied as the requester entered it, and both people are
	// recorded. Errors: UNAUTHENTICATED, NOT_FOUND (unknown, or outside the
	// caller's grants), FORBIDDEN (colour.approve missing, phone not
	// verified, same natural person as the requester, or the requester may
	// no longer make the change), CONFLICT (decided already, or expired),
	// and the errors of the change itself.
	ApproveColourRequest(ctx context.Context, id int64) (*ColourRequest, error)
	// RejectColourRequest rejects a pending request with a reason; the same
	// people as for approval may call it, and the requester may withdraw
	// their own. Errors: UNAUTHENTICATED, INVALID (reason), NOT_FOUND,
	// FORBIDDEN, CONFLICT.
	RejectColourRequest(ctx context.Context, id int64, reason string) (*ColourRequest, error)
}
