package rules

import (
	"strings"
	"time"
)

// The unified rules' green outcome: no clause holds (Annex 1 一(三)).
const (
	GreenClauseID  = "G"
	GreenCitation  = "附件1 一(三)"
	greenQuotation = "来自疫情低风险地区的人员；高风险、中风险人员以外的人员"
)

// ExplainGreen explains why the facts give GREEN under rs at now, for
// readers who compare another colour with the unified one (the deviations of
// city sub-systems): the stays (other than the residence) inside the window
// with their current risk, and the clauses of rs that do not hold. It is
// pure like Evaluate; call it only when Evaluate gave GREEN (it does not
// re-check). nil rs means Default(), nil f no facts. Any caller may; it
// returns no error. FactIDs are the stays named.
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
		b = append(b, s.Place...)
		switch e.riskOf(s.Place) {
		case Abroad:
			b = append(b, "（境外）"...)
		case High:
			b = append(b, "（高风险地区）"...)
		case Medium:
			b = append(b, "（中风险地区）"...)
		default:
			b = append(b, "（低风险地区）"...)
		}
		b = append(b, "旅居"...)
	}
	if len(b) > 0 {
		b = append(b, "；"...)
	} else {
		b = appendSpan(b, w)
		b = append(b, "内无省外或风险地区旅居记录；"...)
	}
	ids := make([]string, len(rs.Clauses))
	for i := range rs.Clauses {
		ids[i] = rs.Clauses[i].ID
	}
	b = append(b, "统一规则（"...)
	b = append(b, rs.Version...)
	b = append(b, "）的"...)
	b = append(b, strings.Join(ids, "、")...)
	b = append(b, "条款均不成立，应赋绿码："...)
	b = append(b, greenQuotation...)
	b = append(b, "（"...)
	b = append(b, GreenCitation...)
	b = append(b, "）"...)
	cr.Reason = string(b)
	return cr
}
