package hotline

import "slices"

// Kind is what a ticket is about (SPEC §5). Any caller may use the values;
// the ticket service stores the kind when the ticket is accepted.
type Kind string

// The ticket kinds.
const (
	Consultation Kind = "CONSULTATION" // 政策咨询
	Complaint    Kind = "COMPLAINT"    // 投诉
	Suggestion   Kind = "SUGGESTION"   // 建议
	CodeAppeal   Kind = "CODE_APPEAL"  // 赋码申诉
)

// Kinds lists every Kind in display order. Callers must not modify it.
var Kinds = []Kind{Consultation, Complaint, Suggestion, CodeAppeal}

// Valid reports whether k is a known kind. Any caller; no error.
func (k Kind) Valid() bool {
	switch k {
	case Consultation, Complaint, Suggestion, CodeAppeal:
		return true
	}
	return false
}

// Label is the kind's Chinese name for the user interface. Any caller; no
// error (an unknown kind returns its own string).
func (k Kind) Label() string {
	switch k {
	case Consultation:
		return "政策咨询"
	case Complaint:
		return "投诉"
	case Suggestion:
		return "建议"
	case CodeAppeal:
		return "赋码申诉"
	}
	return string(k)
}

// Channel is how a ticket reached the platform. The machine does not depend
// on it; the service records it and the indicators group by it.
type Channel string

// The channels.
const (
	ChannelHotline  Channel = "HOTLINE"        // a 12320 call registered by an operator
	ChannelOnline   Channel = "ONLINE"         // filed by the resident from the code page
	ChannelTransfer Channel = "TRANSFER_12345" // transferred from the 12345 government hotline
)

// Channels lists every Channel in display order. Callers must not modify it.
var Channels = []Channel{ChannelHotline, ChannelOnline, ChannelTransfer}

// Valid reports whether c is a known channel. Any caller; no error.
func (c Channel) Valid() bool {
	switch c {
	case ChannelHotline, ChannelOnline, ChannelTransfer:
		return true
	}
	return false
}

// Label is the channel's Chinese name. Any caller; no error.
func (c Channel) Label() string {
	switch c {
	case ChannelHotline:
		return "12320热线"
	case ChannelOnline:
		return "网上提交"
	case ChannelTransfer:
		return "12345转办"
	}
	return string(c)
}

// Urgency selects the deadline set of a ticket (deadlines are configured per
// kind and urgency). The machine does not depend on it.
type Urgency string

// The urgencies.
const (
	Normal Urgency = "NORMAL" // 一般
	Urgent Urgency = "URGENT" // 紧急
)

// Urgencies lists every Urgency. Callers must not modify it.
var Urgencies = []Urgency{Normal, Urgent}

// Valid reports whether u is a known urgency. Any caller; no error.
func (u Urgency) Valid() bool { return u == Normal || u == Urgent }

// Label is the urgency's Chinese name. Any caller; no error.
func (u Urgency) Label() string {
	switch u {
	case Normal:
		return "一般"
	case Urgent:
		return "紧急"
	}
	return string(u)
}

// State is where a ticket is in its lifecycle. See docs/hotline.md for the
// diagram.
type State string

// The states.
const (
	// Accepted: registered and waiting for dispatch; a returned (退单) ticket
	// comes back here.
	Accepted State = "ACCEPTED"
	// Dispatched: sent to a handling unit, waiting to be signed for.
	Dispatched State = "DISPATCHED"
	// Signed: the unit has signed for it (签收).
	Signed State = "SIGNED"
	// InProgress: the unit is working on it.
	InProgress State = "IN_PROGRESS"
	// Replied: the unit has answered the resident; waiting for the callback.
	Replied State = "REPLIED"
	// Closed: done (办结). Terminal, except that an operator may reopen it.
	Closed State = "CLOSED"
	// Merged: closed as a duplicate of another ticket (并单). Terminal.
	Merged State = "MERGED"
	// Escalated: reported to the provincial office as a major problem; the
	// office dispatches it again or closes it.
	Escalated State = "ESCALATED"
)

