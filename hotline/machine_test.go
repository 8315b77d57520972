package hotline

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"healthcode"
)

// expectations is the machine written out independently of table: one line
// per (state, action): the roles that may take it, the state it leads to
// (for CALLBACK with a satisfied verdict, for DECIDE_EXTENSION with either)
// and, optionally, the kinds it is restricted to ("!" excludes).
const expectations = `
ACCEPTED    DISPATCH          OPERATOR                                   DISPATCHED
ACCEPTED    NOTE              OPERATOR,HANDLER,UNIT_SUPERVISOR,PROVINCE  ACCEPTED
ACCEPTED    MERGE             OPERATOR                                   MERGED
ACCEPTED    DIRECT_CLOSE      OPERATOR                                   CLOSED       CONSULTATION
ACCEPTED    CORRECT_PLACE     OPERATOR                                   ACCEPTED
DISPATCHED  CORRECT_PLACE     OPERATOR,PROVINCE                          DISPATCHED
SIGNED      CORRECT_PLACE     OPERATOR,PROVINCE                          SIGNED
IN_PROGRESS CORRECT_PLACE     OPERATOR,PROVINCE                          IN_PROGRESS
REPLIED     CORRECT_PLACE     OPERATOR                                   REPLIED
ESCALATED   CORRECT_PLACE     PROVINCE                                   ESCALATED
DISPATCHED  SIGN              HANDLER                                    SIGNED
DISPATCHED  RETURN            HANDLER                                    ACCEPTED
DISPATCHED  REDISPATCH        OPERATOR,PROVINCE                          DISPATCHED
DISPATCHED  NOTE              OPERATOR,HANDLER,UNIT_SUPERVISOR,PROVINCE  DISPATCHED
DISPATCHED  SUPERVISE         UNIT_SUPERVISOR,SYSTEM                     DISPATCHED
DISPATCHED  MERGE             OPERATOR                                   MERGED
SIGNED      RETURN            HANDLER                                    ACCEPTED
SIGNED      REDISPATCH        OPERATOR,PROVINCE                          DISPATCHED
SIGNED      START             HANDLER                                    IN_PROGRESS
SIGNED      REPLY             HANDLER                                    REPLIED      !CODE_APPEAL
SIGNED      RESOLVE_APPEAL    HANDLER                                    REPLIED      CODE_APPEAL
SIGNED      REJECT_APPEAL     HANDLER                                    REPLIED      CODE_APPEAL
SIGNED      NOTE              OPERATOR,HANDLER,UNIT_SUPERVISOR,PROVINCE  SIGNED
SIGNED      REQUEST_EXTENSION HANDLER                                    SIGNED
SIGNED      DECIDE_EXTENSION  UNIT_SUPERVISOR                            SIGNED
SIGNED      SUPERVISE         UNIT_SUPERVISOR,SYSTEM                     SIGNED
SIGNED      ESCALATE          HANDLER,OPERATOR                           ESCALATED
IN_PROGRESS REDISPATCH        OPERATOR,PROVINCE                          DISPATCHED
IN_PROGRESS REPLY             HANDLER                                    REPLIED      !CODE_APPEAL
IN_PROGRESS RESOLVE_APPEAL    HANDLER                                    REPLIED      CODE_APPEAL
IN_PROGRESS REJECT_APPEAL     HANDLER                                    REPLIED      CODE_APPEAL
IN_PROGRESS NOTE              OPERATOR,HANDLER,UNIT_SUPERVISOR,PROVINCE  IN_PROGRESS
IN_PROGRESS REQUEST_EXTENSION HANDLER                                    IN_PROGRESS
IN_PROGRESS DECIDE_EXTENSION  UNIT_SUPERVISOR                            IN_PROGRESS
IN_PROGRESS SUPERVISE         UNIT_SUPERVISOR,SYSTEM                     IN_PROGRESS
IN_PROGRESS ESCALATE          HANDLER,OPERATOR                           ESCALATED
REPLIED     NOTE              OPERATOR,HANDLER,UNIT_SUPERVISOR,PROVINCE  REPLIED
REPLIED     CALLBACK          OPERATOR                                   CLOSED
REPLIED     CLOSE             OPERATOR                                   CLOSED
CLOSED      REOPEN            OPERATOR                                   DISPATCHED
ESCALATED   REDISPATCH        PROVINCE                                   DISPATCHED
ESCALATED   NOTE              OPERATOR,HANDLER,UNIT_SUPERVISOR,PROVINCE  ESCALATED
ESCALATED   CLOSE             PROVINCE                                   CLOSED
`

