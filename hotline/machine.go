package hotline

import (
	"slices"
	"strings"
	"unicode/utf8"

	"healthcode"
)

// Input length limits, in characters.
const (
	MaxText   = 2000 // Input.Text
	MaxReason = 500  // Input.Reason
)

// Ticket is the part of a stored ticket the machine reads: its state, kind
// and lifecycle flags. The ticket service builds it from storage and stores
// Step.Next; a plain value, it has no methods and no errors.
type Ticket struct {
	// ID is the ticket's id; a ticket cannot be merged into itself.
	ID int64
	// Kind is the ticket's kind.
	Kind Kind
	// State is the current state.
	State State
	// Unit is the handling unit the ticket is (or was last) dispatched to:
	// the code of the region the unit serves (a county or a street). Empty
	// before the first dispatch and after a return (退单).
	Unit string
	// ExtensionPending is set while a requested extension awaits a decision.
	// It is only ever set in SIGNED and IN_PROGRESS.
	ExtensionPending bool
	// Supervised is set when the current handling round has been supervised
	// (督办); a new round (any entry into DISPATCHED) clears it.
	Supervised bool
	// ReopenCount counts reopenings (重办): dissatisfied callbacks and
	// explicit REOPENs.
	ReopenCount int
	// MergedInto is the ticket this one was merged into; set exactly in
	// MERGED.
	MergedInto int64
}

// Input is what the caller supplies with an action; the ticket service
// passes it through from the transport. Fields the action does not use are
// ignored; Needs of the matching Rule say which are required, and Apply
// returns INVALID when one is missing.
type Input struct {
	// Text is the step's text: a reply, an appeal decision, a closing text
	// or an answer (shown to the resident when the step is PUBLIC), or the
	// text of a note or a supervision (INTERNAL). At most MaxText characters.
	Text string
	// Reason is the internal reason of a return, a redispatch, an extension
	// request or refusal, an escalation, a dissatisfied callback or a
	// reopening. Never shown to the resident. At most MaxReason characters.
	Reason string
	// Satisfaction is the callback's verdict (CALLBACK).
	Satisfaction Satisfaction
	// Decision is the extension verdict (DECIDE_EXTENSION).
	Decision Decision
	// TargetUnit is the unit to dispatch to (DISPATCH, REDISPATCH; optional
	// for a dissatisfied CALLBACK and REOPEN, which default to Ticket.Unit).
	TargetUnit string
	// TargetTicket is the ticket to merge into (MERGE).
	TargetTicket int64
	// Place is the corrected place of the ticket (CORRECT_PLACE): a region
	// code; the service checks that it exists and differs from the current one.
	Place string
}

// Step is the outcome of a successful Apply: what the ticket service
// stores (the history entry and Next) and does (Effects). A plain value.
type Step struct {
	// From and To are the states before and after the step (equal for NOTE,
	// SUPERVISE, the extension actions and a redispatch from DISPATCHED).
	From, To State
	// Action is the action taken (the history records it with the actor).
	Action Action
	// Role is the lifecycle role the caller acted in.
	Role Role
	// Visibility says whether the resident sees the step (and its Text).
	Visibility Visibility
	// Effects are the side effects the service performs in the same
	// transaction, in order.
	Effects []Effect
	// Next is the ticket after the step: To as its state, flags and unit
	// updated.
	Next Ticket
}

