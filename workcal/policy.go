package workcal

import (
	"bytes"
	"encoding/json"
	"slices"

	"healthcode"
)

// Kind is the kind of a 12320 hotline ticket (SPEC §5).
type Kind string

// The ticket kinds.
const (
	Consultation Kind = "CONSULTATION" // 政策咨询
	Complaint    Kind = "COMPLAINT"    // 投诉
	Suggestion   Kind = "SUGGESTION"   // 建议
	CodeAppeal   Kind = "CODE_APPEAL"  // 赋码申诉
)

// Urgency is the urgency of a ticket.
type Urgency string

// The urgencies.
const (
	Normal Urgency = "NORMAL" // 一般
	Urgent Urgency = "URGENT" // 紧急
)

// Step is the step of a ticket's lifecycle whose deadline a limit sets. The
// clock of SIGN and REPLY starts at dispatch (派单), that of CALLBACK at the
// reply (答复).
type Step string

// The steps with a deadline.
const (
	Sign     Step = "SIGN"     // 签收
	Reply    Step = "REPLY"    // 答复
	Callback Step = "CALLBACK" // 回访
)

var (
	kinds     = []Kind{Consultation, Complaint, Suggestion, CodeAppeal}
	urgencies = []Urgency{Normal, Urgent}
	steps     = []Step{Sign, Reply, Callback}
)

type policyKey struct {
	kind    Kind
	urgency Urgency
	step    Step
}

// Policy maps (kind, urgency, step) to a time limit. Build it with
// DefaultPolicy or ParsePolicy; the zero Policy has no limits. A Policy is
// immutable and safe for concurrent use.
type Policy struct {
	limits map[policyKey]Limit
}

// DefaultPolicy returns the SPEC §5 defaults. Any caller may use it; it
// returns no error.
//
//	kind          urgency  SIGN  REPLY  CALLBACK
//	CODE_APPEAL   any      2h    24h    1wd
//	COMPLAINT     NORMAL   1wd   5wd    1wd
//	COMPLAINT     URGENT   4wh   2wd    1wd
//	SUGGESTION    NORMAL   1wd   5wd    1wd
//	SUGGESTION    URGENT   4wh   2wd    1wd
//	CONSULTATION  NORMAL   4wh   1wd    1wd
//	CONSULTATION  URGENT   2wh   4wh    1wd
//
// Choices beyond SPEC §5: a code appeal is counted in clock hours whatever
// its urgency, because a wrong red code stops a person living normally,
// nights and holidays included. URGENT halves SIGN and REPLY, rounding to a
// whole unit: half of 1wd (7 working hours) is taken as 4wh, half of 5wd as
// 2wd. Suggestions follow complaints. A consultation that is dispatched
// rather than answered at once must be signed within 4wh (half its reply
// limit) — SPEC §5 gives no sign limit for it. CALLBACK is 1wd from the
// reply for every kind and urgency: urgency concerns solving the problem,
// which the reply has done.
func DefaultPolicy() Policy {
	m := make(map[policyKey]Limit)
	set := func(k Kind, u Urgency, sign, reply, callback Limit) {
		m[policyKey{k, u, Sign}] = sign
		m[policyKey{k, u, Reply}] = reply
		m[policyKey{k, u, Callback}] = callback
	}
	h := func(n int) Limit { return Limit{n, ClockHours} }
	wh := func(n int) Limit { return Limit{n, WorkingHours} }
	wd := func(n int) Limit { return Limit{n, WorkingDays} }
	for _, u := range urgencies {
		set(CodeAppeal, u, h(2), h(24), wd(1))
	}
	for _, k := range []Kind{Complaint, Suggestion} {
		set(k, Normal, wd(1), wd(5), wd(1))
		set(k, Urgent, wh(4), wd(2), wd(1))
	}
	set(Consultation, Normal, wh(4), wd(1), wd(1))
	set(Consultation, Urgent, wh(2), wh(4), wd(1))
	return Policy{limits: m}
}

// policyJSON is the configuration form: kind → urgency → step → limit.
type policyJSON map[Kind]map[Urgency]map[Step]string

// ParsePolicy reads a policy from JSON of the form
//
//	{"COMPLAINT": {"URGENT": {"SIGN": "2wh", "REPLY": "1wd"}}}
//
// Entries present replace the defaults of DefaultPolicy; entries absent keep
// them, so "{}" is the default policy. Any caller may use it (typically on
// configuration at start-up).
//
// It returns an INVALID error for malformed JSON, an unknown kind, urgency
// or step, or a limit that ParseLimit rejects.
func ParsePolicy(data []byte) (Policy, error) {
	var raw policyJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return Policy{}, healthcode.Errorf(healthcode.EINVALID, "办理时限配置不是有效的 JSON：%v", err)
	}
	if dec.More() {
		return Policy{}, healthcode.Errorf(healthcode.EINVALID, "办理时限配置应为单个 JSON 对象")
	}
	p := DefaultPolicy()
	for k, byUrgency := range raw {
		if !slices.Contains(kinds, k) {
			return Policy{}, healthcode.Errorf(healthcode.EINVALID, "办理时限配置中的诉求类型 %q 不正确", string(k))
		}
		for u, bySteps := range byUrgency {
			if !slices.Contains(urgencies, u) {
				return Policy{}, healthcode.Errorf(healthcode.EINVALID, "办理时限配置中的紧急程度 %q 不正确", string(u))
			}
			for s, text := range bySteps {
				if !slices.Contains(steps, s) {
					return Policy{}, healthcode.Errorf(healthcode.EINVALID, "办理时限配置中的环节 %q 不正确", string(s))
				}
				l, err := ParseLimit(text)
				if err != nil {
					return Policy{}, healthcode.Errorf(healthcode.EINVALID, "办理时限配置 %s/%s/%s：%s", k, u, s, healthcode.ErrorMessage(err))
				}
				p.limits[policyKey{k, u, s}] = l
			}
		}
	}
	return p, nil
}

// MarshalJSON writes the whole policy in the form ParsePolicy reads. Any
// caller may use it (e.g. to show the effective configuration); it returns
// no error.
func (p Policy) MarshalJSON() ([]byte, error) {
	out := make(policyJSON)
	for key, l := range p.limits {
		if out[key.kind] == nil {
			out[key.kind] = make(map[Urgency]map[Step]string)
		}
		if out[key.kind][key.urgency] == nil {
			out[key.kind][key.urgency] = make(map[Step]string)
		}
		out[key.kind][key.urgency][key.step] = l.String()
	}
	return json.Marshal(out)
}

// Limit returns the time limit for the step of a ticket of the given kind
// and urgency. Any caller may use it.
//
// It returns an INVALID error for an unknown kind, urgency or step, or when
// the policy has no limit for the combination (only possible with the zero
// Policy).
func (p Policy) Limit(kind Kind, urgency Urgency, step Step) (Limit, error) {
	switch {
	case !slices.Contains(kinds, kind):
		return Limit{}, healthcode.Errorf(healthcode.EINVALID, "诉求类型 %q 不正确", string(kind))
	case !slices.Contains(urgencies, urgency):
		return Limit{}, healthcode.Errorf(healthcode.EINVALID, "紧急程度 %q 不正确", string(urgency))
	case !slices.Contains(steps, step):
		return Limit{}, healthcode.Errorf(healthcode.EINVALID, "办理环节 %q 不正确", string(step))
	}
	l, ok := p.limits[policyKey{kind, urgency, step}]
	if !ok {
		return Limit{}, healthcode.Errorf(healthcode.EINVALID, "未配置 %s/%s/%s 的办理时限", kind, urgency, step)
	}
	return l, nil
}