// internalActions is the definition of INTERNAL visibility: exactly these
// actions are hidden from the resident.
var internalActions = []Action{Note, Return, Supervise, RequestExtension, DecideExtension, Escalate, CorrectPlace}

// stayActions never change the state.
var stayActions = []Action{Note, Supervise, RequestExtension, DecideExtension, CorrectPlace}

type expectation struct {
	roles []Role
	to    State
	kinds []Kind // nil = every kind
}

type sa struct {
	s State
	a Action
}

func parseExpectations(t testing.TB) map[sa]expectation {
	t.Helper()
	out := map[sa]expectation{}
	for _, line := range strings.Split(strings.TrimSpace(expectations), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || len(f) > 5 {
			t.Fatalf("bad expectation line %q", line)
		}
		e := expectation{to: State(f[3])}
		for _, r := range strings.Split(f[2], ",") {
			e.roles = append(e.roles, Role(r))
		}
		if len(f) == 5 {
			if k, ok := strings.CutPrefix(f[4], "!"); ok {
				for _, x := range Kinds {
					if x != Kind(k) {
						e.kinds = append(e.kinds, x)
					}
				}
			} else {
				e.kinds = []Kind{Kind(f[4])}
			}
		}
		key := sa{State(f[0]), Action(f[1])}
		if _, dup := out[key]; dup {
			t.Fatalf("duplicate expectation %v", key)
		}
		out[key] = e
	}
	return out
}

// fullInput satisfies every input need (CALLBACK: satisfied, extension:
// approved).
var fullInput = Input{Text: "已核实并处理", Reason: "辖区不符", Satisfaction: Satisfied, Decision: Approve,
	TargetUnit: "610113", TargetTicket: 99, Place: "610103001001"}

func ticketIn(s State, k Kind) Ticket {
	t := Ticket{ID: 1, Kind: k, State: s}
	if s != Accepted {
		t.Unit = "610103"
	}
	if s == Merged {
		t.MergedInto = 7
	}
	return t
}

func wantCode(t *testing.T, err error, code, ctx string) {
	t.Helper()
	if got := healthcode.ErrorCode(err); got != code {
		t.Fatalf("%s: error code = %q (%v), want %q", ctx, got, err, code)
	}
}

// TestEveryTriple covers every (state, action, role) triple, for every kind,
// against the independent expectations.
func TestEveryTriple(t *testing.T) {
	exp := parseExpectations(t)
	everRoles := map[Action][]Role{}
	for k, e := range exp {
		if !k.s.Valid() || !k.a.Valid() || !e.to.Valid() {
			t.Fatalf("expectation %v uses unknown names", k)
		}
		everRoles[k.a] = append(everRoles[k.a], e.roles...)
	}
	n := 0
	for _, kind := range Kinds {
		for _, s := range States {
			for _, a := range Actions {
				for _, role := range Roles {
					n++
					ctx := fmt.Sprintf("%s %s/%s by %s", kind, s, a, role)
					tk := ticketIn(s, kind)
					tk.ExtensionPending = a == DecideExtension && (s == Signed || s == InProgress)
					step, err := Apply(tk, a, role, fullInput)
					allowed := slices.Contains(AllowedActions(tk, role), a)
					e, inState := exp[sa{s, a}]
					switch {
					case !slices.Contains(everRoles[a], role):
						wantCode(t, err, healthcode.EFORBIDDEN, ctx)
						if m := healthcode.ErrorMessage(err); !strings.Contains(m, role.Label()) || !strings.Contains(m, a.Label()) {
							t.Fatalf("%s: message %q names neither role nor action", ctx, m)
						}
					case !inState:
						wantCode(t, err, healthcode.ECONFLICT, ctx)
						want := "当前状态（" + s.Label() + "）不能执行「" + a.Label() + "」"
						if m := healthcode.ErrorMessage(err); m != want {
							t.Fatalf("%s: message %q, want %q", ctx, m, want)
						}
					case !slices.Contains(e.roles, role):
						wantCode(t, err, healthcode.EFORBIDDEN, ctx)
						if m := healthcode.ErrorMessage(err); !strings.Contains(m, role.Label()) {
							t.Fatalf("%s: message %q does not name the role", ctx, m)
						}
					case e.kinds != nil && !slices.Contains(e.kinds, kind):
						wantCode(t, err, healthcode.ECONFLICT, ctx)
					default:
						if err != nil {
							t.Fatalf("%s: unexpected error %v", ctx, err)
						}
						if step.From != s || step.To != e.to || step.Next.State != e.to || step.Action != a || step.Role != role {
							t.Fatalf("%s: step %+v, want %s → %s", ctx, step, s, e.to)
						}
						wantVis := Public
						if slices.Contains(internalActions, a) {
							wantVis = Internal
						}
						if step.Visibility != wantVis {
							t.Fatalf("%s: visibility %s, want %s", ctx, step.Visibility, wantVis)
						}
						if !allowed {
							t.Fatalf("%s: Apply succeeds but AllowedActions omits it", ctx)
						}
						continue
					}
					if allowed {
						t.Fatalf("%s: AllowedActions lists it but Apply fails: %v", ctx, err)
					}
				}
			}
		}
	}
	if want := len(Kinds) * len(States) * len(Actions) * len(Roles); n != want {
		t.Fatalf("covered %d combinations, want %d", n, want)
	}
}

