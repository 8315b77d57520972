package rules

import (
	"strconv"
	"strings"
	"time"

	"healthcode/divisions"
)

// Result is the outcome of evaluating a person's facts under a rule set.
// Evaluate builds it; storage records it with the code (colour, clause ids,
// rule-set version, reevaluate_at) and the appeal screen shows it.
type Result struct {
	// Colour is RED, YELLOW or GREEN: the most severe colour among the
	// clauses that hold, GREEN if none does.
	Colour string `json:"colour"`
	// Clauses are the clauses that hold, in rule-set order; nil when GREEN.
	Clauses []ClauseResult `json:"clauses"`
	// ReevaluateAt is the earliest instant strictly after the evaluation time
	// at which the result can change with no new fact (a window closing, a
	// designation starting or ending, a future-dated fact taking effect); nil
	// if the result cannot change by time alone.
	ReevaluateAt *time.Time `json:"reevaluateAt"`
	// RuleSetVersion is the Version of the rule set used.
	RuleSetVersion string `json:"ruleSetVersion"`
}

// ClauseResult explains one clause that holds. Evaluate builds it.
type ClauseResult struct {
	ID       string `json:"id"`
	Colour   string `json:"colour"`
	Citation string `json:"citation"`
	// Reason is a Chinese sentence citing the facts and the Annex clause,
	// shown to residents and hotline handlers.
	Reason string `json:"reason"`
	// FactIDs are the ids of the facts behind the clause (stays, medical
	// events, health records, designations), in the order of Facts.
	FactIDs []int64 `json:"factIds"`
	// FactKind is the kind of every fact in FactIDs (fact ids are unique per
	// kind only): STAY, MEDICAL, HEALTH or DESIGNATION, after the clause's
	// kind; "" when FactIDs is empty.
	FactKind string `json:"factKind,omitempty"`
	// CheckIns is set when the clause now waits for consecutive daily normal
	// check-ins to close (abnormal_health, and stay_risk with normalDays
	// after the stay's window): how many are needed and how many the latest
	// run has. nil otherwise.
	CheckIns *CheckInProgress `json:"checkIns,omitempty"`
	// Until is when the clause stops holding by time alone, given the facts
	// in effect at the evaluation time; nil if it needs a new fact to stop.
	Until *time.Time `json:"until"`
}

// CheckInProgress is how far a clause that closes by consecutive daily
// normal check-ins has come: Done of the Needed days.
type CheckInProgress struct {
	Needed int `json:"needed"`
	Done   int `json:"done"`
}

// Fact kinds, as ClauseResult.FactKind names them.
const (
	FactStay        = "STAY"
	FactMedical     = "MEDICAL"
	FactHealth      = "HEALTH"
	FactDesignation = "DESIGNATION"
)

// factKindOf returns the kind of the facts a clause of kind k cites.
func factKindOf(k string) string {
	switch k {
	case KindStayRisk:
		return FactStay
	case KindMedicalOpen, KindCloseContact, KindAfterDischarge, KindFollowupHome:
		return FactMedical
	case KindAbnormalHealth:
		return FactHealth
	case KindDesignation:
		return FactDesignation
	}
	return ""
}

var (
	emptyFacts = &Facts{}
	defaultSet = Default()
)

// Evaluate computes the colour of a person from their facts under rule set rs
// at time now. It is a pure function: no I/O, no clock, no randomness, and it
// never modifies f or rs; the same arguments give an identical Result. rs
// should have passed Validate (unknown kinds are ignored); nil rs means
// Default() and nil f means no facts. Any caller may use it (the API on a
// declaration, workers on re-evaluation, the rule-change preview); it returns
// no error.
func Evaluate(f *Facts, rs *RuleSet, now time.Time) Result {
	if f == nil {
		f = emptyFacts
	}
	if rs == nil {
		rs = defaultSet
	}
	e := evaluator{f: f, rs: rs, now: now}
	res := Result{Colour: Green, RuleSetVersion: rs.Version}
	for i := range rs.Clauses {
		c := &rs.Clauses[i]
		var cr ClauseResult
		var holds bool
		switch c.Kind {
		case KindStayRisk:
			holds = e.stayRisk(c, &cr)
		case KindMedicalOpen:
			holds = e.medicalOpen(c, &cr)
		case KindCloseContact:
			holds = e.closeContact(c, &cr)
		case KindAfterDischarge:
			holds = e.afterDischarge(c, &cr)
		case KindFollowupHome:
			holds = e.followupHome(c, &cr)
		case KindAbnormalHealth:
			holds = e.abnormalHealth(c, &cr)
		case KindDesignation:
			holds = e.designation(c, &cr)
		}
		if !holds {
			continue
		}
		cr.ID, cr.Colour, cr.Citation = c.ID, c.Colour, c.Citation
		if len(cr.FactIDs) > 0 {
			cr.FactKind = factKindOf(c.Kind)
		}
		res.Clauses = append(res.Clauses, cr)
		if severity(c.Colour) > severity(res.Colour) {
			res.Colour = c.Colour
		}
	}
	if e.hasNext {
		res.ReevaluateAt = timePtr(e.next)
	}
	return res
}