// States lists every State in lifecycle order. Callers must not modify it.
var States = []State{Accepted, Dispatched, Signed, InProgress, Replied, Closed, Merged, Escalated}

// Valid reports whether s is a known state. Any caller; no error.
func (s State) Valid() bool {
	switch s {
	case Accepted, Dispatched, Signed, InProgress, Replied, Closed, Merged, Escalated:
		return true
	}
	return false
}

// Open reports whether the ticket is still being worked on: every state but
// CLOSED and MERGED. The unmasked-data rule of SPEC §5 keys on it. Any
// caller; no error.
func (s State) Open() bool { return s.Valid() && s != Closed && s != Merged }

// Label is the state's Chinese name. Any caller; no error.
func (s State) Label() string {
	switch s {
	case Accepted:
		return "受理"
	case Dispatched:
		return "已派单"
	case Signed:
		return "已签收"
	case InProgress:
		return "办理中"
	case Replied:
		return "已答复"
	case Closed:
		return "已办结"
	case Merged:
		return "已并单"
	case Escalated:
		return "已上报省办"
	}
	return string(s)
}

// Action is a step a caller asks the machine to take.
type Action string

// The actions. docs/hotline.md lists who may take each one in which state.
const (
	Dispatch         Action = "DISPATCH"          // 派单 to a handling unit
	Sign             Action = "SIGN"              // 签收
	Return           Action = "RETURN"            // 退单 to the dispatcher (wrong jurisdiction), with a reason
	Redispatch       Action = "REDISPATCH"        // 改派 to another (or, from the provincial office, the same) unit
	Start            Action = "START"             // 开始办理
	Reply            Action = "REPLY"             // 答复: text the resident reads
	Note             Action = "NOTE"              // 内部备注: never shown to the resident
	RequestExtension Action = "REQUEST_EXTENSION" // 申请延期
	DecideExtension  Action = "DECIDE_EXTENSION"  // 审批延期, by the level above the unit
	Supervise        Action = "SUPERVISE"         // 督办, when overdue
	Merge            Action = "MERGE"             // 并单 into another ticket
	Escalate         Action = "ESCALATE"          // 上报 to the provincial office
	Callback         Action = "CALLBACK"          // 回访 with satisfaction; 不满意 reopens (重办)
	Reopen           Action = "REOPEN"            // 重办 of a closed ticket
	Close            Action = "CLOSE"             // 办结
	DirectClose      Action = "DIRECT_CLOSE"      // 直接办结 of a consultation answered at once
	ResolveAppeal    Action = "RESOLVE_APPEAL"    // 申诉纠正: the reply of a code appeal that corrects facts
	RejectAppeal     Action = "REJECT_APPEAL"     // 驳回申诉: the reply of a code appeal that explains the code
	CorrectPlace     Action = "CORRECT_PLACE"     // 更正事发地: the place (and so the county it is routed to) was wrong
)

// Actions lists every Action in display order (the order AllowedActions
// keeps). Callers must not modify it.
var Actions = []Action{
	Dispatch, Sign, Return, Redispatch, Start, Reply, ResolveAppeal, RejectAppeal, Note,
	RequestExtension, DecideExtension, Supervise, Merge, Escalate, Callback, Reopen, Close, DirectClose,
	CorrectPlace,
}

// Valid reports whether a is a known action. Any caller; no error.
func (a Action) Valid() bool { return slices.Contains(Actions, a) }

// Label is the action's Chinese name, as error messages quote it. Any
// caller; no error.
func (a Action) Label() string {
	switch a {
	case Dispatch:
		return "派单"
	case Sign:
		return "签收"
	case Return:
		return "退单"
	case Redispatch:
		return "改派"
	case Start:
		return "开始办理"
	case Reply:
		return "答复"
	case Note:
		return "内部备注"
	case RequestExtension:
		return "申请延期"
	case DecideExtension:
		return "审批延期"
	case Supervise:
		return "督办"
	case Merge:
		return "并单"
	case Escalate:
		return "上报"
	case Callback:
		return "回访"
	case Reopen:
		return "重办"
	case Close:
		return "办结"
	case DirectClose:
		return "直接办结"
	case ResolveAppeal:
		return "申诉纠正"
	case RejectAppeal:
		return "驳回申诉"
	case CorrectPlace:
		return "更正事发地"
	}
	return string(a)
}