// TestTableMatchesExpectations checks the other direction: every rule of the
// table is in the expectations, with the same roles and target.
func TestTableMatchesExpectations(t *testing.T) {
	exp := parseExpectations(t)
	seen := map[sa]bool{}
	for _, r := range Rules() {
		e, ok := exp[sa{r.From, r.Action}]
		if !ok {
			t.Fatalf("rule %s/%s is not expected", r.From, r.Action)
		}
		seen[sa{r.From, r.Action}] = true
		if !slices.Equal(sortedRoles(r.Roles), sortedRoles(e.roles)) {
			t.Fatalf("rule %s/%s roles %v, want %v", r.From, r.Action, r.Roles, e.roles)
		}
		if r.When != OutcomeDissatisfied && r.To != e.to {
			t.Fatalf("rule %s/%s to %s, want %s", r.From, r.Action, r.To, e.to)
		}
		if slices.Contains(r.Roles, Resident) {
			t.Fatalf("rule %s/%s lets a resident act", r.From, r.Action)
		}
	}
	if len(seen) != len(exp) {
		t.Fatalf("table has %d (state, action) pairs, expectations %d", len(seen), len(exp))
	}
}

func sortedRoles(rs []Role) []Role {
	out := slices.Clone(rs)
	slices.Sort(out)
	return out
}

// TestRulesSharingStateAndAction checks the table invariant Apply relies on:
// rules with the same From and Action share roles and guards, and differ by
// When.
func TestRulesSharingStateAndAction(t *testing.T) {
	groups := map[sa][]Rule{}
	for _, r := range Rules() {
		groups[sa{r.From, r.Action}] = append(groups[sa{r.From, r.Action}], r)
	}
	for k, g := range groups {
		whens := map[Outcome]bool{}
		for _, r := range g {
			if whens[r.When] {
				t.Fatalf("%v: two rules with When %q", k, r.When)
			}
			whens[r.When] = true
			if len(g) > 1 && r.When == AnyOutcome {
				t.Fatalf("%v: several rules, one without When", k)
			}
			if !slices.Equal(r.Roles, g[0].Roles) || !slices.Equal(r.Needs.Kinds, g[0].Needs.Kinds) ||
				!slices.Equal(r.Needs.ExceptKinds, g[0].Needs.ExceptKinds) ||
				r.Needs.ExtensionPending != g[0].Needs.ExtensionPending ||
				r.Needs.NoExtensionPending != g[0].Needs.NoExtensionPending ||
				r.Needs.Satisfaction != g[0].Needs.Satisfaction || r.Needs.Decision != g[0].Needs.Decision {
				t.Fatalf("%v: rules differ in roles or guards", k)
			}
		}
	}
}

