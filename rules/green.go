package rules

import (
	"strconv"
	"time"
)

// The unified rules' green outcome: no clause holds (Annex 1 一(三)).
const (
	GreenClauseID  = "G"
	GreenCitation  = "附件1 一(三)"
	greenQuotation = "来自疫情低风险地区的人员；高风险、中风险人员以外的人员"
)

// GreenClause explains a GREEN result of rs: clause G (附件1 一(三)), whose
// reason names every clause of rs that was checked and found not to hold,
// each with what it looks for. It depends on the rule set only, not on the
// facts or the time, so a green code can carry it without being re-evaluated
// when time passes; Evaluate itself returns no clause for GREEN. nil rs means
// Default(). FactIDs and Until are nil. Any caller may use it (storage shows
// it on green codes); it returns no error.
func GreenClause(rs *RuleSet) ClauseResult {
	if rs == nil {
		rs = defaultSet
	}
	return ClauseResult{ID: GreenClauseID, Colour: Green, Citation: GreenCitation,
		Reason: string(appendGreenReason(nil, rs))}
}

// appendGreenReason appends the reason of clause G under rs.
func appendGreenReason(b []byte, rs *RuleSet) []byte {
	b = append(b, "按统一规则（"...)
	b = append(b, rs.Version...)
	b = append(b, "）核查，"...)
	for i := range rs.Clauses {
		c := &rs.Clauses[i]
		if i > 0 {
			b = append(b, "、"...)
		}
		b = append(b, c.ID...)
	}
	b = append(b, "条款均不成立，即不存在以下情形："...)
	for i := range rs.Clauses {
		c := &rs.Clauses[i]
		if i > 0 {
			b = append(b, "；"...)
		}
		b = appendCondition(b, c, rs)
		b = append(b, "（"...)
		b = append(b, c.ID...)
		b = append(b, "）"...)
	}
	b = append(b, "。应赋绿码："...)
	b = append(b, greenQuotation...)
	b = append(b, "（"...)
	b = append(b, GreenCitation...)
	return append(b, "）"...)
}

// appendCondition appends what clause c looks for, in Chinese.
func appendCondition(b []byte, c *Clause, rs *RuleSet) []byte {
	w := c.window(rs)
	switch c.Kind {
	case KindStayRisk:
		names := levelNames(c.Params.Levels)
		if c.Params.NormalDays == nil {
			b = appendSpan(b, w)
			b = append(b, "内有"...)
			b = append(b, names...)
			return append(b, "旅居史"...)
		}
		b = append(b, "来自"...)
		b = append(b, names...)
		b = append(b, "且离开未满"...)
		b = appendSpan(b, w)
		b = append(b, "或尚未连续"...)
		b = strconv.AppendInt(b, int64(*c.Params.NormalDays), 10)
		return append(b, "天每日健康打卡正常"...)
	case KindMedicalOpen:
		b = append(b, eventPhrase(c.Params.Start)...)
		b = append(b, "且其后尚无"...)
		for i, k := range c.Params.End {
			if i > 0 {
				b = append(b, "或"...)
			}
			b = append(b, eventNoun(k)...)
		}
		return append(b, "记录"...)
	case KindCloseContact:
		b = append(b, "被认定为密切接触者且末次接触未满"...)
		return appendSpan(b, w)
	case KindAfterDischarge:
		b = append(b, "治愈出院未满"...)
		b = appendSpan(b, w)
		return append(b, "，或出院后尚无复诊正常记录"...)
	case KindFollowupHome:
		b = append(b, "出院后复诊正常，居家隔离医学观察未满"...)
		return appendSpan(b, w)
	case KindAbnormalHealth:
		threshold := 0.0
		if c.Params.Threshold != nil {
			threshold = *c.Params.Threshold
		}
		b = append(b, "体温超过"...)
		b = strconv.AppendFloat(b, threshold, 'f', -1, 64)
		b = append(b, "℃或出现"...)
		for i, s := range c.Params.Symptoms {
			if i > 0 {
				b = append(b, "、"...)
			}
			b = append(b, SymptomLabel(s)...)
		}
		b = append(b, "症状，且此后尚未连续"...)
		b = strconv.AppendInt(b, int64(c.normalDays(rs)), 10)
		return append(b, "天每日健康打卡正常"...)
	case KindDesignation:
		b = append(b, "被认定为需纳入"...)
		if c.Params.Colour == Red {
			b = append(b, "高风险"...)
		} else {
			b = append(b, "中风险"...)
		}
		b = append(b, "人员管理的人员"...)
		if c.needsApproval() {
			b = append(b, "（经审核）"...)
		}
		return b
	}
	return append(b, c.Kind...)
}

// levelNames names risk levels, most severe first: "境外或高风险地区".
func levelNames(levels []string) string {
	var b []byte
	for _, l := range [...]string{Abroad, High, Medium, Low} {
		if !contains(levels, l) {
			continue
		}
		if len(b) > 0 {
			b = append(b, "或"...)
		}
		switch l {
		case Abroad:
			b = append(b, "境外"...)
		case High:
			b = append(b, "高风险地区"...)
		case Medium:
			b = append(b, "中风险地区"...)
		default:
			b = append(b, "低风险地区"...)
		}
	}
	return string(b)
}

// ExplainGreen explains why the facts give GREEN under rs at now, for
// readers who compare another colour with the unified one (the deviations of
// city sub-systems): the stays (other than the residence) inside the window
// with their current risk, then the reason of GreenClause. It is pure like
// Evaluate; call it only when Evaluate gave GREEN (it does not re-check).
// nil rs means Default(), nil f no facts. Any caller may; it returns no
// error. FactIDs are the stays named (FactKind STAY).
func ExplainGreen(f *Facts, rs *RuleSet, now time.Time) ClauseResult {
	if f == nil {
		f = emptyFacts
	}
	if rs == nil {
		rs = defaultSet
	}
	e := evaluator{f: f, rs: rs, now: now}
	w := time.Duration(rs.Window)
	cr := ClauseResult{ID: GreenClauseID, Colour: Green, Citation: GreenCitation}
	var b []byte
	for i := range f.Stays {
		s := &f.Stays[i]
		if s.Source == SourceResidence || s.From.After(now) || (s.To != nil && !now.Before(s.To.Add(w))) {
			continue
		}
		if len(cr.FactIDs) > 0 {
			b = append(b, "；"...)
		}
		cr.FactIDs = append(cr.FactIDs, s.ID)
		b = appendStayPeriod(b, s)
		switch level, _ := e.riskOf(s.Place); level {
		case Abroad:
			b = append(b, stayPlace(s)...)
		case High:
			b = appendPlace(b, s, "高风险地区")
		case Medium:
			b = appendPlace(b, s, "中风险地区")
		default:
			b = appendPlace(b, s, "低风险地区")
		}
		b = append(b, "旅居"...)
	}
	if len(b) > 0 {
		b = append(b, "；"...)
	} else {
		b = appendSpan(b, w)
		b = append(b, "内无省外或风险地区旅居记录；"...)
	}
	if len(cr.FactIDs) > 0 {
		cr.FactKind = FactStay
	}
	cr.Reason = string(appendGreenReason(b, rs))
	return cr
}