// Apply takes action a on ticket t for a caller acting in role, with input
// in. It is pure; any caller (the ticket service, after it has checked the
// caller's grants and mapped them to a Role) may use it.
//
// Errors, in the order they are checked:
//   - INVALID: unknown action, role, state or kind;
//   - FORBIDDEN: the role never takes this action (a RESIDENT takes none);
//   - CONFLICT: the action is not possible in the ticket's state
//     (当前状态（已签收）不能执行「派单」);
//   - FORBIDDEN: the action is possible in this state, but not for this role;
//   - CONFLICT: the action does not apply to the ticket's kind (REPLY on a
//     CODE_APPEAL, DIRECT_CLOSE on anything but a CONSULTATION...), or the
//     extension flag forbids it (a second pending request, a decision with
//     no request);
//   - INVALID: a required input is missing or too long.
func Apply(t Ticket, a Action, role Role, in Input) (Step, error) {
	cands, err := candidates(t, a, role)
	if err != nil {
		return Step{}, err
	}
	if err := checkLengths(in); err != nil {
		return Step{}, err
	}
	need := cands[0].Needs
	if need.Satisfaction && !in.Satisfaction.Valid() {
		return Step{}, healthcode.Errorf(healthcode.EINVALID, "请选择回访满意度（满意、基本满意或不满意）")
	}
	if need.Decision && !in.Decision.Valid() {
		return Step{}, healthcode.Errorf(healthcode.EINVALID, "请选择延期审批结果（同意或不同意）")
	}
	r, ok := selectRule(cands, in)
	if !ok {
		return Step{}, healthcode.Errorf(healthcode.EINTERNAL, "hotline: no rule for %s %s outcome", t.State, a)
	}
	if err := checkInput(r, t, in); err != nil {
		return Step{}, err
	}
	return step(r, t, role, in), nil
}

