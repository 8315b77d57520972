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

// TicketCursor is the keyset cursor of t in a ticket list (TicketFilter.After):
// lists are ordered by the next deadline, tickets without one last, then by
// id. Any caller; it never fails.
func TicketCursor(t *Ticket) string {
	due := "inf"
	if t.DueAt != nil {
		due = strconv.FormatInt(t.DueAt.UnixMicro(), 10)
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%d", due, t.ID))
}

// ParseTicketCursor decodes a TicketCursor: the deadline (nil for a ticket
// without one) and the id. The ticket service calls it.
// Errors: INVALID (not a ticket cursor).
func ParseTicketCursor(s string) (due *time.Time, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	parts := strings.Split(string(b), "|")
	if err != nil || len(parts) != 2 {
		return nil, 0, Errorf(EINVALID, "分页游标无效")
	}
	id, e2 := strconv.ParseInt(parts[1], 10, 64)
	var e1 error
	if parts[0] != "inf" {
		var micros int64
		micros, e1 = strconv.ParseInt(parts[0], 10, 64)
		t := time.UnixMicro(micros)
		due = &t
	}
	if e1 != nil || e2 != nil {
		return nil, 0, Errorf(EINVALID, "分页游标无效")
	}
	return due, id, nil
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
	// Duplicates are likely duplicates (same person and kind within 7 days),
	// suggested for merging (并单).
	Duplicates []int64
	// Steps is the history as the caller may see it, loaded with the ticket
	// by the methods that return one ticket (FindTicket, Act, CreateTicket,
	// FileAppeal) in the transaction that read or changed it; nil in lists.
	Steps []*TicketStep
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
	// an open ticket the caller works on, with an audited reason.
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
	// Rating returns the resident's rating of the ticket's current handling
	// round, or nil. Callers pass a ticket they were allowed to read.
	Rating(ctx context.Context, ticketID int64) (*TicketRating, error)
	// SubscribeQueue streams the tickets of the caller's queue (optionally
	// one unit's) as they change, until ctx ends. Staff only.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	SubscribeQueue(ctx context.Context, unitID int64) (<-chan *Ticket, error)
	// Notices lists notices to regions inside the caller's ticket grants.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	Notices(ctx context.Context) ([]*TicketNotice, error)
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
// The kind, urgency and channel are the hotline's (package hotline checks
// them), the evidence's content needs sniffing, and the place and person
// need the database: TicketService checks those. Any caller may call it.
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
