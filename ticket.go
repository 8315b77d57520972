package healthcode

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxEvidenceBytes bounds an appeal's evidence (an image or a PDF); its
// base64 fits the 1 MiB request limit.
const MaxEvidenceBytes = 512 << 10

// TicketKey is the keyset position of a ticket in a ticket list, as a
// TicketCursor carries it: lists are ordered by the next deadline (Due; nil
// for a ticket without one, which comes last), then by ID; in the
// appeals-first order (TicketFilter.AppealsFirst) code appeals come first,
// and Other is set for a ticket that is not one.
type TicketKey struct {
	AppealsFirst bool
	Other        bool
	Due          *time.Time
	ID           int64
}

// codeAppealKind is hotline.CodeAppeal, the kind the appeals-first order
// puts first.
const codeAppealKind = "CODE_APPEAL"

// TicketCursor is the keyset cursor of t in a ticket list (TicketFilter.After)
// in the default order or, with appealsFirst, in the appeals-first order
// (see TicketKey). Any caller; it never fails.
func TicketCursor(t *Ticket, appealsFirst bool) string {
	due := "inf"
	if t.DueAt != nil {
		due = strconv.FormatInt(t.DueAt.UnixMicro(), 10)
	}
	if appealsFirst {
		part := "a"
		if t.Kind != codeAppealKind {
			part = "o"
		}
		return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%s|%d", part, due, t.ID))
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%d", due, t.ID))
}

// ParseTicketCursor decodes a TicketCursor into its key. The ticket service
// calls it (and refuses a cursor of the other order).
// Errors: INVALID (not a ticket cursor).
func ParseTicketCursor(s string) (TicketKey, error) {
	var k TicketKey
	b, err := base64.RawURLEncoding.DecodeString(s)
	parts := strings.Split(string(b), "|")
	if err == nil && len(parts) == 3 && (parts[0] == "a" || parts[0] == "o") {
		k.AppealsFirst, k.Other = true, parts[0] == "o"
		parts = parts[1:]
	}
	if err != nil || len(parts) != 2 {
		return TicketKey{}, Errorf(EINVALID, "分页游标无效")
	}
	id, e2 := strconv.ParseInt(parts[1], 10, 64)
	var e1 error
	if parts[0] != "inf" {
		var micros int64
		micros, e1 = strconv.ParseInt(parts[0], 10, 64)
		t := time.UnixMicro(micros)
		k.Due = &t
	}
	if e1 != nil || e2 != nil {
		return TicketKey{}, Errorf(EINVALID, "分页游标无效")
	}
	k.ID = id
	return k, nil
}

// HandlingUnit is a unit that handles tickets (承办单位): a name at a county
// or street.
type HandlingUnit struct {
	ID         int64
	RegionCode string
	Name       string
}

// Ticket is a 12320 hotline ticket or a code appeal. Kind, Channel, Urgency
// and State take the values of package hotline.
type Ticket struct {
	ID               int64
	Kind             string
	Channel          string
	Urgency          string
	State            string
	PersonID         int64 // 0 when no person is linked
	CallerMasked     string
	Subject          string
	Description      string
	PlaceCode        string
	Unit             *HandlingUnit
	RegionCode       string // the responsible region
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	SignDue          *time.Time // nil while no sign clock runs
	ReplyDue         *time.Time // nil while no reply clock has started
	CallbackDue      *time.Time
	DueAt            *time.Time // the next deadline
	WarnAt           *time.Time // 80 % of the way to DueAt
	Overdue          bool       // DueAt is not after the time of the read (whether or not the scheduler has passed)
	Supervised       bool
	ExtensionPending bool
	ReopenCount      int
	MergedInto       int64 // 0 when not merged
	Satisfaction     string
	// DisputedFactKind and DisputedFactID name the fact a code appeal
	// disputes, when the resident named one (empty and 0 otherwise).
	DisputedFactKind string
	DisputedFactID   int64
	// Duplicates are likely duplicates (same person and kind within 7 days),
	// suggested for merging (并单).
	Duplicates []int64
	// Steps is the history as the caller may see it, loaded with the ticket
	// by the methods that return one ticket (FindTicket, Act, CreateTicket,
	// FileAppeal) in the transaction that read or changed it; nil in lists.
	Steps []*TicketStep
	// AllowedActions are the actions (package hotline's names) the reader
	// may take now, set with Steps for staff; nil in lists (see
	// TicketService.AllowedActions).
	AllowedActions []string
	// DueInWorkingTime is true when the running deadline (DueAt) is counted
	// in working time (working hours of working days), false when it runs
	// around the clock (a code appeal's sign and reply) or there is none.
	DueInWorkingTime bool
}

// TicketStep is one step of a ticket's history.
type TicketStep struct {
	ID         int64
	Action     string
	From, To   string
	Role       string
	Actor      string
	ActorName  string
	Text       string
	Reason     string // internal
	Visibility string // PUBLIC or INTERNAL
	At         time.Time
	// Unit is the handling unit that held the ticket when the step was
	// taken (the unit it was sent to, for a dispatch); nil when none did.
	Unit *HandlingUnit
}

// TicketEvidence is a file a resident attached to a code appeal.
type TicketEvidence struct {
	ID          int64
	ContentType string // image/png, image/jpeg or application/pdf
	Size        int
	SHA256      []byte
	Data        []byte
	CreatedAt   time.Time
}

// UnitStats are a handling unit's figures (承办单位工作台): its open, overdue
// and returned tickets and its on-time and satisfaction rates over a period.
// A rate is nil when its denominator is 0.
type UnitStats struct {
	Unit *HandlingUnit
	// Open and Overdue are counted at the time of the read.
	Open    int
	Overdue int
	// Returned counts the unit's returns (退单) in the period.
	Returned int
	// Signed and SignedOnTime count the tickets whose sign clock for the
	// unit started in the period and that were signed, and signed by the
	// deadline: SignOnTimeRate = SignedOnTime ÷ Dispatched.
	Dispatched     int
	SignedOnTime   int
	SignOnTimeRate *float64
	// Replied and RepliedOnTime count the unit's answers in the period
	// (REPLY, RESOLVE_APPEAL, REJECT_APPEAL) and those given by the reply
	// deadline: ReplyOnTimeRate = RepliedOnTime ÷ Replied.
	Replied         int
	RepliedOnTime   int
	ReplyOnTimeRate *float64
	// Callbacks are the callbacks (回访) in the period of tickets the unit
	// answered; SatisfactionRate = (满意 + 0.8 × 基本满意) ÷ Callbacks, as the
	// HOTLINE_SATISFACTION indicator counts it (docs/supervision.md).
	Callbacks        int
	SatisfactionRate *float64
}

// NewTicket is the input of CreateTicket (operators) and FileAppeal
// (residents).
type NewTicket struct {
	Kind        string
	Channel     string
	Urgency     string
	PersonID    int64
	CallerPhone string
	Subject     string
	Description string
	PlaceCode   string // the place complained about (defaults to the person's residence)
	// Evidence is an optional image (PNG or JPEG) or PDF document, at most
	// 512 KiB, of a code appeal.
	Evidence            []byte
	EvidenceContentType string
	// DisputedFactKind and DisputedFactID name the fact a code appeal
	// disputes (optional; FileAppeal only).
	DisputedFactKind string
	DisputedFactID   int64
}

// TicketRating is a resident's rating of the answer to their ticket.
type TicketRating struct {
	Satisfaction string // SATISFIED, BASICALLY_SATISFIED or DISSATISFIED
	Comment      string
	At           time.Time
}

// TicketAction is an action on a ticket with its inputs.
type TicketAction struct {
	Action       string
	Text         string
	Reason       string
	Satisfaction string
	Decision     string // APPROVE or REJECT for DECIDE_EXTENSION
	TargetUnit   int64
	TargetTicket int64
	Extension    string // the extension asked for, e.g. "2wd"
	// Place is the corrected place (a region code of a county or below) of
	// CORRECT_PLACE.
	Place string
	// Correction is the fact to retract when resolving a code appeal.
	Correction *FactCorrection
}

// FactCorrection retracts a wrong fact or records a missing medical event
// when a code appeal is resolved.
type FactCorrection struct {
	RetractKind string // STAY, MEDICAL, HEALTH, DESIGNATION
	RetractID   int64
	RecordKind  string // a medical event kind to record instead, e.g. SUSPECT_EXCLUDED
}

// TicketFilter selects tickets of a queue.
type TicketFilter struct {
	UnitID       int64
	State        string
	Kind         string
	Overdue      bool
	DueSoon      bool // warned: past 80 % of the time
	UpdatedSince *time.Time
	// Region narrows the queue to tickets whose responsible region is inside
	// it; Urgency to NORMAL or URGENT tickets; PersonID to one person's.
	Region   string
	Urgency  string
	PersonID int64
	// AppealsFirst orders code appeals before the other tickets, each by
	// deadline (the operators' queue); otherwise by deadline alone.
	AppealsFirst bool
	First        int
	After        string // keyset cursor
}

// AppealView is what a handler sees for a code appeal, in one query: the
// colour, each clause with its facts (who entered each and when), the
// rule-set version and the colour history.
type AppealView struct {
	Ticket  *Ticket
	Code    *Code
	Facts   []*Fact
	History []*CodeChange
}

// TicketNotice is a notice to a unit or region about a ticket: a warning at
// 80 % of a deadline, 督办 of an overdue ticket, an extension request, a
// return (退单) to the dispatchers.
type TicketNotice struct {
	ID         int64
	TicketID   int64
	RegionCode string
	Kind       string
	// Audience is UNIT (the unit's people and the administrators above it)
	// or DISPATCH (the operators who dispatch the region's tickets).
	Audience  string
	Text      string
	CreatedAt time.Time
}

// KnowledgeAnswer is a standard answer for consultations.
type KnowledgeAnswer struct {
	ID       int64
	Question string
	Answer   string
	Tags     []string
}

// TicketService runs the 12320 hotline and code appeals. Every method is
// jurisdiction-scoped: operators work province- or city-wide, handlers on the
// tickets of units inside their grants, administrators supervise units inside
// theirs, residents see their own appeals (without internal steps).
type TicketService interface {
	// CreateTicket registers a ticket from a call or a 12345 transfer
	// (operators). Errors: UNAUTHENTICATED, FORBIDDEN, INVALID, NOT_FOUND.
	CreateTicket(ctx context.Context, in NewTicket) (*Ticket, error)
	// FileAppeal files a code appeal by a resident for their own code or a
	// dependent's, optionally naming the disputed fact (one of MyFacts, not
	// retracted). Errors: UNAUTHENTICATED, INVALID, NOT_FOUND.
	FileAppeal(ctx context.Context, in NewTicket) (*Ticket, error)
	// Act takes an action on a ticket (the lifecycle of docs/hotline.md) and
	// returns the ticket as the caller sees it right after the action, its
	// history included, even when the action takes it out of the caller's
	// view (a return). Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN,
	// CONFLICT, INVALID.
	Act(ctx context.Context, ticketID int64, a TicketAction) (*Ticket, error)
	// FindTicket returns a ticket the caller may see. Errors:
	// UNAUTHENTICATED, NOT_FOUND.
	FindTicket(ctx context.Context, id int64) (*Ticket, error)
	// Steps returns a ticket's history; residents see PUBLIC steps only.
	// Errors: UNAUTHENTICATED, NOT_FOUND.
	Steps(ctx context.Context, id int64) ([]*TicketStep, error)
	// StepsOfTickets is Steps for several tickets at once, in the order of
	// ids, with an error per ticket (the GraphQL loader of Ticket.steps calls
	// it for a page). Errors: those of Steps.
	StepsOfTickets(ctx context.Context, ids []int64) ([][]*TicketStep, []error)
	// ListTickets returns a queue, overdue first, then by deadline.
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
	ListTickets(ctx context.Context, f TicketFilter) ([]*Ticket, bool, error)
	// MyAppeals returns the calling resident's appeals.
	MyAppeals(ctx context.Context) ([]*Ticket, error)
	// AppealView returns the handler's view of a code appeal.
	// Errors: UNAUTHENTICATED, NOT_FOUND, INVALID (not an appeal).
	AppealView(ctx context.Context, ticketID int64) (*AppealView, error)
	// HandlingUnits lists units inside the caller's region.read grants, or
	// inside region. CreateHandlingUnit creates one (administrators).
	HandlingUnits(ctx context.Context, region string) ([]*HandlingUnit, error)
	CreateHandlingUnit(ctx context.Context, region, name string) (*HandlingUnit, error)
	// UnmaskPerson returns the unmasked phone and ID of the person linked to
	// an open ticket the caller works on, with an audited reason: a handler
	// of the unit the ticket is dispatched to, or an operator when the
	// ticket came from the person (a call from the person's phone, or the
	// person's own appeal). Rate-limited per account (graph.DefaultRateLimits).
	// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, INVALID (no reason).
	UnmaskPerson(ctx context.Context, ticketID int64, reason string) (phone, docNumber string, err error)
	// FindPersons finds persons by phone or ID number for an operator taking
	// a call; results are masked. Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
	FindPersons(ctx context.Context, phone, docType, docNumber string) ([]*Person, error)
	// Knowledge searches the standard answers. Any staff member.
	Knowledge(ctx context.Context, query string) ([]*KnowledgeAnswer, error)
	// RateTicket records the calling resident's rating of the latest answer
	// to their ticket (网上评价), once per handling round, while the ticket
	// is REPLIED or CLOSED; the operator reads it at the callback (回访). It
	// does not change the ticket's state. Residents only.
	// Errors: UNAUTHENTICATED, NOT_FOUND (not their ticket), INVALID
	// (satisfaction, comment), CONFLICT (not answered yet, or already rated).
	RateTicket(ctx context.Context, ticketID int64, satisfaction, comment string) (*Ticket, error)
	// Ratings returns the resident's rating of each ticket's current
	// handling round, or nil, in the order of ticketIDs, with an error per
	// ticket (the GraphQL loader of Ticket.rating calls it for a page).
	// Callers pass tickets they were allowed to read. Errors: INTERNAL.
	Ratings(ctx context.Context, ticketIDs []int64) ([]*TicketRating, []error)
	// SubscribeQueue streams the tickets of the caller's queue (optionally
	// one unit's) as they change, until ctx ends. Staff only.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	SubscribeQueue(ctx context.Context, unitID int64) (<-chan *Ticket, error)
	// Notices lists notices to regions inside the caller's ticket grants.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	Notices(ctx context.Context) ([]*TicketNotice, error)
	// AllowedActions returns the actions (package hotline's names) the
	// calling staff member may take on t now, in the machine's order; empty
	// for others. Callers pass a ticket they were allowed to read.
	// Errors: UNAUTHENTICATED.
	AllowedActions(ctx context.Context, t *Ticket) ([]string, error)
	// Evidence returns the files attached to a code appeal the calling staff
	// member may read (its handlers and operators); each read is audited
	// (ticket.evidence_read). Errors: UNAUTHENTICATED, FORBIDDEN (not
	// staff), NOT_FOUND.
	Evidence(ctx context.Context, ticketID int64) ([]*TicketEvidence, error)
	// UnitStats returns the figures of the handling units inside the
	// caller's ticket grants (handlers, operators, supervising
	// administrators), or of one unit, over [from, to) (zero to: the end of
	// today; zero from: 30 days before to). Errors:
	// UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (a unit outside them), INVALID.
	UnitStats(ctx context.Context, unitID int64, from, to time.Time) ([]*UnitStats, error)
}

// DeadlineProcessor watches the hotline's deadlines: the work of
// hotline:deadlines. Only the task handler calls it (it acts as the
// system). Errors: storage errors.
type DeadlineProcessor interface {
	// ProcessDeadlines warns units at 80 % of a deadline and marks and
	// supervises overdue tickets, once each; it returns how many tickets
	// it warned and marked overdue.
	ProcessDeadlines(ctx context.Context) (warned, overdue int, err error)
}

// Validate normalises the new ticket in place (texts trimmed) and checks the
// subject, the description and the caller's phone (optional), in that order.
// The kind and urgency are the hotline's: hotline.ValidateNew checks them
// and the evidence, then calls this; the channel, the place and the person
// are TicketService's checks. Any caller may call it.
// Errors: INVALID naming the field.
func (in *NewTicket) Validate() error {
	var err error
	if in.Subject, err = ValidText("标题", in.Subject, 1, 100); err != nil {
		return err
	}
	if in.Description, err = ValidText("诉求内容", in.Description, 1, 2000); err != nil {
		return err
	}
	if in.CallerPhone != "" && !ValidPhone(in.CallerPhone) {
		return FieldError("来电号码", "应为 11 位手机号码")
	}
	return nil
}