func TestCallbackOutcomes(t *testing.T) {
	tk := ticketIn(Replied, Complaint)
	tk.ReopenCount = 1
	tk.Supervised = true
	for _, s := range []Satisfaction{Satisfied, BasicallySatisfied} {
		st, err := Apply(tk, Callback, Operator, Input{Satisfaction: s})
		if err != nil || st.To != Closed || !slices.Contains(st.Effects, RecordSatisfaction) || st.Next.ReopenCount != 1 {
			t.Fatalf("%s: %+v %v", s, st, err)
		}
	}
	_, err := Apply(tk, Callback, Operator, Input{Satisfaction: Dissatisfied})
	wantCode(t, err, healthcode.EINVALID, "dissatisfied without reason")
	if m := healthcode.ErrorMessage(err); m != "请填写不满意的原因" {
		t.Fatalf("message %q", m)
	}
	st, err := Apply(tk, Callback, Operator, Input{Satisfaction: Dissatisfied, Reason: "问题未解决"})
	if err != nil {
		t.Fatal(err)
	}
	if st.To != Dispatched || st.Next.Unit != "610103" || st.Next.ReopenCount != 2 || st.Next.Supervised {
		t.Fatalf("重办: %+v", st)
	}
	for _, e := range []Effect{IncrementReopen, StartSignClock, StartReplyClock, NotifyUnit, RecordSatisfaction} {
		if !slices.Contains(st.Effects, e) {
			t.Fatalf("重办 effects %v lack %s", st.Effects, e)
		}
	}
	for _, in := range []Input{{}, {Satisfaction: "VERY"}} {
		_, err = Apply(tk, Callback, Operator, in)
		wantCode(t, err, healthcode.EINVALID, "callback without satisfaction")
	}
}

func TestExtensions(t *testing.T) {
	tk := ticketIn(InProgress, Complaint)
	st, err := Apply(tk, RequestExtension, Handler, Input{Reason: "需现场核查"})
	if err != nil || !st.Next.ExtensionPending || st.To != InProgress || !slices.Contains(st.Effects, NotifyParent) {
		t.Fatalf("request: %+v %v", st, err)
	}
	_, err = Apply(st.Next, RequestExtension, Handler, Input{Reason: "再次申请"})
	wantCode(t, err, healthcode.ECONFLICT, "second request")
	_, err = Apply(tk, DecideExtension, UnitSupervisor, Input{Decision: Approve})
	wantCode(t, err, healthcode.ECONFLICT, "decision without request")
	if slices.Contains(AllowedActions(tk, UnitSupervisor), DecideExtension) {
		t.Fatal("DECIDE_EXTENSION offered without a pending request")
	}
	if slices.Contains(AllowedActions(st.Next, Handler), RequestExtension) {
		t.Fatal("REQUEST_EXTENSION offered with a pending request")
	}
	_, err = Apply(st.Next, DecideExtension, UnitSupervisor, Input{})
	wantCode(t, err, healthcode.EINVALID, "decision missing")
	_, err = Apply(st.Next, DecideExtension, UnitSupervisor, Input{Decision: Reject})
	wantCode(t, err, healthcode.EINVALID, "rejection without reason")
	ok, err := Apply(st.Next, DecideExtension, UnitSupervisor, Input{Decision: Approve})
	if err != nil || ok.Next.ExtensionPending || !slices.Contains(ok.Effects, ExtendDeadline) {
		t.Fatalf("approve: %+v %v", ok, err)
	}
	no, err := Apply(st.Next, DecideExtension, UnitSupervisor, Input{Decision: Reject, Reason: "时限内可办结"})
	if err != nil || no.Next.ExtensionPending || slices.Contains(no.Effects, ExtendDeadline) ||
		!slices.Contains(no.Effects, ClearExtensionPending) {
		t.Fatalf("reject: %+v %v", no, err)
	}
	// Leaving the handling states withdraws the pending request.
	rep, err := Apply(st.Next, Reply, Handler, Input{Text: "已处理"})
	if err != nil || rep.Next.ExtensionPending || !slices.Contains(rep.Effects, ClearExtensionPending) {
		t.Fatalf("reply with pending request: %+v %v", rep, err)
	}
	// Starting keeps it.
	sg := ticketIn(Signed, Complaint)
	sg.ExtensionPending = true
	s2, err := Apply(sg, Start, Handler, Input{})
	if err != nil || !s2.Next.ExtensionPending || slices.Contains(s2.Effects, ClearExtensionPending) {
		t.Fatalf("start with pending request: %+v %v", s2, err)
	}
}