// severity orders colours: GREEN < YELLOW < RED.
func severity(colour string) int {
	switch colour {
	case Red:
		return 2
	case Yellow:
		return 1
	}
	return 0
}

// Severity returns 2 for RED, 1 for YELLOW and 0 for anything else, so
// callers can compare colours (e.g. the rule-change preview). It cannot fail.
func Severity(colour string) int { return severity(colour) }

// evaluator carries one evaluation's inputs and the earliest future change.
type evaluator struct {
	f       *Facts
	rs      *RuleSet
	now     time.Time
	next    time.Time
	hasNext bool
}

// consider records t as an instant at which the result may change, if it is
// strictly after now.
func (e *evaluator) consider(t time.Time) {
	if t.After(e.now) && (!e.hasNext || t.Before(e.next)) {
		e.next, e.hasNext = t, true
	}
}

// future reports whether t is strictly after now (facts dated then are not yet
// in effect); if so it records t as a change instant.
func (e *evaluator) future(t time.Time) bool {
	if t.After(e.now) {
		e.consider(t)
		return true
	}
	return false
}

// riskOf returns the risk level of a place at now: ABROAD for abroad, else the
// highest level in force on the place or an ancestor, LOW if none; and since
// when that level has been designated (the earliest From of the designations
// in force at that level; zero for ABROAD and LOW).
func (e *evaluator) riskOf(place string) (level string, since time.Time) {
	if strings.HasPrefix(place, AbroadPrefix) {
		return Abroad, time.Time{}
	}
	best := 0
	for i := range e.f.AreaRisks {
		r := &e.f.AreaRisks[i]
		if !regionCovers(r.Region, place) {
			continue
		}
		if e.future(r.From) {
			continue
		}
		if k := levelRank(r.Level); k > best || (k == best && r.From.Before(since)) {
			best, since = k, r.From
		}
	}
	switch best {
	case 3:
		return High, since
	case 2:
		return Medium, since
	}
	return Low, time.Time{}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// laterThan reports whether event time a (id ai) sorts after b (id bi): by
// time, then by id, so ties are broken deterministically.
func laterThan(a time.Time, ai int64, b time.Time, bi int64) bool {
	return a.After(b) || (a.Equal(b) && ai > bi)
}

// stayRisk: a stay whose risk is in Levels, begun at or before now, that is
// ongoing or ended at e with now < e + W. With NormalDays (check-ins) an
// ended stay whose risk was designated before e + W holds after that too,
// until NormalDays consecutive calendar days after its last day each have a
// normal check-in, and at most until e + StayHorizon.
func (e *evaluator) stayRisk(c *Clause, cr *ClauseResult) bool {
	w := c.window(e.rs)
	checkins := c.Params.NormalDays != nil
	var buf [256]byte
	b := buf[:0]
	var until time.Time
	ongoing := false
	var seen [4]bool // ABROAD, HIGH, MEDIUM, LOW
	// Check-in clauses: whether an ended stay holds, how many wait for
	// check-ins, and the latest first day (after a stay's last day) among
	// those.
	ended, waiting := false, 0
	var firstDay int64
	for i := range e.f.Stays {
		s := &e.f.Stays[i]
		level, since := e.riskOf(s.Place)
		if !contains(c.Params.Levels, level) {
			continue
		}
		if e.future(s.From) {
			continue
		}
		switch {
		case s.To == nil:
			ongoing = true
		case !checkins:
			end := s.To.Add(w)
			if !e.now.Before(end) {
				continue
			}
			e.consider(end)
			until = later(until, end)
		default:
			end, stop := s.To.Add(w), s.To.Add(StayHorizon)
			inWindow := e.now.Before(end)
			if !e.now.Before(stop) || (!inWindow && !since.Before(end)) {
				// Too old to matter, or its area was designated only after
				// its window had closed: the person did not come from a
				// risk area.
				continue
			}
			first := lastDay(s) + 1
			if e.normalRun(c, first) >= int64(*c.Params.NormalDays) {
				if !inWindow {
					continue // the window is over and so is the run
				}
				e.consider(end)
				until = later(until, end)
			} else {
				// Only a check-in ends the wait (or the horizon): nothing
				// changes at the end of the window.
				e.consider(stop)
				until = later(until, stop)
				if waiting == 0 || first > firstDay {
					firstDay = first
				}
				waiting++
			}
			ended = true
		}
		if len(cr.FactIDs) > 0 {
			b = append(b, "；"...)
		}
		cr.FactIDs = append(cr.FactIDs, s.ID)
		b = appendStayPeriod(b, s)
		switch level {
		case Abroad:
			b = append(b, stayPlace(s)...)
			seen[0] = true
		case High:
			b = appendPlace(b, s, "高风险地区")
			seen[1] = true
		case Medium:
			b = appendPlace(b, s, "中风险地区")
			seen[2] = true
		default:
			b = appendPlace(b, s, "低风险地区")
			seen[3] = true
		}
		b = append(b, "旅居"...)
	}
	if len(cr.FactIDs) == 0 {
		return false
	}
	b = append(b, "，"...)
	if ended {
		b = append(b, "来自"...)
	} else {
		b = appendSpan(b, w)
		b = append(b, "内有"...)
	}
	first := true
	for i, name := range [4]string{"境外", "高风险地区", "中风险地区", "低风险地区"} {
		if seen[i] {
			if !first {
				b = append(b, "、"...)
			}
			b = append(b, name...)
			first = false
		}
	}
	if !ended {
		b = append(b, "旅居史"...)
	} else {
		n := int64(*c.Params.NormalDays)
		b = append(b, "，须离开满"...)
		b = appendSpan(b, w)
		b = append(b, "且自离开次日起连续"...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, "天每日健康打卡体温正常、无症状方可转绿"...)
		if waiting > 0 {
			done := e.latestRun(c, firstDay)
			cr.CheckIns = &CheckInProgress{Needed: int(n), Done: int(done)}
			b = append(b, "（最近已连续"...)
			b = strconv.AppendInt(b, done, 10)
			b = append(b, "天）"...)
		} else {
			b = append(b, "（打卡已满"...)
			b = strconv.AppendInt(b, n, 10)
			b = append(b, "天）"...)
		}
	}
	cr.Reason = finish(b, c)
	if !ongoing {
		cr.Until = timePtr(until)
	}
	return true
}

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// lastDay returns the CST day number of a stay's last day: the day of the
// instant before its end (a stay declared to 2020-11-23 is stored to
// 2020-11-24 00:00 and its last day is 2020-11-23), or of its end when it
// has no length (a scan).
func lastDay(s *Stay) int64 {
	if s.To.After(s.From) {
		return dayOf(s.To.Add(-time.Nanosecond))
	}
	return dayOf(*s.To)
}

// dayMarks are, for the calendar days from a first day to today, which days
// have a normal check-in and which an abnormal health record.
type dayMarks struct {
	normal, abnormal []uint64
	span             int64 // days from the first to today, inclusive
	small            [2][4]uint64
}

// markDays fills m for the days from first (a day number) to today under
// c's threshold and symptoms, from the records at or before now, and records
// future-dated health records as change instants.
func (e *evaluator) markDays(c *Clause, first int64, m *dayMarks) {
	m.span = max(dayOf(e.now)-first+1, 0)
	words := (m.span + 63) / 64
	if words <= int64(len(m.small[0])) {
		m.normal, m.abnormal = m.small[0][:words], m.small[1][:words]
	} else {
		m.normal, m.abnormal = make([]uint64, words), make([]uint64, words)
	}
	threshold := *c.Params.Threshold
	for i := range e.f.Health {
		r := &e.f.Health[i]
		if e.future(r.At) {
			continue
		}
		k := dayOf(r.At) - first
		if k < 0 || k >= m.span {
			continue
		}
		if IsAbnormal(r, threshold, c.Params.Symptoms) {
			m.abnormal[k/64] |= 1 << uint(k%64)
		} else if r.Source == SourceCheckin {
			m.normal[k/64] |= 1 << uint(k%64)
		}
	}
}

// isNormal reports whether day k (from the first) has a normal check-in and
// no abnormal record.
func (m *dayMarks) isNormal(k int64) bool {
	bit := uint64(1) << uint(k%64)
	return m.normal[k/64]&bit != 0 && m.abnormal[k/64]&bit == 0
}

// normalRun returns the longest run of consecutive normal days (a normal
// check-in and no abnormal record) from day first to today.
func (e *evaluator) normalRun(c *Clause, first int64) int64 {
	var m dayMarks
	e.markDays(c, first, &m)
	best, run := int64(0), int64(0)
	for k := int64(0); k < m.span; k++ {
		if m.isNormal(k) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// latestRun returns the length of the run of consecutive normal days that
// ends on the latest day from day first to today with a reading (a normal
// check-in or an abnormal record): 0 if there is none or it is abnormal.
// Days after it without a reading do not count yet: a missed day breaks the
// run only once a later reading shows it was missed.
func (e *evaluator) latestRun(c *Clause, first int64) int64 {
	var m dayMarks
	e.markDays(c, first, &m)
	k := m.span - 1
	for ; k >= 0; k-- {
		if (m.normal[k/64]|m.abnormal[k/64])&(1<<uint(k%64)) != 0 {
			break
		}
	}
	run := int64(0)
	for ; k >= 0 && m.isNormal(k); k-- {
		run++
	}
	return run
}

// medicalOpen: the latest Start event at or before now has no End event at or
// after it (and at or before now).
func (e *evaluator) medicalOpen(c *Clause, cr *ClauseResult) bool {
	var start *MedicalEvent
	for i := range e.f.Medical {
		m := &e.f.Medical[i]
		relevant := m.Kind == c.Params.Start || contains(c.Params.End, m.Kind)
		if !relevant || e.future(m.At) {
			continue
		}
		if m.Kind == c.Params.Start && (start == nil || laterThan(m.At, m.ID, start.At, start.ID)) {
			start = m
		}
	}
	if start == nil {
		return false
	}
	for i := range e.f.Medical {
		m := &e.f.Medical[i]
		if contains(c.Params.End, m.Kind) && !m.At.After(e.now) && !m.At.Before(start.At) {
			return false
		}
	}
	var buf [256]byte
	b := appendTime(buf[:0], start.At)
	b = append(b, eventPhrase(start.Kind)...)
	b = append(b, "，其后尚无"...)
	for i, k := range c.Params.End {
		if i > 0 {
			b = append(b, "或"...)
		}
		b = append(b, eventNoun(k)...)
	}
	b = append(b, "记录"...)
	cr.Reason = finish(b, c)
	cr.FactIDs = []int64{start.ID}
	return true
}

// closeContact: a CLOSE_CONTACT whose last contact At satisfies now < At + W.
func (e *evaluator) closeContact(c *Clause, cr *ClauseResult) bool {
	w := c.window(e.rs)
	var buf [256]byte
	b := buf[:0]
	var until time.Time
	for i := range e.f.Medical {
		m := &e.f.Medical[i]
		if m.Kind != CloseContact || e.future(m.At) {
			continue
		}
		end := m.At.Add(w)
		if !e.now.Before(end) {
			continue
		}
		e.consider(end)
		if end.After(until) {
			until = end
		}
		if len(cr.FactIDs) > 0 {
			b = append(b, "；"...)
		}
		cr.FactIDs = append(cr.FactIDs, m.ID)
		b = appendTime(b, m.At)
		b = append(b, "与病例或无症状感染者末次接触，被认定为密切接触者，医学观察期"...)
		b = appendSpan(b, w)
		b = append(b, "至"...)
		b = appendEnd(b, end)
	}
	if len(cr.FactIDs) == 0 {
		return false
	}
	cr.Reason = finish(b, c)
	cr.Until = timePtr(until)
	return true
}

// dischargeFollowup returns the latest DISCHARGED at or before now and the
// earliest FOLLOWUP_NORMAL at or after it (and at or before now), and
// records future-dated discharge and follow-up events as change instants.
func (e *evaluator) dischargeFollowup() (d, f *MedicalEvent) {
	for i := range e.f.Medical {
		m := &e.f.Medical[i]
		if m.Kind != Discharged && m.Kind != FollowupNormal {
			continue
		}
		if e.future(m.At) {
			continue
		}
		if m.Kind == Discharged && (d == nil || laterThan(m.At, m.ID, d.At, d.ID)) {
			d = m
		}
	}
	if d == nil {
		return nil, nil
	}
	for i := range e.f.Medical {
		m := &e.f.Medical[i]
		if m.Kind == FollowupNormal && !m.At.After(e.now) && !m.At.Before(d.At) &&
			(f == nil || laterThan(f.At, f.ID, m.At, m.ID)) {
			f = m
		}
	}
	return d, f
}

// afterDischarge (R6): the latest DISCHARGED d: now < d + W, or no
// FOLLOWUP_NORMAL at or after d.
func (e *evaluator) afterDischarge(c *Clause, cr *ClauseResult) bool {
	w := c.window(e.rs)
	d, f := e.dischargeFollowup()
	if d == nil {
		return false
	}
	end := d.At.Add(w)
	var buf [256]byte
	b := appendTime(buf[:0], d.At)
	b = append(b, "治愈出院，"...)
	if e.now.Before(end) {
		e.consider(end)
		b = append(b, "出院后未满"...)
		b = appendSpan(b, w)
		b = append(b, "（集中隔离医学观察至"...)
		b = appendEnd(b, end)
		b = append(b, "）"...)
		if f != nil {
			cr.Until = timePtr(end)
		}
	} else if f == nil {
		b = append(b, "出院已满"...)
		b = appendSpan(b, w)
		b = append(b, "但尚无复诊正常记录"...)
	} else {
		return false
	}
	cr.Reason = finish(b, c)
	cr.FactIDs = []int64{d.ID}
	return true
}

// followupHome (Y3): the first FOLLOWUP_NORMAL f at or after the latest
// DISCHARGED: now < f + W.
func (e *evaluator) followupHome(c *Clause, cr *ClauseResult) bool {
	w := c.window(e.rs)
	d, f := e.dischargeFollowup()
	if f == nil {
		return false
	}
	end := f.At.Add(w)
	if !e.now.Before(end) {
		return false
	}
	e.consider(end)
	var buf [256]byte
	b := appendTime(buf[:0], d.At)
	b = append(b, "治愈出院，"...)
	b = appendTime(b, f.At)
	b = append(b, "复诊正常，居家隔离医学观察"...)
	b = appendSpan(b, w)
	b = append(b, "至"...)
	b = appendEnd(b, end)
	cr.Reason = finish(b, c)
	if d.ID == f.ID {
		cr.FactIDs = []int64{d.ID}
	} else {
		cr.FactIDs = []int64{d.ID, f.ID}
	}
	cr.Until = timePtr(end)
	return true
}

// dayOf returns the CST calendar day number of t (days since 1970-01-01 CST).
func dayOf(t time.Time) int64 {
	s := t.Unix() + 8*3600
	if s < 0 {
		return (s+1)/86400 - 1
	}
	return s / 86400
}

// abnormalHealth (Y2): the latest abnormal record a at or before now, unless
// NormalDays consecutive calendar days after a's day each have a normal
// CHECKIN record (at or before now).
func (e *evaluator) abnormalHealth(c *Clause, cr *ClauseResult) bool {
	threshold := 0.0
	if c.Params.Threshold != nil {
		threshold = *c.Params.Threshold
	}
	syms := c.Params.Symptoms
	n := int64(c.normalDays(e.rs))
	var a *HealthRecord
	for i := range e.f.Health {
		r := &e.f.Health[i]
		if e.future(r.At) {
			continue
		}
		if IsAbnormal(r, threshold, syms) && (a == nil || laterThan(r.At, r.ID, a.At, a.ID)) {
			a = r
		}
	}
	if a == nil {
		return false
	}
	// Days with a normal check-in after a's day, as bits from day(a)+1.
	da := dayOf(a.At)
	span := dayOf(e.now) - da
	var small [16]uint64
	bits := small[:]
	if span > int64(len(small))*64 {
		bits = make([]uint64, (span+63)/64)
	}
	last := int64(0) // latest check-in day offset
	for i := range e.f.Health {
		r := &e.f.Health[i]
		if r.Source != SourceCheckin || r.At.After(e.now) || IsAbnormal(r, threshold, syms) {
			continue
		}
		k := dayOf(r.At) - da
		if k < 1 || k > span {
			continue
		}
		bits[(k-1)/64] |= 1 << uint((k-1)%64)
		if k > last {
			last = k
		}
	}
	has := func(k int64) bool { return bits[(k-1)/64]&(1<<uint((k-1)%64)) != 0 }
	run := int64(0)
	for k := int64(1); k <= last; k++ {
		if has(k) {
			run++
			if run >= n {
				return false
			}
		} else {
			run = 0
		}
	}
	var buf [256]byte
	b := appendTime(buf[:0], a.At)
	if a.Temperature != nil && *a.Temperature > threshold {
		b = append(b, "体温"...)
		b = strconv.AppendFloat(b, *a.Temperature, 'f', -1, 64)
		b = append(b, "℃，超过"...)
		b = strconv.AppendFloat(b, threshold, 'f', -1, 64)
		b = append(b, "℃"...)
	} else {
		b = append(b, "出现"...)
		first := true
		for _, s := range a.Symptoms {
			if contains(syms, s) {
				if !first {
					b = append(b, "、"...)
				}
				b = append(b, SymptomLabel(s)...)
				first = false
			}
		}
		b = append(b, "症状"...)
	}
	b = append(b, "，须此后连续"...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, "天每日健康打卡体温正常、无症状方可转绿（最近已连续"...)
	b = strconv.AppendInt(b, run, 10)
	b = append(b, "天）"...)
	cr.Reason = finish(b, c)
	cr.FactIDs = []int64{a.ID}
	cr.CheckIns = &CheckInProgress{Needed: int(n), Done: int(run)}
	return true
}

// designation (R7/Y4): a manual designation of colour Params.Colour, approved
// if needed, with From <= now < Until.
func (e *evaluator) designation(c *Clause, cr *ClauseResult) bool {
	need := c.needsApproval()
	var buf [256]byte
	b := buf[:0]
	var until time.Time
	for i := range e.f.Designations {
		d := &e.f.Designations[i]
		if d.Colour != c.Params.Colour || (need && !d.Approved) || !d.From.Before(d.Until) {
			continue
		}
		if e.future(d.From) || !e.now.Before(d.Until) {
			continue
		}
		e.consider(d.Until)
		if d.Until.After(until) {
			until = d.Until
		}
		if len(cr.FactIDs) > 0 {
			b = append(b, "；"...)
		}
		cr.FactIDs = append(cr.FactIDs, d.ID)
		b = appendTime(b, d.From)
		b = append(b, "起被认定为需纳入"...)
		if d.Colour == Red {
			b = append(b, "高风险"...)
		} else {
			b = append(b, "中风险"...)
		}
		b = append(b, "人员管理的人员"...)
		if d.Reason != "" {
			b = append(b, "（理由："...)
			b = append(b, d.Reason...)
			b = append(b, "）"...)
		}
		b = append(b, "，有效期至"...)
		b = appendEnd(b, d.Until)
	}
	if len(cr.FactIDs) == 0 {
		return false
	}
	cr.Reason = finish(b, c)
	cr.Until = timePtr(until)
	return true
}

// timePtr returns a pointer to a copy of t; it allocates only when called.
func timePtr(t time.Time) *time.Time { return &t }

// finish appends the citation and returns the reason string.
func finish(b []byte, c *Clause) string {
	b = append(b, "（"...)
	b = append(b, c.Citation...)
	b = append(b, "）"...)
	return string(b)
}

// appendStayPeriod appends a stay's dates as the person declared them and
// 在: "2020-03-01至2020-03-05在" (the last day is the day of the end's last
// instant: a trip declared to 03-05 is stored to 03-06 00:00),
// "2020-03-05在" for a stay within one day (a scan, an arrival) or, for an
// ongoing stay, "2020-03-01起至今在".
func appendStayPeriod(b []byte, s *Stay) []byte {
	b = appendDate(b, s.From)
	if s.To != nil {
		if lastDay(s) != dayOf(s.From) {
			b = append(b, "至"...)
			b = appendDate(b, s.To.Add(-time.Nanosecond))
		}
	} else {
		b = append(b, "起至今"...)
	}
	return append(b, "在"...)
}

// appendDate appends t's CST date as 2006-01-02.
func appendDate(b []byte, t time.Time) []byte {
	t = t.In(CST)
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02")
	}
	b = append2(append2(b, y/100), y%100)
	b = append2(append(b, '-'), int(m))
	return append2(append(b, '-'), d)
}

// appendTime appends t's CST date, followed by " 15:04" (or " 15:04:05"
// when the seconds are not zero) unless t is midnight.
func appendTime(b []byte, t time.Time) []byte {
	b = appendDate(b, t)
	h, m, s := t.In(CST).Clock()
	if h == 0 && m == 0 && s == 0 {
		return b
	}
	b = append2(append(b, ' '), h)
	b = append2(append(b, ':'), m)
	if s != 0 {
		b = append2(append(b, ':'), s)
	}
	return b
}

// appendEnd appends the end of a period, an instant the period excludes,
// as a reader takes "至…": a time of day as appendTime writes it, and a
// midnight as the last day the period includes ("至2020-03-14" for a
// period ending at 2020-03-15 00:00, which "至2020-03-15" would overstate
// by a day).
func appendEnd(b []byte, t time.Time) []byte {
	if h, m, s := t.In(CST).Clock(); h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0 {
		return appendDate(b, t.Add(-time.Nanosecond))
	}
	return appendTime(b, t)
}

// append2 appends n (0–99) as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendSpan appends a window as "14天", "36小时" or a Go duration.
func appendSpan(b []byte, w time.Duration) []byte {
	switch {
	case w%Day == 0:
		return append(strconv.AppendInt(b, int64(w/Day), 10), "天"...)
	case w%time.Hour == 0:
		return append(strconv.AppendInt(b, int64(w/time.Hour), 10), "小时"...)
	}
	return append(b, w.String()...)
}

// eventPhrase describes a medical event as a predicate.
func eventPhrase(kind string) string {
	switch kind {
	case Confirmed:
		return "被诊断为新冠肺炎确诊病例"
	case Suspected:
		return "被诊断为疑似病例"
	case SuspectExcluded:
		return "经出院诊断证明排除新冠肺炎"
	case Asymptomatic:
		return "被确认为无症状感染者（集中隔离医学观察）"
	case IsolationReleased:
		return "解除隔离"
	case CloseContact:
		return "被认定为密切接触者"
	case Discharged:
		return "治愈出院"
	case FollowupNormal:
		return "复诊正常"
	}
	return "发生医学事件" + kind
}

// eventNoun names a medical event as the record that would close a clause.
func eventNoun(kind string) string {
	switch kind {
	case Confirmed:
		return "确诊"
	case Suspected:
		return "疑似诊断"
	case SuspectExcluded:
		return "排除诊断"
	case Asymptomatic:
		return "无症状感染"
	case IsolationReleased:
		return "解除隔离"
	case CloseContact:
		return "密切接触"
	case Discharged:
		return "治愈出院"
	case FollowupNormal:
		return "复诊正常"
	}
	return kind
}

// SymptomLabel names a symptom in Chinese (发热 for fever), as reasons and
// storage's texts say it; unknown symptoms keep their id. Any caller.
func SymptomLabel(s string) string {
	switch s {
	case SymptomFever:
		return "发热"
	case SymptomDryCough:
		return "干咳"
	case SymptomCough:
		return "咳嗽"
	case SymptomShortnessOfBreath:
		return "气促"
	case SymptomDiarrhea:
		return "腹泻"
	case "fatigue":
		return "乏力"
	case "sore_throat":
		return "咽痛"
	case "loss_of_smell":
		return "嗅觉减退"
	case "loss_of_taste":
		return "味觉减退"
	}
	return s
}

// stayPlace names a stay's place in reasons: its PlaceName when storage gave
// one, else divisions.PlaceLabel — the country of a stay abroad in Chinese
// (境外（美国）), the division's name of a region (湖北省武汉市武昌区), which
// keeps the code of a place it cannot name in brackets, or the code when
// nothing is known. Facts and appeal subjects name places with the same
// function.
func stayPlace(s *Stay) string {
	if s.PlaceName != "" {
		return s.PlaceName
	}
	return divisions.PlaceLabel(s.Place)
}

// appendPlace appends the name of a stay's region (stayPlace) and, in
// brackets, its risk level: 湖北省武汉市武昌区（中风险地区）, or inside the
// brackets that keep the code of a place it cannot name (湖北省武汉市武昌区
// （420106001，中风险地区）).
func appendPlace(b []byte, s *Stay, level string) []byte {
	name := stayPlace(s)
	if rest, ok := strings.CutSuffix(name, "）"); ok {
		b = append(b, rest...)
		b = append(b, "，"...)
	} else {
		b = append(b, name...)
		b = append(b, "（"...)
	}
	b = append(b, level...)
	return append(b, "）"...)
}
