package healthcode

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Form is one of the four declaration forms of Annex 2.
type Form string

// Declaration forms.
const (
	FormArrival         Form = "ARRIVAL"          // 来陕返陕人员
	FormPublicSector    Form = "PUBLIC_SECTOR"    // 机关事业单位人员
	FormReturningWorker Form = "RETURNING_WORKER" // 复工复产人员
	FormResident        Form = "RESIDENT"         // 居民个人
)

// Name is the form's Chinese name (来陕返陕人员); an unknown form keeps its
// code.
func (f Form) Name() string {
	switch f {
	case FormArrival:
		return "来陕返陕人员"
	case FormPublicSector:
		return "机关事业单位人员"
	case FormReturningWorker:
		return "复工复产人员"
	case FormResident:
		return "居民个人"
	}
	return string(f)
}

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

// Validate trims the given fields in place and checks them, in the order
// of the struct: a name of 1 to 50 characters, a mobile phone number, a
// residence at community or compound level, an address of 1 to 200
// characters, an employer of at most 100; at least one field must be given.
// Whether the residence exists needs the database: CodeService checks it.
// Any caller may call it. Errors: INVALID naming the field.
func (c *PersonCorrection) Validate() error {
	length := func(v *string, min, max int, field, msg string) error {
		*v = strings.TrimSpace(*v)
		if n := utf8.RuneCountInString(*v); n < min || n > max {
			return FieldError(field, "%s", msg)
		}
		return nil
	}
	if c.Name != nil {
		if err := length(c.Name, 1, 50, "姓名", "不能为空，且不超过 50 个字"); err != nil {
			return err
		}
	}
	if c.Phone != nil {
		*c.Phone = strings.TrimSpace(*c.Phone)
		if !ValidPhone(*c.Phone) {
			return FieldError("手机号码", "应为 11 位手机号码")
		}
	}
	if c.ResidenceCode != nil {
		if lv, ok := LevelOfCode(*c.ResidenceCode); !ok || (lv != LevelCommunity && lv != LevelCompound) {
			return FieldError("居住地", "请选择到村（社区）或小区")
		}
	}
	if c.Address != nil {
		if err := length(c.Address, 1, 200, "详细地址", "不能为空，且不超过 200 个字"); err != nil {
			return err
		}
	}
	if c.Employer != nil {
		if err := length(c.Employer, 0, 100, "工作单位", "不超过 100 个字"); err != nil {
			return err
		}
	}
	if len(c.Fields()) == 0 {
		return Errorf(EINVALID, "没有需要修改的信息")
	}
	return nil
}

// Fields names the given fields (name, phone, residence, address,
// employer), for the audit record.
func (c *PersonCorrection) Fields() []string {
	var out []string
	for _, f := range []struct {
		given bool
		name  string
	}{{c.Name != nil, "name"}, {c.Phone != nil, "phone"}, {c.ResidenceCode != nil, "residence"},
		{c.Address != nil, "address"}, {c.Employer != nil, "employer"}} {
		if f.given {
			out = append(out, f.name)
		}
	}
	return out
}

// PersonFilter selects persons to list.
type PersonFilter struct {
	RegionCode string // optional: only persons living inside this region
	First      int
	After      int64
}

// DeclarationWindow is how far back a travel history reaches (Annex 2: the
// last 14 days).
const DeclarationWindow = 14 * 24 * time.Hour

// Validate normalises the declaration in place (texts trimmed, the document
// number normalised) and checks every field at now; the first problem is
// returned. The phone may be empty only when phoneOptional is set (community
// staff declaring for someone without one). CodeService.SubmitDeclaration
// calls it; any caller may. Errors: INVALID naming the field.
func (in *DeclarationInput) Validate(now time.Time, phoneOptional bool) error {
	if !in.Form.Valid() {
		return FieldError("申报类型", "应为 ARRIVAL、PUBLIC_SECTOR、RETURNING_WORKER 或 RESIDENT")
	}
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 50 {
		return FieldError("姓名", "不能为空，且不超过 50 个字")
	}
	doc, err := NormalizeDocument(in.DocType, in.DocNumber, now)
	if err != nil {
		return err
	}
	in.DocNumber = doc
	in.Phone = strings.TrimSpace(in.Phone)
	if !ValidPhone(in.Phone) && !(phoneOptional && in.Phone == "") {
		return FieldError("手机号码", "应为 11 位手机号码")
	}
	lv, ok := LevelOfCode(in.ResidenceCode)
	if !ok || (lv != LevelCommunity && lv != LevelCompound) {
		return FieldError("居住地", "请选择到村（社区）或小区")
	}
	in.Address = strings.TrimSpace(in.Address)
	if n := utf8.RuneCountInString(in.Address); n == 0 || n > 200 {
		return FieldError("详细地址", "不能为空，且不超过 200 个字")
	}
	in.Employer = strings.TrimSpace(in.Employer)
	if (in.Form == FormPublicSector || in.Form == FormReturningWorker) && in.Employer == "" {
		return FieldError("工作单位", "机关事业单位人员和复工复产人员须填写工作单位")
	}
	if utf8.RuneCountInString(in.Employer) > 100 {
		return FieldError("工作单位", "不超过 100 个字")
	}
	if err := (CheckIn{Temperature: in.Temperature, Symptoms: in.Symptoms}).Validate(); err != nil {
		return err
	}
	earliest := DayStart(now).Add(-DeclarationWindow)
	today := DayStart(now)
	if len(in.Travel) > 30 {
		return FieldError("旅居史", "最多填写 30 条")
	}
	for i, t := range in.Travel {
		if !ValidPlace(t.Place) {
			return FieldError("旅居史", "第 %d 条地点应为地区代码或 ABROAD:国家代码", i+1)
		}
		if t.To.Before(t.From) {
			return FieldError("旅居史", "第 %d 条结束日期早于开始日期", i+1)
		}
		if DayStart(t.To).After(today) || DayStart(t.From).After(today) {
			return FieldError("旅居史", "第 %d 条日期不能晚于今天", i+1)
		}
		if DayStart(t.To).Before(earliest) {
			return FieldError("旅居史", "第 %d 条不在近 14 天内，无需填写", i+1)
		}
	}
	if in.Form == FormArrival {
		if !ValidPlace(in.Origin) || strings.HasPrefix(in.Origin, ProvinceCode) {
			return FieldError("来源地", "应为陕西省外的地区代码或 ABROAD:国家代码")
		}
		if in.ArrivalDate.IsZero() || DayStart(in.ArrivalDate).After(today) || DayStart(in.ArrivalDate).Before(earliest) {
			return FieldError("抵陕日期", "应在近 14 天内，且不晚于今天")
		}
		in.Transport = strings.TrimSpace(in.Transport)
		if n := utf8.RuneCountInString(in.Transport); n == 0 || n > 50 {
			return FieldError("交通方式", "不能为空，且不超过 50 个字")
		}
	}
	return nil
}
