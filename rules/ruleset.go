package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"healthcode"
)

// Clause kinds: the conditions the rule language can express. Each takes the
// parameters listed in docs/rules.md and no others.
const (
	// KindStayRisk holds while a stay whose risk is in Levels ended less than
	// Window ago (ongoing stays hold as long as the risk is designated). With
	// NormalDays it holds after the window too, until NormalDays consecutive
	// calendar days after the stay each have a normal check-in (Threshold,
	// Symptoms). Params: levels (required), window, normalDays (then
	// threshold and symptoms are required).
	KindStayRisk = "stay_risk"
	// KindMedicalOpen holds if the latest Start event has no End event at or
	// after it. Params: start, end (both required).
	KindMedicalOpen = "medical_open"
	// KindCloseContact holds while a CLOSE_CONTACT's last contact is less than
	// Window ago. Params: window.
	KindCloseContact = "close_contact"
	// KindAfterDischarge holds for Window after the latest DISCHARGED and after
	// that until a FOLLOWUP_NORMAL at or after the discharge. Params: window.
	KindAfterDischarge = "after_discharge"
	// KindFollowupHome holds for Window after the first FOLLOWUP_NORMAL at or
	// after the latest DISCHARGED. Params: window.
	KindFollowupHome = "followup_home"
	// KindAbnormalHealth holds from an abnormal health record until NormalDays
	// consecutive calendar days with a normal check-in follow its day.
	// Params: threshold, symptoms (both required), normalDays.
	KindAbnormalHealth = "abnormal_health"
	// KindDesignation holds while a manual designation of colour Colour is in
	// force (and approved, if it needs approval). Params: colour (required),
	// needsApproval.
	KindDesignation = "designation"
)

// Kinds lists every clause kind, in a fixed order.
var Kinds = []string{KindStayRisk, KindMedicalOpen, KindCloseContact, KindAfterDischarge, KindFollowupHome, KindAbnormalHealth, KindDesignation}

// Day is 24 hours: the unit of "Nd" durations. Days for streaks of check-ins
// are calendar days in CST, not multiples of Day.
const Day = 24 * time.Hour

// Limits enforced by Validate.
const (
	MaxWindow     = 60 * Day // windows are > 0 and at most 60 days
	MinThreshold  = 35.0     // °C
	MaxThreshold  = 42.0     // °C
	MaxNormalDays = 60
)

// StayHorizon is how long after its end a stay can matter at all: no clause
// counts a stay that ended StayHorizon or more before the evaluation time, so
// a stay_risk clause waiting for check-ins (normalDays) after its window
// lapses then. Storage reads stays back this far (and keeps scans at least
// this long); it exceeds MaxWindow, so it never shortens a window.
const StayHorizon = 130 * Day

// Duration is a time.Duration written in JSON as a string: "14d" (whole days,
// the form used for multiples of 24h) or any time.ParseDuration string such as
// "336h" or "90m". Any caller may use it.
type Duration time.Duration

// String renders whole days as "Nd" and anything else as time.Duration does.
func (d Duration) String() string {
	if d != 0 && time.Duration(d)%Day == 0 {
		return strconv.FormatInt(int64(time.Duration(d)/Day), 10) + "d"
	}
	return time.Duration(d).String()
}

// ParseDuration parses "Nd" (N whole days, optionally signed) or a
// time.ParseDuration string. Errors: INVALID.
func ParseDuration(s string) (Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" {
		days, err := strconv.ParseInt(n, 10, 64)
		if err == nil && days > -100000 && days < 100000 {
			return Duration(time.Duration(days) * Day), nil
		}
		return 0, healthcode.Errorf(healthcode.EINVALID, "时长%q格式错误，应为如\"14d\"或\"336h\"的形式", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, healthcode.Errorf(healthcode.EINVALID, "时长%q格式错误，应为如\"14d\"或\"336h\"的形式", s)
	}
	return Duration(d), nil
}