// AllowedActions lists, in the order of Actions, the actions role may take
// on t now: those for which Apply fails with nothing but INVALID for a
// missing input. The user interface shows them as buttons. Any caller; it
// returns nil (no error) for an unknown state, kind or role.
func AllowedActions(t Ticket, role Role) []Action {
	var out []Action
	for _, a := range Actions {
		if _, err := candidates(t, a, role); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// candidates returns the rules for (t.State, a) that role may take, after
// the role, state, kind and flag checks.
func candidates(t Ticket, a Action, role Role) ([]Rule, error) {
	switch {
	case !a.Valid():
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知的工单操作：%s", a)
	case !role.Valid():
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知的工单角色：%s", role)
	case !t.State.Valid():
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知的工单状态：%s", t.State)
	case !t.Kind.Valid():
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知的工单类型：%s", t.Kind)
	}
	ever, inState := false, false
	var out []Rule
	for _, r := range table {
		if r.Action != a {
			continue
		}
		may := slices.Contains(r.Roles, role)
		ever = ever || may
		if r.From == t.State {
			inState = true
			if may {
				out = append(out, r)
			}
		}
	}
	switch {
	case !ever:
		return nil, healthcode.Errorf(healthcode.EFORBIDDEN, "%s无权执行「%s」", role.Label(), a.Label())
	case !inState:
		return nil, healthcode.Errorf(healthcode.ECONFLICT, "当前状态（%s）不能执行「%s」", t.State.Label(), a.Label())
	case len(out) == 0:
		return nil, healthcode.Errorf(healthcode.EFORBIDDEN, "%s无权在当前状态（%s）执行「%s」",
			role.Label(), t.State.Label(), a.Label())
	}
	n := out[0].Needs
	if n.Kinds != nil && !slices.Contains(n.Kinds, t.Kind) {
		labels := make([]string, len(n.Kinds))
		for i, k := range n.Kinds {
			labels[i] = k.Label()
		}
		return nil, healthcode.Errorf(healthcode.ECONFLICT, "「%s」仅适用于%s工单", a.Label(), strings.Join(labels, "、"))
	}
	if slices.Contains(n.ExceptKinds, t.Kind) {
		if a == Reply && t.Kind == CodeAppeal {
			return nil, healthcode.Errorf(healthcode.ECONFLICT, "赋码申诉工单不能直接「答复」，请使用「%s」或「%s」",
				ResolveAppeal.Label(), RejectAppeal.Label())
		}
		return nil, healthcode.Errorf(healthcode.ECONFLICT, "%s工单不能执行「%s」", t.Kind.Label(), a.Label())
	}
	if n.NoExtensionPending && t.ExtensionPending {
		return nil, healthcode.Errorf(healthcode.ECONFLICT, "已有待审批的延期申请，不能重复申请")
	}
	if n.ExtensionPending && !t.ExtensionPending {
		return nil, healthcode.Errorf(healthcode.ECONFLICT, "没有待审批的延期申请")
	}
	return out, nil
}

// selectRule picks the candidate whose When matches the input.
func selectRule(cands []Rule, in Input) (Rule, bool) {
	for _, r := range cands {
		if matches(r.When, in) {
			return r, true
		}
	}
	return Rule{}, false
}

func matches(w Outcome, in Input) bool {
	switch w {
	case AnyOutcome:
		return true
	case OutcomeSatisfied:
		return in.Satisfaction == Satisfied || in.Satisfaction == BasicallySatisfied
	case OutcomeDissatisfied:
		return in.Satisfaction == Dissatisfied
	case OutcomeApproved:
		return in.Decision == Approve
	case OutcomeRejected:
		return in.Decision == Reject
	}
	return false
}

func checkLengths(in Input) error {
	if utf8.RuneCountInString(strings.TrimSpace(in.Text)) > MaxText {
		return healthcode.Errorf(healthcode.EINVALID, "内容不能超过 %d 个字", MaxText)
	}
	if utf8.RuneCountInString(strings.TrimSpace(in.Reason)) > MaxReason {
		return healthcode.Errorf(healthcode.EINVALID, "原因不能超过 %d 个字", MaxReason)
	}
	return nil
}

// checkInput checks the rule's input needs; the messages name the action.
func checkInput(r Rule, t Ticket, in Input) error {
	n := r.Needs
	if n.Text && strings.TrimSpace(in.Text) == "" {
		return healthcode.Errorf(healthcode.EINVALID, "请填写%s内容", textName(r.Action))
	}
	if n.Reason && strings.TrimSpace(in.Reason) == "" {
		return healthcode.Errorf(healthcode.EINVALID, "请填写%s原因", reasonName(r))
	}
	if n.TargetUnit && strings.TrimSpace(in.TargetUnit) == "" {
		return healthcode.Errorf(healthcode.EINVALID, "请选择承办单位")
	}
	if n.Unit && strings.TrimSpace(in.TargetUnit) == "" && t.Unit == "" {
		return healthcode.Errorf(healthcode.EINVALID, "请选择承办单位")
	}
	if n.Place && strings.TrimSpace(in.Place) == "" {
		return healthcode.Errorf(healthcode.EINVALID, "请选择更正后的事发地")
	}
	if n.TargetTicket {
		if in.TargetTicket <= 0 {
			return healthcode.Errorf(healthcode.EINVALID, "请填写要并入的工单号")
		}
		if in.TargetTicket == t.ID {
			return healthcode.Errorf(healthcode.EINVALID, "工单不能并入自身")
		}
	}
	return nil
}

func textName(a Action) string {
	switch a {
	case Reply, ResolveAppeal, RejectAppeal:
		return "答复"
	case Note:
		return "备注"
	case Close:
		return "办结说明"
	case DirectClose:
		return "解答"
	}
	return a.Label()
}

func reasonName(r Rule) string {
	switch {
	case r.Action == DecideExtension:
		return "不同意延期的"
	case r.Action == Callback:
		return "不满意的"
	}
	return r.Action.Label()
}

// step builds the Step of rule r on t.
func step(r Rule, t Ticket, role Role, in Input) Step {
	next := t
	next.State = r.To
	effects := append([]Effect(nil), r.Effects...)
	for _, e := range r.Effects {
		switch e {
		case StartSignClock:
			next.Supervised = false
		case MarkSupervised:
			next.Supervised = true
		case MarkExtensionPending:
			next.ExtensionPending = true
		case ClearExtensionPending:
			next.ExtensionPending = false
		case IncrementReopen:
			next.ReopenCount++
		case LinkMerged:
			next.MergedInto = in.TargetTicket
		}
	}
	if next.ExtensionPending && r.To != Signed && r.To != InProgress {
		// Leaving the handling states withdraws a pending request.
		next.ExtensionPending = false
		effects = append(effects, ClearExtensionPending)
	}
	switch {
	case r.Action == Return:
		next.Unit = ""
	case r.Needs.TargetUnit, r.Needs.Unit && strings.TrimSpace(in.TargetUnit) != "":
		next.Unit = strings.TrimSpace(in.TargetUnit)
	}
	return Step{From: t.State, To: r.To, Action: r.Action, Role: role, Visibility: r.Visibility,
		Effects: effects, Next: next}
}