// Role is the part a caller plays in a ticket's lifecycle. The ticket
// service derives it from the caller's healthcode grants and the ticket:
//
//	Operator       healthcode.RoleOperator (12320 operator/dispatcher) granted
//	               at the province (61) or at the ticket's city
//	Handler        healthcode.RoleHandler granted at the ticket's handling unit
//	               (the region the unit serves, or an ancestor of it)
//	UnitSupervisor healthcode.RoleAdmin granted at the parent region of the
//	               handling unit (permission ticket.supervise)
//	Province       healthcode.RoleAdmin granted at the province (61): the
//	               provincial office (省应对疫情领导小组办公室) that receives
//	               escalations
//	Resident       healthcode.RoleResident, the person who filed the ticket
//	System         no staff role: the scheduler (workers) that supervises
//	               overdue tickets
//
// A caller holding several grants may act in several roles; the service
// passes the one that the action needs.
type Role string

// The lifecycle roles.
const (
	Operator       Role = "OPERATOR"
	Handler        Role = "HANDLER"
	UnitSupervisor Role = "UNIT_SUPERVISOR"
	Province       Role = "PROVINCE"
	Resident       Role = "RESIDENT"
	System         Role = "SYSTEM"
)

// Roles lists every Role. Callers must not modify it.
var Roles = []Role{Operator, Handler, UnitSupervisor, Province, Resident, System}

// Valid reports whether r is a known lifecycle role. Any caller; no error.
func (r Role) Valid() bool {
	switch r {
	case Operator, Handler, UnitSupervisor, Province, Resident, System:
		return true
	}
	return false
}

// Label is the role's Chinese name, as FORBIDDEN messages quote it. Any
// caller; no error.
func (r Role) Label() string {
	switch r {
	case Operator:
		return "12320话务员"
	case Handler:
		return "承办人员"
	case UnitSupervisor:
		return "承办单位上级管理员"
	case Province:
		return "省应对疫情领导小组办公室"
	case Resident:
		return "居民"
	case System:
		return "系统"
	}
	return string(r)
}

// Satisfaction is the resident's verdict recorded at the callback (回访).
type Satisfaction string

// The satisfaction levels. The indicators count (满意 + 0.8 × 基本满意) ÷
// valid callbacks (SPEC §6).
const (
	Satisfied          Satisfaction = "SATISFIED"           // 满意
	BasicallySatisfied Satisfaction = "BASICALLY_SATISFIED" // 基本满意
	Dissatisfied       Satisfaction = "DISSATISFIED"        // 不满意: reopens (重办)
)

// Satisfactions lists every Satisfaction. Callers must not modify it.
var Satisfactions = []Satisfaction{Satisfied, BasicallySatisfied, Dissatisfied}

// Valid reports whether s is a known satisfaction level. Any caller; no
// error.
func (s Satisfaction) Valid() bool {
	return s == Satisfied || s == BasicallySatisfied || s == Dissatisfied
}

// Label is the satisfaction's Chinese name. Any caller; no error.
func (s Satisfaction) Label() string {
	switch s {
	case Satisfied:
		return "满意"
	case BasicallySatisfied:
		return "基本满意"
	case Dissatisfied:
		return "不满意"
	}
	return string(s)
}

// Decision is the verdict on a requested extension (审批延期).
type Decision string

// The extension decisions.
const (
	Approve Decision = "APPROVE" // 同意延期
	Reject  Decision = "REJECT"  // 不同意延期
)

// Valid reports whether d is a known decision. Any caller; no error.
func (d Decision) Valid() bool { return d == Approve || d == Reject }

