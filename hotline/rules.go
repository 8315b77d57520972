package hotline

// Outcome selects one of several rules that share a state and an action by
// the caller's input: the callback's satisfaction and the extension decision
// lead to different steps. The empty Outcome matches any input. Read-only
// data for any caller.
type Outcome string

// The outcomes.
const (
	AnyOutcome          Outcome = ""
	OutcomeSatisfied    Outcome = "SATISFIED"    // callback 满意 or 基本满意
	OutcomeDissatisfied Outcome = "DISSATISFIED" // callback 不满意
	OutcomeApproved     Outcome = "APPROVED"     // extension approved
	OutcomeRejected     Outcome = "REJECTED"     // extension rejected
)

// Needs lists what a rule requires of the ticket (Apply returns CONFLICT
// when a ticket condition fails) and of the input (INVALID) besides the state
// and the role. Read-only data for any caller.
type Needs struct {
	// Kinds restricts the rule to these ticket kinds; nil means every kind.
	Kinds []Kind
	// ExceptKinds excludes these ticket kinds.
	ExceptKinds []Kind
	// ExtensionPending requires a pending extension request.
	ExtensionPending bool
	// NoExtensionPending requires that no extension request is pending.
	NoExtensionPending bool

	// Reason requires a non-empty Input.Reason (internal).
	Reason bool
	// Text requires a non-empty Input.Text.
	Text bool
	// TargetUnit requires Input.TargetUnit.
	TargetUnit bool
	// Unit requires a handling unit: Input.TargetUnit, or else the ticket's
	// current Unit.
	Unit bool
	// TargetTicket requires Input.TargetTicket, another ticket's id.
	TargetTicket bool
	// Place requires Input.Place, the corrected place.
	Place bool
	// Satisfaction requires a valid Input.Satisfaction.
	Satisfaction bool
	// Decision requires a valid Input.Decision.
	Decision bool
}

// Rule is one transition of the machine: in state From, a caller in one of
// Roles may take Action (provided Needs hold and, when When is set, the
// input selects this outcome); the ticket moves to To. Rules sharing From
// and Action share Roles, Kinds and the extension guards and differ by When.
// Read-only data: obtain the table with Rules.
type Rule struct {
	From       State
	Action     Action
	Roles      []Role
	When       Outcome
	To         State
	Needs      Needs
	Visibility Visibility
	Effects    []Effect
}

// rs is shorthand for a role list in the table.
func rs(r ...Role) []Role { return r }

// fx is shorthand for an effect list in the table.
func fx(e ...Effect) []Effect { return e }

// Effects that restart a handling round at a unit.
var roundStart = []Effect{StopClocks, StartSignClock, StartReplyClock, NotifyUnit}

func with(base []Effect, more ...Effect) []Effect {
	return append(append([]Effect{}, base...), more...)
}

