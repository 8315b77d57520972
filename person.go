package healthcode

import "time"

// Form is one of the four declaration forms of Annex 2.
type Form string

// Declaration forms.
const (
	FormArrival         Form = "ARRIVAL"          // 来陕返陕人员
	FormPublicSector    Form = "PUBLIC_SECTOR"    // 机关事业单位人员
	FormReturningWorker Form = "RETURNING_WORKER" // 复工复产人员
	FormResident        Form = "RESIDENT"         // 居民个人
)

// Valid reports whether f is a known form.
func (f Form) Valid() bool {
	switch f {
	case FormArrival, FormPublicSector, FormReturningWorker, FormResident:
		return true
	}
	return false
}

// Symptoms recognised in declarations, check-ins and scans.
var KnownSymptoms = map[string]string{
	"fever":               "发热",
	"dry_cough":           "干咳",
	"cough":               "咳嗽",
	"shortness_of_breath": "气促",
	"fatigue":             "乏力",
	"sore_throat":         "咽痛",
	"diarrhea":            "腹泻",
	"loss_of_smell":       "嗅（味）觉减退",
}

// TravelEntry is one place of the 14-day travel and residence history: a
// region code at any level (inside or outside Shaanxi) or ABROAD:<ISO 3166
// alpha-2>, with the dates of the stay.
type TravelEntry struct {
	Place string
	From  time.Time
	To    time.Time
}

// DeclarationInput is a submitted declaration form (SPEC §2).
type DeclarationInput struct {
	Form          Form
	Name          string
	DocType       DocType
	DocNumber     string
	Phone         string
	ResidenceCode string // a community or compound code
	Address       string // detailed address inside the residence region
	Employer      string // required by PUBLIC_SECTOR and RETURNING_WORKER
	Travel        []TravelEntry
	Temperature   float64
	Symptoms      []string
	CloseContact  bool // self-reported contact with a case
	// ARRIVAL only.
	Origin      string // where the person came from: a region code or ABROAD:<ISO>
	ArrivalDate time.Time
	Transport   string
}

// Person is a person as shown to a caller: personal data masked unless the
// caller is the person (or their guardian).
type Person struct {
	ID            int64
	Name          string // masked for anyone but the person
	DocType       DocType
	DocNumber     string // masked for anyone but the person
	Phone         string // masked for anyone but the person
	ResidenceCode string
	Address       string // empty for anyone but the person and unmasking staff
	Employer      string
	// Relation is SELF or DEPENDENT for the calling resident; "" for staff.
	Relation  string
	GuardedBy string // masked phone of the guardian account, for community staff
	CreatedAt time.Time
}

// PersonCorrection corrects a person's information (修改个人信息); nil
// fields stay as they are. The document number identifies the person and
// cannot be corrected here (a wrong one is a different person).
type PersonCorrection struct {
	Name          *string
	Phone         *string
	ResidenceCode *string
	Address       *string
	Employer      *string
}

// PersonFilter selects persons to list.
type PersonFilter struct {
	RegionCode string // optional: only persons living inside this region
	First      int
	After      int64
}