// Label is the decision's Chinese name. Any caller; no error.
func (d Decision) Label() string {
	switch d {
	case Approve:
		return "同意延期"
	case Reject:
		return "不同意延期"
	}
	return string(d)
}

// Visibility says who sees a step in the ticket's history.
type Visibility string

// The visibilities.
const (
	// Public: the step appears in the resident's view of the ticket with its
	// Input.Text (a reply, a closing text, the dispatch to a unit...).
	// Input.Reason is never shown to the resident, whatever the visibility.
	Public Visibility = "PUBLIC"
	// Internal: the step is shown to staff only (notes, returns, supervision,
	// extensions, escalations, corrections of the place).
	Internal Visibility = "INTERNAL"
)

// Label is the visibility's Chinese name. Any caller; no error.
func (v Visibility) Label() string {
	switch v {
	case Public:
		return "公开"
	case Internal:
		return "内部"
	}
	return string(v)
}

// Effect is something the ticket service does after (and in the same
// transaction as) a step. Clocks are deadline clocks counted in working
// time; notifications go through the outbox.
type Effect string

// The effects.
const (
	// StartSignClock starts the sign deadline (签收时限) from now.
	StartSignClock Effect = "START_SIGN_CLOCK"
	// StopSignClock stops the sign clock; the service records whether the
	// ticket was signed in time (response rate).
	StopSignClock Effect = "STOP_SIGN_CLOCK"
	// StartReplyClock starts the reply deadline (办理时限), counted from the
	// dispatch.
	StartReplyClock Effect = "START_REPLY_CLOCK"
	// StartCallbackClock starts the callback deadline (回访时限) from the reply.
	StartCallbackClock Effect = "START_CALLBACK_CLOCK"
	// StopClocks stops every running clock of the ticket.
	StopClocks Effect = "STOP_CLOCKS"
	// ExtendDeadline moves the running reply deadline by the approved
	// extension the service stored with the request.
	ExtendDeadline Effect = "EXTEND_DEADLINE"
	// MarkExtensionPending records the pending extension request.
	MarkExtensionPending Effect = "MARK_EXTENSION_PENDING"
	// ClearExtensionPending ends the pending request: decided, or withdrawn
	// because the ticket left SIGNED/IN_PROGRESS.
	ClearExtensionPending Effect = "CLEAR_EXTENSION_PENDING"
	// MarkSupervised records supervision (督办) of the current round.
	MarkSupervised Effect = "MARK_SUPERVISED"
	// IncrementReopen counts a reopening (重办) for the reopen rate.
	IncrementReopen Effect = "INCREMENT_REOPEN"
	// RecordSatisfaction stores the callback's satisfaction (indicators).
	RecordSatisfaction Effect = "RECORD_SATISFACTION"
	// LinkMerged links the ticket to the one it was merged into.
	LinkMerged Effect = "LINK_MERGED"
	// CorrectFacts applies the fact corrections of a code appeal through the
	// code service in the same transaction, which re-evaluates the code.
	CorrectFacts Effect = "CORRECT_FACTS"
	// NotifyResident sends the resident an SMS about the step.
	NotifyResident Effect = "NOTIFY_RESIDENT"
	// NotifyUnit notifies the handling unit (Ticket.Unit after the step).
	NotifyUnit Effect = "NOTIFY_UNIT"
	// NotifyParent notifies the parent region of the handling unit.
	NotifyParent Effect = "NOTIFY_PARENT"
	// NotifyDispatcher notifies the operators who dispatch the ticket.
	NotifyDispatcher Effect = "NOTIFY_DISPATCHER"
	// NotifyProvince notifies the provincial office.
	NotifyProvince Effect = "NOTIFY_PROVINCE"
	// SetPlace replaces the ticket's place (the region it concerns) with
	// Input.Place; the service records the old and the new place. The unit
	// of any later dispatch must be in the new place's county.
	SetPlace Effect = "SET_PLACE"
)
