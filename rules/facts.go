package rules

import (
	"strings"
	"time"

	"healthcode"
)

// CST is the time zone in which "days" are counted (Asia/Shanghai, UTC+8, no
// daylight saving). It is a fixed zone so the evaluator needs no tzdata.
var CST = healthcode.CST

// Colours of a code and of a clause. A clause is RED or YELLOW; GREEN is the
// colour of a result in which no clause holds.
const (
	Red    = "RED"
	Yellow = "YELLOW"
	Green  = "GREEN"
)

// Area risk levels (AreaRisk.Level) and the pseudo-level Abroad, the risk of a
// stay whose place is "ABROAD:<ISO 3166 alpha-2>". A stay_risk clause lists
// the levels it matches; Abroad matches only if listed (it ranks as HIGH).
const (
	High   = "HIGH"
	Medium = "MEDIUM"
	Low    = "LOW"
	Abroad = "ABROAD"
)

// AbroadPrefix starts the place of a stay outside China: "ABROAD:US".
const AbroadPrefix = "ABROAD:"

// Kinds of medical status events (MedicalEvent.Kind), entered by health
// authorities.
const (
	Confirmed         = "CONFIRMED"          // diagnosed, in treatment
	Suspected         = "SUSPECTED"          // suspected case under diagnosis
	SuspectExcluded   = "SUSPECT_EXCLUDED"   // 出院诊断证明排除新冠肺炎
	Asymptomatic      = "ASYMPTOMATIC"       // asymptomatic infection, centralised isolation
	IsolationReleased = "ISOLATION_RELEASED" // two negative tests at least one day apart
	CloseContact      = "CLOSE_CONTACT"      // At is the last-contact time
	Discharged        = "DISCHARGED"         // 治愈出院
	FollowupNormal    = "FOLLOWUP_NORMAL"    // 出院后14天复诊正常
)

// MedicalKinds lists every known medical event kind, in a fixed order.
var MedicalKinds = []string{Confirmed, Suspected, SuspectExcluded, Asymptomatic, IsolationReleased, CloseContact, Discharged, FollowupNormal}

// Sources of stays (Stay.Source).
const (
	SourceResidence = "RESIDENCE" // the person's residence; usually ongoing
	SourceTravel    = "TRAVEL"    // declared 14-day travel/residence history
	SourceScan      = "SCAN"      // a checkpoint scan (also a HealthRecord source)
	SourceArrival   = "ARRIVAL"   // an entry into Shaanxi from the ARRIVAL form
)

// Sources of health records (HealthRecord.Source), besides SourceScan (the
// temperature measured at a checkpoint). Only CHECKIN records count towards
// the consecutive normal days of an abnormal_health clause.
const (
	SourceDeclaration = "DECLARATION" // temperature and symptoms of a declaration form
	SourceCheckin     = "CHECKIN"     // the daily health check-in (健康打卡)
)

// Symptom ids. The default rule set counts fever, dry_cough, cough and
// shortness_of_breath; symptom ids are lower-case identifiers and rule sets
// may name others (diarrhea, fatigue, ...).
const (
	SymptomFever             = "fever"
	SymptomDryCough          = "dry_cough"
	SymptomCough             = "cough"
	SymptomShortnessOfBreath = "shortness_of_breath"
	SymptomDiarrhea          = "diarrhea"
)

// Stay is a place the person was at during an interval: the residence (always
// present, ongoing), a declared travel entry, a checkpoint scan or an arrival.
// Storage builds stays from the person's facts; any caller may construct them.
type Stay struct {
	// ID is the id of the fact behind the stay; results cite it in FactIDs.
	ID int64 `json:"id"`
	// Place is a region code ("610113", prefix-hierarchical, also codes of
	// other provinces such as "420106") or "ABROAD:<ISO 3166 alpha-2>".
	Place string `json:"place"`
	// PlaceName, when not empty, names Place in reasons; else reasons name
	// it from package divisions (the country down to the county, Shaanxi
	// down to the community) and keep the code of a place below that (a
	// compound: 西安市雁塔区小寨路街道长安大学社区居委会（610113001001001）).
	PlaceName string `json:"placeName,omitempty"`
	// From is when the stay began. Stays that begin after the evaluation time
	// are ignored until they begin.
	From time.Time `json:"from"`
	// To is when the stay ended; nil means ongoing (e.g. the residence). A
	// stay with To after the evaluation time counts as ending at that time.
	To *time.Time `json:"to"`
	// Source is RESIDENCE, TRAVEL, SCAN or ARRIVAL; informational only.
	Source string `json:"source,omitempty"`
}