// MarshalJSON writes the duration as a string (see String).
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a duration string (see ParseDuration). Errors: INVALID.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return healthcode.Errorf(healthcode.EINVALID, "时长必须是字符串，如\"14d\"或\"336h\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// RuleSet is a versioned, ordered list of clauses. The colour of a person is
// the most severe colour among the clauses that hold; none → GREEN. Rule
// admins write rule sets as JSON (Parse); storage keeps them versioned and
// must not change a published one. Any caller may construct one; call
// Validate before using a hand-built set.
type RuleSet struct {
	// Version identifies the set; every code records it. Required.
	Version string `json:"version"`
	// Name is a human-readable title.
	Name string `json:"name,omitempty"`
	// Window is the default window W of clauses that take one. Required.
	Window Duration `json:"window"`
	// Clauses in evaluation and reporting order. At least one.
	Clauses []Clause `json:"clauses"`
}

// Clause is one rule: if its condition (Kind with Params) holds, the person's
// colour is at least Colour.
type Clause struct {
	// ID is unique in the set ("R1", "Y2"); codes record the ids that hold.
	ID string `json:"id"`
	// Colour is RED or YELLOW.
	Colour string `json:"colour"`
	// Citation names the Annex clause, e.g. "附件1 一(一)"; required.
	Citation string `json:"citation"`
	// Quote is the source sentence of the notice, for people reading the set.
	Quote string `json:"quote,omitempty"`
	// Kind is one of Kinds.
	Kind string `json:"kind"`
	// Params are the kind's parameters; those of other kinds must be absent.
	Params Params `json:"params"`
}

// Params are the parameters of a clause. Which fields a kind takes is listed
// on the Kind constants; Validate rejects the others.
type Params struct {
	// Levels (stay_risk): risk levels that match: HIGH, MEDIUM, LOW, ABROAD.
	// A stay in an undesignated region has level LOW.
	Levels []string `json:"levels,omitempty"`
	// Window (stay_risk, close_contact, after_discharge, followup_home):
	// overrides the set's Window for this clause.
	Window *Duration `json:"window,omitempty"`
	// Start and End (medical_open): event kinds opening and closing the
	// condition.
	Start string   `json:"start,omitempty"`
	End   []string `json:"end,omitempty"`
	// Threshold (abnormal_health; stay_risk with normalDays): a temperature
	// strictly above it is abnormal.
	Threshold *float64 `json:"threshold,omitempty"`
	// Symptoms (abnormal_health; stay_risk with normalDays): any of them
	// makes a record abnormal.
	Symptoms []string `json:"symptoms,omitempty"`
	// NormalDays (abnormal_health): consecutive days of normal check-ins
	// that clear the clause; default: the set's Window in whole days.
	// (stay_risk): when set, a stay keeps the clause after its window until
	// that many consecutive calendar days after it each have a normal
	// check-in; when absent, the window alone closes it.
	NormalDays *int `json:"normalDays,omitempty"`
	// Colour (designation): the colour of the manual designations counted.
	Colour string `json:"colour,omitempty"`
	// NeedsApproval (designation): whether designations count only when
	// approved; default true for RED, false for YELLOW.
	NeedsApproval *bool `json:"needsApproval,omitempty"`
}

// window returns the clause's effective window.
func (c *Clause) window(rs *RuleSet) time.Duration {
	if c.Params.Window != nil {
		return time.Duration(*c.Params.Window)
	}
	return time.Duration(rs.Window)
}

// normalDays returns the effective normalDays of an abnormal_health clause.
func (c *Clause) normalDays(rs *RuleSet) int {
	if c.Params.NormalDays != nil {
		return *c.Params.NormalDays
	}
	return int((time.Duration(rs.Window) + Day - 1) / Day)
}

// needsApproval returns whether counted designations must be approved.
func (c *Clause) needsApproval() bool {
	if c.Params.NeedsApproval != nil {
		return *c.Params.NeedsApproval
	}
	return c.Params.Colour == Red
}

// DefaultVersion is the version of Default(). A published version never
// changes: a change of the default is a new version (docs/rules.md).
const DefaultVersion = "annex1-2020-03-31-r2"

// PreviousDefaultVersions are the earlier versions of Default(), oldest
// first: annex1-2020-03-31 closed Y1 by time alone.
var PreviousDefaultVersions = []string{"annex1-2020-03-31"}

// Default returns a new copy of the default rule set, which reproduces Annex 1
// of 陕肺炎办发〔2020〕103号 as formalised in SPEC §3: R1–R7 (red), Y1–Y4
// (yellow), W = 14 days, 37.3 °C. Any caller may use it; it cannot fail.
func Default() *RuleSet {
	// Each clause has its own parameter values: a caller adjusting one clause
	// of its copy must not change another.
	threshold, arrivalThreshold := 37.3, 37.3
	normal, arrivalNormal := 14, 14
	symptoms := []string{SymptomFever, SymptomDryCough, SymptomCough, SymptomShortnessOfBreath}
	return &RuleSet{
		Version: DefaultVersion,
		Name:    "陕西省健康码赋码规则及健康管理措施（陕肺炎办发〔2020〕103号附件1）",
		Window:  Duration(14 * Day),
		Clauses: []Clause{
			{ID: "R1", Colour: Red, Citation: "附件1 一(一)", Kind: KindStayRisk,
				Quote:  "所有14天内有境外和高风险地区旅居史的人员",
				Params: Params{Levels: []string{High, Abroad}}},
			{ID: "R2", Colour: Red, Citation: "附件1 一(一)", Kind: KindMedicalOpen,
				Quote:  "正在接受治疗的确诊病人",
				Params: Params{Start: Confirmed, End: []string{Discharged}}},
			{ID: "R3", Colour: Red, Citation: "附件1 一(一)、四(二)", Kind: KindMedicalOpen,
				Quote:  "正在接受诊疗的疑似病人；疑似病人持出院诊断证明排除新冠肺炎的，调整为绿码",
				Params: Params{Start: Suspected, End: []string{SuspectExcluded, Confirmed}}},
			{ID: "R4", Colour: Red, Citation: "附件1 一(一)、二(一)", Kind: KindMedicalOpen,
				Quote:  "正在实施集中隔离医学观察的无症状感染者；原则上连续两次标本核酸检测阴性（采样时间至少间隔1天）后可解除隔离",
				Params: Params{Start: Asymptomatic, End: []string{IsolationReleased, Confirmed}}},
			{ID: "R5", Colour: Red, Citation: "附件1 一(一)、二(一)", Kind: KindCloseContact,
				Quote: "正在实施集中或居家隔离医学观察的密切接触者；医学观察期为与病例或无症状感染者末次接触后14天"},
			{ID: "R6", Colour: Red, Citation: "附件1 一(一)、二(一)", Kind: KindAfterDischarge,
				Quote: "确诊病人治愈出院后未满14天的；确诊病人治愈出院后实行集中隔离医学观察和健康管理14天，复诊为阴性后继续居家隔离14天"},
			{ID: "R7", Colour: Red, Citation: "附件1 一(一)", Kind: KindDesignation,
				Quote:  "其他需要纳入高风险人员管理的人员",
				Params: Params{Colour: Red}},
			{ID: "Y1", Colour: Yellow, Citation: "附件1 一(二)、四(三)", Kind: KindStayRisk,
				Quote: "来自疫情中风险地区的人员；应当自到达目的地开始实行居家隔离医学观察14天；" +
					"来自疫情中风险地区的人员连续14天体温正常，无咳嗽等症状的，可调整为绿码",
				Params: Params{Levels: []string{Medium}, NormalDays: &arrivalNormal, Threshold: &arrivalThreshold,
					Symptoms: slices.Clone(symptoms)}},
			{ID: "Y2", Colour: Yellow, Citation: "附件1 一(二)、四(三)、四(四)", Kind: KindAbnormalHealth,
				Quote: "有发热、干咳、气促等呼吸道症状的人员；持有绿码的居民，如出现体温超过37.3℃，或出现咳嗽等症状的，调整为黄码；" +
					"由绿码调整为黄码的居民……连续14天体温正常，无咳嗽等症状的，可调整为绿码",
				Params: Params{Threshold: &threshold, NormalDays: &normal, Symptoms: symptoms}},
			{ID: "Y3", Colour: Yellow, Citation: "附件1 一(二)、二(二)", Kind: KindFollowupHome,
				Quote: "确诊病人治愈出院后14天复诊正常的；应当实行居家隔离医学观察14天"},
			{ID: "Y4", Colour: Yellow, Citation: "附件1 一(二)", Kind: KindDesignation,
				Quote:  "其他需要纳入中风险人员管理的人员",
				Params: Params{Colour: Yellow}},
		},
	}
}

// Validate checks the rule set and returns nil or an INVALID error whose
// Chinese message names every problem found (separated by "；"). Any caller
// may use it; storage calls it before storing a set, and Parse calls it.
// Errors: INVALID.
func (rs *RuleSet) Validate() error {
	if rs == nil {
		return healthcode.Errorf(healthcode.EINVALID, "规则集不能为空")
	}
	var p problems
	if strings.TrimSpace(rs.Version) == "" {
		p.add("规则集版本号不能为空")
	}
	checkWindow(&p, "规则集默认窗口期window", time.Duration(rs.Window))
	if len(rs.Clauses) == 0 {
		p.add("规则集至少需要一条规则")
	}
	seen := make(map[string]bool, len(rs.Clauses))
	for i := range rs.Clauses {
		c := &rs.Clauses[i]
		name := c.ID
		if strings.TrimSpace(c.ID) == "" {
			name = "第" + strconv.Itoa(i+1) + "条"
			p.add("第" + strconv.Itoa(i+1) + "条规则缺少编号id")
		} else if seen[c.ID] {
			p.add("规则编号" + strconv.Quote(c.ID) + "重复")
		}
		seen[c.ID] = true
		name = "规则" + name
		if c.Colour != Red && c.Colour != Yellow {
			p.add(name + "的颜色" + strconv.Quote(c.Colour) + "无效，只能是RED或YELLOW")
		}
		if strings.TrimSpace(c.Citation) == "" {
			p.add(name + "缺少附件条款出处citation")
		}
		c.validateParams(&p, name, rs)
	}
	return p.err()
}

// validateParams checks the kind and its parameters.
func (c *Clause) validateParams(p *problems, name string, rs *RuleSet) {
	var allowed []string
	switch c.Kind {
	case KindStayRisk:
		allowed = []string{"levels", "window"}
		if len(c.Params.Levels) == 0 {
			p.add(name + "的风险等级列表levels不能为空")
		}
		for _, l := range c.Params.Levels {
			if l != High && l != Medium && l != Low && l != Abroad {
				p.add(name + "的风险等级" + strconv.Quote(l) + "未知，只能是HIGH、MEDIUM、LOW或ABROAD")
			}
		}
		checkDup(p, name+"的风险等级列表levels", c.Params.Levels)
		if n := c.Params.NormalDays; n != nil {
			allowed = append(allowed, "normalDays", "threshold", "symptoms")
			if *n < 1 || *n > MaxNormalDays {
				p.add(name + "的连续正常天数normalDays为" + strconv.Itoa(*n) + "，应在1至60天之间")
			}
			checkHealthParams(p, name, &c.Params)
		}
	case KindMedicalOpen:
		allowed = []string{"start", "end"}
		if c.Params.Start == "" {
			p.add(name + "缺少开始事件start")
		} else if !knownMedical(c.Params.Start) {
			p.add(name + "的开始事件" + strconv.Quote(c.Params.Start) + "不是已知的医学事件类型")
		}
		if len(c.Params.End) == 0 {
			p.add(name + "的结束事件列表end不能为空")
		}
		for _, k := range c.Params.End {
			if !knownMedical(k) {
				p.add(name + "的结束事件" + strconv.Quote(k) + "不是已知的医学事件类型")
			} else if k == c.Params.Start {
				p.add(name + "的结束事件不能与开始事件相同（" + k + "）")
			}
		}
		checkDup(p, name+"的结束事件列表end", c.Params.End)
	case KindCloseContact, KindAfterDischarge, KindFollowupHome:
		allowed = []string{"window"}
	case KindAbnormalHealth:
		allowed = []string{"threshold", "symptoms", "normalDays"}
		checkHealthParams(p, name, &c.Params)
		if n := c.Params.NormalDays; n != nil && (*n < 1 || *n > MaxNormalDays) {
			p.add(name + "的连续正常天数normalDays为" + strconv.Itoa(*n) + "，应在1至60天之间")
		} else if n == nil && (c.normalDays(rs) < 1 || c.normalDays(rs) > MaxNormalDays) {
			p.add(name + "未设连续正常天数normalDays，且无法由默认窗口期推出")
		}
	case KindDesignation:
		allowed = []string{"colour", "needsApproval"}
		if c.Params.Colour != Red && c.Params.Colour != Yellow {
			p.add(name + "的认定颜色colour" + strconv.Quote(c.Params.Colour) + "无效，只能是RED或YELLOW")
		}
	case "":
		p.add(name + "缺少类型kind")
		return
	default:
		p.add(name + "的类型" + strconv.Quote(c.Kind) + "未知，可用类型：" + strings.Join(Kinds, "、"))
		return
	}
	if c.Params.Window != nil {
		checkWindow(p, name+"的窗口期window", time.Duration(*c.Params.Window))
	}
	for _, f := range c.Params.present() {
		ok := false
		for _, a := range allowed {
			ok = ok || a == f
		}
		if !ok && c.Kind == KindStayRisk && (f == "threshold" || f == "symptoms") {
			p.add(name + "（" + c.Kind + "）不接受参数" + f + "（须与连续正常天数normalDays一起设置）")
		} else if !ok {
			p.add(name + "（" + c.Kind + "）不接受参数" + f)
		}
	}
}

// present lists the JSON names of the parameters that are set.
func (ps *Params) present() []string {
	var out []string
	if ps.Levels != nil {
		out = append(out, "levels")
	}
	if ps.Window != nil {
		out = append(out, "window")
	}
	if ps.Start != "" {
		out = append(out, "start")
	}
	if ps.End != nil {
		out = append(out, "end")
	}
	if ps.Threshold != nil {
		out = append(out, "threshold")
	}
	if ps.Symptoms != nil {
		out = append(out, "symptoms")
	}
	if ps.NormalDays != nil {
		out = append(out, "normalDays")
	}
	if ps.Colour != "" {
		out = append(out, "colour")
	}
	if ps.NeedsApproval != nil {
		out = append(out, "needsApproval")
	}
	return out
}

// checkHealthParams checks the threshold and symptoms that tell a normal
// health record from an abnormal one.
func checkHealthParams(p *problems, name string, ps *Params) {
	if t := ps.Threshold; t == nil {
		p.add(name + "缺少体温阈值threshold")
	} else if math.IsNaN(*t) || *t < MinThreshold || *t > MaxThreshold {
		p.add(name + "的体温阈值" + strconv.FormatFloat(*t, 'f', -1, 64) + "℃超出35.0至42.0℃的范围")
	}
	if len(ps.Symptoms) == 0 {
		p.add(name + "的症状列表symptoms不能为空")
	}
	for _, s := range ps.Symptoms {
		if !symptomName(s) {
			p.add(name + "的症状" + strconv.Quote(s) + "无效，应为小写字母、数字和下划线组成的名称，如dry_cough")
		}
	}
	checkDup(p, name+"的症状列表symptoms", ps.Symptoms)
}

func checkWindow(p *problems, what string, d time.Duration) {
	if d <= 0 || d > MaxWindow {
		p.add(what + "为" + Duration(d).String() + "，应大于0且不超过60天")
	}
}

func checkDup(p *problems, what string, list []string) {
	for i := range list {
		for j := 0; j < i; j++ {
			if list[i] == list[j] {
				p.add(what + "中" + strconv.Quote(list[i]) + "重复")
			}
		}
	}
}

func knownMedical(kind string) bool {
	for _, k := range MedicalKinds {
		if k == kind {
			return true
		}
	}
	return false
}

func symptomName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// problems collects validation messages.
type problems struct{ list []string }

func (p *problems) add(msg string) { p.list = append(p.list, msg) }

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return healthcode.Errorf(healthcode.EINVALID, "规则集无效：%s", strings.Join(p.list, "；"))
}