func TestUnitRouting(t *testing.T) {
	st, err := Apply(ticketIn(Accepted, Complaint), Dispatch, Operator, Input{TargetUnit: " 610113001 "})
	if err != nil || st.Next.Unit != "610113001" {
		t.Fatalf("dispatch: %+v %v", st, err)
	}
	ret, err := Apply(st.Next, Return, Handler, Input{Reason: "不属本辖区"})
	if err != nil || ret.Next.Unit != "" || ret.To != Accepted || ret.Visibility != Internal {
		t.Fatalf("return: %+v %v", ret, err)
	}
	re, err := Apply(ticketIn(InProgress, Complaint), Redispatch, Operator, Input{TargetUnit: "610104", Reason: "改由莲湖区办理"})
	if err != nil || re.Next.Unit != "610104" || re.To != Dispatched {
		t.Fatalf("redispatch: %+v %v", re, err)
	}
	// A directly closed consultation has no unit: reopening needs one.
	dc, err := Apply(ticketIn(Accepted, Consultation), DirectClose, Operator, Input{Text: "已电话解答"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Apply(dc.Next, Reopen, Operator, Input{Reason: "来电人再次来电"})
	wantCode(t, err, healthcode.EINVALID, "reopen without unit")
	ro, err := Apply(dc.Next, Reopen, Operator, Input{Reason: "来电人再次来电", TargetUnit: "610113"})
	if err != nil || ro.Next.Unit != "610113" || ro.Next.ReopenCount != 1 {
		t.Fatalf("reopen: %+v %v", ro, err)
	}
	// A reopened ticket goes back to its unit by default.
	ro2, err := Apply(ticketIn(Closed, Complaint), Reopen, Operator, Input{Reason: "复查"})
	if err != nil || ro2.Next.Unit != "610103" {
		t.Fatalf("reopen to same unit: %+v %v", ro2, err)
	}
}

func TestMerge(t *testing.T) {
	st, err := Apply(ticketIn(Dispatched, Complaint), Merge, Operator, Input{TargetTicket: 42})
	if err != nil || st.Next.MergedInto != 42 || st.To != Merged || !slices.Contains(st.Effects, NotifyUnit) {
		t.Fatalf("merge: %+v %v", st, err)
	}
	if got := AllowedActions(st.Next, Operator); got != nil {
		t.Fatalf("actions on a merged ticket: %v", got)
	}
}

func TestInputValidation(t *testing.T) {
	long := strings.Repeat("字", MaxText+1)
	cases := []struct {
		state State
		kind  Kind
		a     Action
		role  Role
		in    Input
		msg   string
	}{
		{Accepted, Complaint, Dispatch, Operator, Input{TargetUnit: "  "}, "请选择承办单位"},
		{Dispatched, Complaint, Return, Handler, Input{Reason: " \t"}, "请填写退单原因"},
		{Signed, Complaint, Return, Handler, Input{Text: "有文本无原因"}, "请填写退单原因"},
		{Dispatched, Complaint, Redispatch, Operator, Input{TargetUnit: "610104"}, "请填写改派原因"},
		{Dispatched, Complaint, Redispatch, Operator, Input{Reason: "辖区错误"}, "请选择承办单位"},
		{Signed, Complaint, Reply, Handler, Input{}, "请填写答复内容"},
		{InProgress, CodeAppeal, ResolveAppeal, Handler, Input{}, "请填写答复内容"},
		{InProgress, CodeAppeal, RejectAppeal, Handler, Input{Reason: "内部"}, "请填写答复内容"},
		{Replied, Complaint, Note, Operator, Input{}, "请填写备注内容"},
		{Signed, Complaint, RequestExtension, Handler, Input{}, "请填写申请延期原因"},
		{Signed, Complaint, Escalate, Operator, Input{}, "请填写上报原因"},
		{Accepted, Complaint, Merge, Operator, Input{}, "请填写要并入的工单号"},
		{Accepted, Complaint, Merge, Operator, Input{TargetTicket: 1}, "工单不能并入自身"},
		{Closed, Complaint, Reopen, Operator, Input{}, "请填写重办原因"},
		{Replied, Complaint, Close, Operator, Input{}, "请填写办结说明内容"},
		{Escalated, Complaint, Close, Province, Input{}, "请填写办结说明内容"},
		{Accepted, Consultation, DirectClose, Operator, Input{}, "请填写解答内容"},
		{Signed, Complaint, Reply, Handler, Input{Text: long}, "内容不能超过 2000 个字"},
		{Signed, Complaint, Escalate, Handler, Input{Reason: strings.Repeat("因", MaxReason+1)}, "原因不能超过 500 个字"},
	}
	for _, c := range cases {
		_, err := Apply(ticketIn(c.state, c.kind), c.a, c.role, c.in)
		ctx := fmt.Sprintf("%s/%s by %s", c.state, c.a, c.role)
		wantCode(t, err, healthcode.EINVALID, ctx)
		if m := healthcode.ErrorMessage(err); m != c.msg {
			t.Fatalf("%s: message %q, want %q", ctx, m, c.msg)
		}
	}
}

func TestKindMessages(t *testing.T) {
	_, err := Apply(ticketIn(Signed, CodeAppeal), Reply, Handler, fullInput)
	wantCode(t, err, healthcode.ECONFLICT, "reply on appeal")
	if m := healthcode.ErrorMessage(err); !strings.Contains(m, "申诉纠正") {
		t.Fatalf("message %q does not point to the appeal actions", m)
	}
	_, err = Apply(ticketIn(Accepted, Complaint), DirectClose, Operator, fullInput)
	if m := healthcode.ErrorMessage(err); m != "「直接办结」仅适用于政策咨询工单" {
		t.Fatalf("message %q", m)
	}
	_, err = Apply(ticketIn(Signed, Complaint), ResolveAppeal, Handler, fullInput)
	if m := healthcode.ErrorMessage(err); m != "「申诉纠正」仅适用于赋码申诉工单" {
		t.Fatalf("message %q", m)
	}
}

func TestResolveAppealCorrectsFacts(t *testing.T) {
	st, err := Apply(ticketIn(InProgress, CodeAppeal), ResolveAppeal, Handler, Input{Text: "经核实已撤销错误行程，健康码已重新评定"})
	if err != nil || st.Effects[0] != CorrectFacts || !slices.Contains(st.Effects, NotifyResident) {
		t.Fatalf("resolve: %+v %v", st, err)
	}
	st, err = Apply(ticketIn(InProgress, CodeAppeal), RejectAppeal, Handler, Input{Text: "赋码依据属实，维持原码"})
	if err != nil || slices.Contains(st.Effects, CorrectFacts) || !slices.Contains(st.Effects, NotifyResident) {
		t.Fatalf("reject: %+v %v", st, err)
	}
}

func TestUnknownValues(t *testing.T) {
	good := ticketIn(Accepted, Complaint)
	cases := []struct {
		t    Ticket
		a    Action
		role Role
	}{
		{good, "FLY", Operator},
		{good, Dispatch, "MAYOR"},
		{Ticket{Kind: Complaint, State: "LOST"}, Dispatch, Operator},
		{Ticket{Kind: "GOSSIP", State: Accepted}, Dispatch, Operator},
	}
	for _, c := range cases {
		_, err := Apply(c.t, c.a, c.role, fullInput)
		wantCode(t, err, healthcode.EINVALID, fmt.Sprint(c))
		if c.a.Valid() && AllowedActions(c.t, c.role) != nil {
			t.Fatalf("%v: actions offered", c)
		}
	}
}

func TestStepDoesNotAliasTable(t *testing.T) {
	st, err := Apply(ticketIn(Accepted, Complaint), Dispatch, Operator, fullInput)
	if err != nil {
		t.Fatal(err)
	}
	st.Effects[0] = "BROKEN"
	rs := Rules()
	rs[0].Roles[0] = Resident
	st2, _ := Apply(ticketIn(Accepted, Complaint), Dispatch, Operator, fullInput)
	if st2.Effects[0] != StartSignClock {
		t.Fatal("Step.Effects aliases the table")
	}
	if Rules()[0].Roles[0] != Operator {
		t.Fatal("Rules aliases the table")
	}
}

func TestLabels(t *testing.T) {
	check := func(name string, codes, labels []string) {
		seen := map[string]bool{}
		for i, l := range labels {
			if l == "" || l == codes[i] || seen[l] {
				t.Fatalf("%s %s: label %q missing or duplicate", name, codes[i], l)
			}
			seen[l] = true
		}
	}
	var c, l []string
	for _, x := range States {
		c, l = append(c, string(x)), append(l, x.Label())
	}
	check("state", c, l)
	c, l = nil, nil
	for _, x := range Actions {
		c, l = append(c, string(x)), append(l, x.Label())
	}
	check("action", c, l)
	c, l = nil, nil
	for _, x := range Roles {
		c, l = append(c, string(x)), append(l, x.Label())
	}
	check("role", c, l)
	c, l = nil, nil
	for _, x := range Kinds {
		c, l = append(c, string(x)), append(l, x.Label())
	}
	check("kind", c, l)
	c, l = nil, nil
	for _, x := range Channels {
		c, l = append(c, string(x)), append(l, x.Label())
	}
	check("channel", c, l)
	c, l = nil, nil
	for _, x := range Satisfactions {
		c, l = append(c, string(x)), append(l, x.Label())
	}
	check("satisfaction", c, l)
	check("urgency", []string{string(Normal), string(Urgent)}, []string{Normal.Label(), Urgent.Label()})
	check("decision", []string{string(Approve), string(Reject)}, []string{Approve.Label(), Reject.Label()})
	check("visibility", []string{string(Public), string(Internal)}, []string{Public.Label(), Internal.Label()})
	if Accepted.Label() != "受理" || Escalated.Label() != "已上报省办" || Dispatch.Label() != "派单" {
		t.Fatal("labels drifted from the specification")
	}
	for _, s := range States {
		if s.Open() == (s == Closed || s == Merged) {
			t.Fatalf("%s: Open() = %v", s, s.Open())
		}
	}
}

// TestReachability explores every (state, kind, flags) ticket reachable from
// ACCEPTED and checks that every state is reachable and that CLOSED or
// MERGED can be reached from every reachable ticket (no dead ends).
func TestReachability(t *testing.T) {
	inputs := []Input{fullInput,
		{Text: "x", Reason: "y", Satisfaction: Dissatisfied, Decision: Reject, TargetUnit: "610113", TargetTicket: 99, Place: "610113001001"}}
	type node struct {
		s       State
		k       Kind
		pending bool
	}
	succ := map[node][]node{}
	seen := map[node]bool{}
	var queue []node
	for _, k := range Kinds {
		n := node{Accepted, k, false}
		seen[n], queue = true, append(queue, n)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		tk := ticketIn(n.s, n.k)
		tk.ExtensionPending = n.pending
		for _, role := range Roles {
			for _, a := range AllowedActions(tk, role) {
				for _, in := range inputs {
					st, err := Apply(tk, a, role, in)
					if err != nil {
						t.Fatalf("%v %s by %s: allowed but %v", n, a, role, err)
					}
					m := node{st.Next.State, st.Next.Kind, st.Next.ExtensionPending}
					succ[n] = append(succ[n], m)
					if !seen[m] {
						seen[m], queue = true, append(queue, m)
					}
				}
			}
		}
	}
	reached := map[State]bool{}
	for n := range seen {
		reached[n.s] = true
	}
	for _, s := range States {
		if !reached[s] {
			t.Fatalf("state %s is unreachable", s)
		}
	}
	// Backward closure from the terminal states.
	done := map[node]bool{}
	for changed := true; changed; {
		changed = false
		for n := range seen {
			if done[n] {
				continue
			}
			if n.s == Closed || n.s == Merged {
				done[n], changed = true, true
				continue
			}
			for _, m := range succ[n] {
				if done[m] {
					done[n], changed = true, true
					break
				}
			}
		}
	}
	for n := range seen {
		if !done[n] {
			t.Fatalf("%v cannot reach CLOSED or MERGED", n)
		}
	}
}

// CORRECT_PLACE needs the new place and a reason, keeps the state and the
// unit, and is internal.
func TestCorrectPlace(t *testing.T) {
	tk := ticketIn(Signed, Complaint)
	if _, err := Apply(tk, CorrectPlace, Operator, Input{Reason: "来电人确认"}); healthcode.ErrorMessage(err) != "请选择更正后的事发地" {
		t.Fatalf("without a place: %v", err)
	}
	if _, err := Apply(tk, CorrectPlace, Operator, Input{Place: "610103001001"}); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Fatalf("without a reason: %v", err)
	}
	if _, err := Apply(tk, CorrectPlace, Handler, Input{Place: "610103001001", Reason: "不属本单位"}); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Fatalf("a handler corrects the place: %v", err)
	}
	st, err := Apply(tk, CorrectPlace, Operator, Input{Place: "610103001001", Reason: "来电人确认"})
	if err != nil || st.Next.State != Signed || st.Next.Unit != tk.Unit || st.Visibility != Internal || !slices.Equal(st.Effects, []Effect{SetPlace}) {
		t.Fatalf("corrected: %+v %v", st, err)
	}
}