// table is the machine. Order: by action, then by state; Rules returns a
// copy and docs/hotline.md renders it.
var table = []Rule{
	{From: Accepted, Action: Dispatch, Roles: rs(Operator), To: Dispatched,
		Needs: Needs{TargetUnit: true}, Visibility: Public, Effects: fx(StartSignClock, StartReplyClock, NotifyUnit)},

	{From: Dispatched, Action: Sign, Roles: rs(Handler), To: Signed,
		Visibility: Public, Effects: fx(StopSignClock)},

	{From: Dispatched, Action: Return, Roles: rs(Handler), To: Accepted,
		Needs: Needs{Reason: true}, Visibility: Internal, Effects: fx(StopClocks, NotifyDispatcher)},
	{From: Signed, Action: Return, Roles: rs(Handler), To: Accepted,
		Needs: Needs{Reason: true}, Visibility: Internal, Effects: fx(StopClocks, NotifyDispatcher)},

	{From: Dispatched, Action: Redispatch, Roles: rs(Operator, Province), To: Dispatched,
		Needs: Needs{TargetUnit: true, Reason: true}, Visibility: Public, Effects: roundStart},
	{From: Signed, Action: Redispatch, Roles: rs(Operator, Province), To: Dispatched,
		Needs: Needs{TargetUnit: true, Reason: true}, Visibility: Public, Effects: roundStart},
	{From: InProgress, Action: Redispatch, Roles: rs(Operator, Province), To: Dispatched,
		Needs: Needs{TargetUnit: true, Reason: true}, Visibility: Public, Effects: roundStart},
	{From: Escalated, Action: Redispatch, Roles: rs(Province), To: Dispatched,
		Needs: Needs{TargetUnit: true, Reason: true}, Visibility: Public, Effects: roundStart},

	{From: Signed, Action: Start, Roles: rs(Handler), To: InProgress, Visibility: Public},

	{From: Signed, Action: Reply, Roles: rs(Handler), To: Replied,
		Needs: Needs{Text: true, ExceptKinds: []Kind{CodeAppeal}}, Visibility: Public,
		Effects: fx(StopClocks, StartCallbackClock, NotifyResident)},
	{From: InProgress, Action: Reply, Roles: rs(Handler), To: Replied,
		Needs: Needs{Text: true, ExceptKinds: []Kind{CodeAppeal}}, Visibility: Public,
		Effects: fx(StopClocks, StartCallbackClock, NotifyResident)},

	{From: Signed, Action: ResolveAppeal, Roles: rs(Handler), To: Replied,
		Needs: Needs{Text: true, Kinds: []Kind{CodeAppeal}}, Visibility: Public,
		Effects: fx(CorrectFacts, StopClocks, StartCallbackClock, NotifyResident)},
	{From: InProgress, Action: ResolveAppeal, Roles: rs(Handler), To: Replied,
		Needs: Needs{Text: true, Kinds: []Kind{CodeAppeal}}, Visibility: Public,
		Effects: fx(CorrectFacts, StopClocks, StartCallbackClock, NotifyResident)},

	{From: Signed, Action: RejectAppeal, Roles: rs(Handler), To: Replied,
		Needs: Needs{Text: true, Kinds: []Kind{CodeAppeal}}, Visibility: Public,
		Effects: fx(StopClocks, StartCallbackClock, NotifyResident)},
	{From: InProgress, Action: RejectAppeal, Roles: rs(Handler), To: Replied,
		Needs: Needs{Text: true, Kinds: []Kind{CodeAppeal}}, Visibility: Public,
		Effects: fx(StopClocks, StartCallbackClock, NotifyResident)},

	{From: Accepted, Action: Note, Roles: rs(Operator, Handler, UnitSupervisor, Province), To: Accepted,
		Needs: Needs{Text: true}, Visibility: Internal},
	{From: Dispatched, Action: Note, Roles: rs(Operator, Handler, UnitSupervisor, Province), To: Dispatched,
		Needs: Needs{Text: true}, Visibility: Internal},
	{From: Signed, Action: Note, Roles: rs(Operator, Handler, UnitSupervisor, Province), To: Signed,
		Needs: Needs{Text: true}, Visibility: Internal},
	{From: InProgress, Action: Note, Roles: rs(Operator, Handler, UnitSupervisor, Province), To: InProgress,
		Needs: Needs{Text: true}, Visibility: Internal},
	{From: Replied, Action: Note, Roles: rs(Operator, Handler, UnitSupervisor, Province), To: Replied,
		Needs: Needs{Text: true}, Visibility: Internal},
	{From: Escalated, Action: Note, Roles: rs(Operator, Handler, UnitSupervisor, Province), To: Escalated,
		Needs: Needs{Text: true}, Visibility: Internal},

	{From: Signed, Action: RequestExtension, Roles: rs(Handler), To: Signed,
		Needs: Needs{Reason: true, NoExtensionPending: true}, Visibility: Internal,
		Effects: fx(MarkExtensionPending, NotifyParent)},
	{From: InProgress, Action: RequestExtension, Roles: rs(Handler), To: InProgress,
		Needs: Needs{Reason: true, NoExtensionPending: true}, Visibility: Internal,
		Effects: fx(MarkExtensionPending, NotifyParent)},

	{From: Signed, Action: DecideExtension, Roles: rs(UnitSupervisor), When: OutcomeApproved, To: Signed,
		Needs: Needs{Decision: true, ExtensionPending: true}, Visibility: Internal,
		Effects: fx(ClearExtensionPending, ExtendDeadline, NotifyUnit)},
	{From: Signed, Action: DecideExtension, Roles: rs(UnitSupervisor), When: OutcomeRejected, To: Signed,
		Needs: Needs{Decision: true, Reason: true, ExtensionPending: true}, Visibility: Internal,
		Effects: fx(ClearExtensionPending, NotifyUnit)},
	{From: InProgress, Action: DecideExtension, Roles: rs(UnitSupervisor), When: OutcomeApproved, To: InProgress,
		Needs: Needs{Decision: true, ExtensionPending: true}, Visibility: Internal,
		Effects: fx(ClearExtensionPending, ExtendDeadline, NotifyUnit)},
	{From: InProgress, Action: DecideExtension, Roles: rs(UnitSupervisor), When: OutcomeRejected, To: InProgress,
		Needs: Needs{Decision: true, Reason: true, ExtensionPending: true}, Visibility: Internal,
		Effects: fx(ClearExtensionPending, NotifyUnit)},

	{From: Dispatched, Action: Supervise, Roles: rs(UnitSupervisor, System), To: Dispatched,
		Visibility: Internal, Effects: fx(MarkSupervised, NotifyUnit, NotifyParent)},
	{From: Signed, Action: Supervise, Roles: rs(UnitSupervisor, System), To: Signed,
		Visibility: Internal, Effects: fx(MarkSupervised, NotifyUnit, NotifyParent)},
	{From: InProgress, Action: Supervise, Roles: rs(UnitSupervisor, System), To: InProgress,
		Visibility: Internal, Effects: fx(MarkSupervised, NotifyUnit, NotifyParent)},

	{From: Accepted, Action: Merge, Roles: rs(Operator), To: Merged,
		Needs: Needs{TargetTicket: true}, Visibility: Public, Effects: fx(StopClocks, LinkMerged, NotifyResident)},
	{From: Dispatched, Action: Merge, Roles: rs(Operator), To: Merged,
		Needs: Needs{TargetTicket: true}, Visibility: Public,
		Effects: fx(StopClocks, LinkMerged, NotifyResident, NotifyUnit)},

	{From: Signed, Action: Escalate, Roles: rs(Handler, Operator), To: Escalated,
		Needs: Needs{Reason: true}, Visibility: Internal, Effects: fx(StopClocks, NotifyProvince)},
	{From: InProgress, Action: Escalate, Roles: rs(Handler, Operator), To: Escalated,
		Needs: Needs{Reason: true}, Visibility: Internal, Effects: fx(StopClocks, NotifyProvince)},

	{From: Replied, Action: Callback, Roles: rs(Operator), When: OutcomeSatisfied, To: Closed,
		Needs: Needs{Satisfaction: true}, Visibility: Public, Effects: fx(StopClocks, RecordSatisfaction)},
	{From: Replied, Action: Callback, Roles: rs(Operator), When: OutcomeDissatisfied, To: Dispatched,
		Needs: Needs{Satisfaction: true, Reason: true, Unit: true}, Visibility: Public,
		Effects: with(roundStart, RecordSatisfaction, IncrementReopen)},

	{From: Closed, Action: Reopen, Roles: rs(Operator), To: Dispatched,
		Needs: Needs{Reason: true, Unit: true}, Visibility: Public, Effects: with(roundStart, IncrementReopen)},

	{From: Replied, Action: Close, Roles: rs(Operator), To: Closed,
		Needs: Needs{Text: true}, Visibility: Public, Effects: fx(StopClocks, NotifyResident)},
	{From: Escalated, Action: Close, Roles: rs(Province), To: Closed,
		Needs: Needs{Text: true}, Visibility: Public, Effects: fx(StopClocks, NotifyResident)},

	{From: Accepted, Action: DirectClose, Roles: rs(Operator), To: Closed,
		Needs: Needs{Text: true, Kinds: []Kind{Consultation}}, Visibility: Public, Effects: fx(NotifyResident)},

	// A wrong place is corrected by whoever may route the ticket in that
	// state, before routing it again (派单, 改派, 重办 go to a unit of the
	// place's county).
	{From: Accepted, Action: CorrectPlace, Roles: rs(Operator), To: Accepted,
		Needs: Needs{Reason: true, Place: true}, Visibility: Internal, Effects: fx(SetPlace)},
	{From: Dispatched, Action: CorrectPlace, Roles: rs(Operator, Province), To: Dispatched,
		Needs: Needs{Reason: true, Place: true}, Visibility: Internal, Effects: fx(SetPlace)},
	{From: Signed, Action: CorrectPlace, Roles: rs(Operator, Province), To: Signed,
		Needs: Needs{Reason: true, Place: true}, Visibility: Internal, Effects: fx(SetPlace)},
	{From: InProgress, Action: CorrectPlace, Roles: rs(Operator, Province), To: InProgress,
		Needs: Needs{Reason: true, Place: true}, Visibility: Internal, Effects: fx(SetPlace)},
	{From: Replied, Action: CorrectPlace, Roles: rs(Operator), To: Replied,
		Needs: Needs{Reason: true, Place: true}, Visibility: Internal, Effects: fx(SetPlace)},
	{From: Escalated, Action: CorrectPlace, Roles: rs(Province), To: Escalated,
		Needs: Needs{Reason: true, Place: true}, Visibility: Internal, Effects: fx(SetPlace)},
}

// Rules returns a copy of the rule table. Any caller (the documentation,
// the user interface, tests); no error.
func Rules() []Rule {
	out := make([]Rule, len(table))
	for i, r := range table {
		r.Roles = append([]Role(nil), r.Roles...)
		r.Effects = append([]Effect(nil), r.Effects...)
		r.Needs.Kinds = append([]Kind(nil), r.Needs.Kinds...)
		r.Needs.ExceptKinds = append([]Kind(nil), r.Needs.ExceptKinds...)
		out[i] = r
	}
	return out
}