// AreaRisk is an area risk designation in force: Region (a region code at any
// level) is HIGH, MEDIUM or LOW risk since From. Storage passes, for every
// region relevant to the person's stays (each place and all its ancestors),
// the current designation only; history is storage's concern, except that
// From is when the region's current level began (a re-designation at the same
// level does not move it): a stay_risk clause with normalDays counts a stay
// whose window has closed only if its area was designated before the window
// closed. A designation whose From is after the evaluation time is not yet in
// force (it takes effect at From).
type AreaRisk struct {
	Region string    `json:"region"`
	Level  string    `json:"level"`
	From   time.Time `json:"from"`
}

// MedicalEvent is a medical status event entered by a health authority.
// Storage builds it from the stored event; any caller may construct one.
type MedicalEvent struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"` // one of MedicalKinds
	// At is the event's date and time; for CLOSE_CONTACT, the last contact.
	// Events dated after the evaluation time are ignored until then.
	At time.Time `json:"at"`
}

// HealthRecord is a temperature and/or symptom report: from a declaration, a
// daily check-in or a checkpoint scan. Storage builds it; any caller may
// construct one.
type HealthRecord struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Temperature in °C; nil when none was measured.
	Temperature *float64 `json:"temperature,omitempty"`
	// Symptoms reported: fever, dry_cough, cough, shortness_of_breath, diarrhea, ...
	Symptoms []string `json:"symptoms,omitempty"`
	// Source is DECLARATION, CHECKIN or SCAN.
	Source string `json:"source"`
}

// Designation is a manual designation by a health officer ("其他需要纳入高/中风险
// 人员管理的人员"), in force for From <= t < Until. Red designations count only
// when Approved (by a second officer); yellow ones count when Approved or
// when the clause says they need no approval (the default). Storage builds
// it from the designation and its approval; any caller may construct one.
type Designation struct {
	ID       int64     `json:"id"`
	Colour   string    `json:"colour"` // RED or YELLOW
	From     time.Time `json:"from"`
	Until    time.Time `json:"until"`
	Approved bool      `json:"approved"`
	Reason   string    `json:"reason,omitempty"`
}

// Facts are everything the evaluator knows about one person. Retracted facts
// are simply absent. The slices may be in any order; Evaluate never modifies
// them. Storage gathers them per person; tests build them from JSON.
type Facts struct {
	Stays        []Stay         `json:"stays,omitempty"`
	AreaRisks    []AreaRisk     `json:"areaRisks,omitempty"`
	Medical      []MedicalEvent `json:"medical,omitempty"`
	Health       []HealthRecord `json:"health,omitempty"`
	Designations []Designation  `json:"designations,omitempty"`
}

// regionLengths are the lengths of region codes at the six levels.
var regionLengths = [...]int{2, 4, 6, 9, 12, 15}

// regionCovers reports whether region is place or one of its ancestors:
// a prefix of place of a level length (2, 4, 6, 9, 12 or 15 digits). For
// Shaanxi codes this is membership in healthcode.AncestorCodes(place); the
// same prefix rule is applied to other provinces' codes, which AncestorCodes
// rejects. It does not allocate.
func regionCovers(region, place string) bool {
	if region == "" || !strings.HasPrefix(place, region) {
		return false
	}
	if len(region) == len(place) {
		return true
	}
	for _, n := range regionLengths {
		if n == len(region) {
			return true
		}
	}
	return false
}

// levelRank orders area risk levels; 0 is no designation.
func levelRank(level string) int {
	switch level {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	}
	return 0
}

// IsAbnormal reports whether a health record is abnormal under a threshold and
// a symptom list: temperature strictly above threshold (37.3 exactly is
// normal) or any listed symptom. Any caller may use it (e.g. to decide a
// checkpoint fever report with the current rule set's parameters); it
// returns no error.
func IsAbnormal(r *HealthRecord, threshold float64, symptoms []string) bool {
	if r.Temperature != nil && *r.Temperature > threshold {
		return true
	}
	for _, s := range r.Symptoms {
		for _, w := range symptoms {
			if s == w {
				return true
			}
		}
	}
	return false
}