// Parse decodes a rule set from JSON strictly (unknown fields, trailing data
// and wrong types are errors) and validates it. Rule admins' uploads and
// storage's stored sets go through it. Errors: INVALID.
func Parse(data []byte) (*RuleSet, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rs RuleSet
	if err := dec.Decode(&rs); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, healthcode.Errorf(healthcode.EINVALID, "规则集JSON格式错误：规则集之后还有多余内容")
	}
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	return &rs, nil
}

// decodeError turns a JSON decoding error into an INVALID domain error.
func decodeError(err error) error {
	var he *healthcode.Error
	if errors.As(err, &he) {
		return he
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return healthcode.Errorf(healthcode.EINVALID, "规则集JSON格式错误：第%d字节处语法错误", syn.Offset)
	case errors.As(err, &typ):
		return healthcode.Errorf(healthcode.EINVALID, "规则集JSON格式错误：字段%s的类型应为%s", typ.Field, typ.Type)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return healthcode.Errorf(healthcode.EINVALID, "规则集JSON格式错误：内容不完整")
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return healthcode.Errorf(healthcode.EINVALID, "规则集JSON格式错误：未知字段%s", msg)
	}
	return healthcode.Errorf(healthcode.EINVALID, "规则集JSON格式错误：%s", err.Error())
}
