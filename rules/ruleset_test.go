package rules

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"healthcode"
)

func TestDefaultIsValid(t *testing.T) {
	rs := Default()
	if err := rs.Validate(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range rs.Clauses {
		ids = append(ids, c.ID)
		if c.Quote == "" || !strings.HasPrefix(c.Citation, "附件1 ") {
			t.Errorf("clause %s: citation %q, quote %q", c.ID, c.Citation, c.Quote)
		}
	}
	if got := strings.Join(ids, ","); got != "R1,R2,R3,R4,R5,R6,R7,Y1,Y2,Y3,Y4" {
		t.Errorf("clauses = %s", got)
	}
	if time.Duration(rs.Window) != 14*Day {
		t.Errorf("window = %v", rs.Window)
	}
	if Default() == Default() || &Default().Clauses[0] == &Default().Clauses[0] {
		t.Error("Default must return a fresh copy")
	}
}

func TestRuleSetJSONRoundTrip(t *testing.T) {
	want := Default()
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"window":"14d"`) {
		t.Errorf("window not written as days: %s", data)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the set:\n got %+v\nwant %+v", got, want)
	}
	again, _ := json.Marshal(got)
	if string(again) != string(data) {
		t.Errorf("second marshal differs:\n%s\n%s", again, data)
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"14d": 14 * Day, "336h": 14 * Day, "7d": 7 * Day, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "0d": 0, "-1d": -Day,
	} {
		got, err := ParseDuration(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "14", "1.5d", "14days", "x", "99999999d", "1e3d"} {
		if _, err := ParseDuration(in); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("ParseDuration(%q) error = %v, want INVALID", in, err)
		}
	}
	for d, want := range map[Duration]string{Duration(14 * Day): "14d", Duration(36 * time.Hour): "36h0m0s", 0: "0s"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), want)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`336`), &d); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("a number must be refused: %v", err)
	}
}

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(rs *RuleSet)
		want   string
	}{
		{"empty version", func(rs *RuleSet) { rs.Version = " " }, "版本号不能为空"},
		{"no clauses", func(rs *RuleSet) { rs.Clauses = nil }, "至少需要一条规则"},
		{"zero window", func(rs *RuleSet) { rs.Window = 0 }, "默认窗口期window为0s"},
		{"window too long", func(rs *RuleSet) { rs.Window = Duration(61 * Day) }, "应大于0且不超过60天"},
		{"clause window negative", func(rs *RuleSet) { w := Duration(-Day); rs.Clauses[0].Params.Window = &w }, "规则R1的窗口期window为-1d"},
		{"clause window 60d ok, 0 not", func(rs *RuleSet) { w := Duration(0); rs.Clauses[4].Params.Window = &w }, "规则R5的窗口期window"},
		{"empty id", func(rs *RuleSet) { rs.Clauses[1].ID = "" }, "第2条规则缺少编号id"},
		{"duplicate id", func(rs *RuleSet) { rs.Clauses[1].ID = "R1" }, `规则编号"R1"重复`},
		{"bad colour", func(rs *RuleSet) { rs.Clauses[0].Colour = "GREEN" }, `颜色"GREEN"无效`},
		{"missing citation", func(rs *RuleSet) { rs.Clauses[0].Citation = "" }, "规则R1缺少附件条款出处"},
		{"unknown kind", func(rs *RuleSet) { rs.Clauses[0].Kind = "cel" }, `类型"cel"未知`},
		{"missing kind", func(rs *RuleSet) { rs.Clauses[0].Kind = "" }, "规则R1缺少类型kind"},
		{"empty levels", func(rs *RuleSet) { rs.Clauses[0].Params.Levels = nil }, "风险等级列表levels不能为空"},
		{"unknown level", func(rs *RuleSet) { rs.Clauses[0].Params.Levels = []string{"SEVERE"} }, `风险等级"SEVERE"未知`},
		{"duplicate level", func(rs *RuleSet) { rs.Clauses[0].Params.Levels = []string{High, High} }, `"HIGH"重复`},
		{"unknown start", func(rs *RuleSet) { rs.Clauses[1].Params.Start = "INFECTED" }, `开始事件"INFECTED"不是已知的医学事件类型`},
		{"missing start", func(rs *RuleSet) { rs.Clauses[1].Params.Start = "" }, "规则R2缺少开始事件start"},
		{"empty end", func(rs *RuleSet) { rs.Clauses[1].Params.End = nil }, "结束事件列表end不能为空"},
		{"unknown end", func(rs *RuleSet) { rs.Clauses[1].Params.End = []string{"CURED"} }, `结束事件"CURED"不是已知的医学事件类型`},
		{"end equals start", func(rs *RuleSet) { rs.Clauses[1].Params.End = []string{Confirmed} }, "结束事件不能与开始事件相同"},
		{"threshold low", func(rs *RuleSet) { v := 34.9; rs.Clauses[8].Params.Threshold = &v }, "体温阈值34.9℃超出35.0至42.0℃的范围"},
		{"threshold high", func(rs *RuleSet) { v := 42.5; rs.Clauses[8].Params.Threshold = &v }, "超出35.0至42.0℃"},
		{"threshold missing", func(rs *RuleSet) { rs.Clauses[8].Params.Threshold = nil }, "缺少体温阈值threshold"},
		{"empty symptoms", func(rs *RuleSet) { rs.Clauses[8].Params.Symptoms = []string{} }, "症状列表symptoms不能为空"},
		{"bad symptom", func(rs *RuleSet) { rs.Clauses[8].Params.Symptoms = []string{"Dry Cough"} }, `症状"Dry Cough"无效`},
		{"normalDays 0", func(rs *RuleSet) { n := 0; rs.Clauses[8].Params.NormalDays = &n }, "连续正常天数normalDays为0"},
		{"normalDays 61", func(rs *RuleSet) { n := 61; rs.Clauses[8].Params.NormalDays = &n }, "应在1至60天之间"},
		{"designation colour", func(rs *RuleSet) { rs.Clauses[6].Params.Colour = "" }, "认定颜色colour"},
		{"foreign param", func(rs *RuleSet) { v := 37.0; rs.Clauses[0].Params.Threshold = &v }, "规则R1（stay_risk）不接受参数threshold"},
		{"stay_risk normalDays 0", func(rs *RuleSet) { n := 0; rs.Clauses[7].Params.NormalDays = &n }, "规则Y1的连续正常天数normalDays为0"},
		{"stay_risk normalDays without threshold", func(rs *RuleSet) { rs.Clauses[7].Params.Threshold = nil }, "规则Y1缺少体温阈值threshold"},
		{"stay_risk normalDays without symptoms", func(rs *RuleSet) { rs.Clauses[7].Params.Symptoms = nil }, "规则Y1的症状列表symptoms不能为空"},
		{"stay_risk threshold without normalDays", func(rs *RuleSet) { rs.Clauses[7].Params.NormalDays = nil },
			"规则Y1（stay_risk）不接受参数threshold（须与连续正常天数normalDays一起设置）"},
		{"window on medical_open", func(rs *RuleSet) { w := Duration(Day); rs.Clauses[1].Params.Window = &w }, "不接受参数window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := Default()
			tt.mutate(rs)
			err := rs.Validate()
			if healthcode.ErrorCode(err) != healthcode.EINVALID || !strings.Contains(healthcode.ErrorMessage(err), tt.want) {
				t.Errorf("Validate() = %v, want INVALID containing %q", err, tt.want)
			}
		})
	}
	var nilSet *RuleSet
	if healthcode.ErrorCode(nilSet.Validate()) != healthcode.EINVALID {
		t.Error("nil set must be INVALID")
	}
	// Several problems are reported together.
	rs := Default()
	rs.Version, rs.Clauses[0].Colour = "", "BLUE"
	msg := healthcode.ErrorMessage(rs.Validate())
	if !strings.Contains(msg, "版本号") || !strings.Contains(msg, "BLUE") {
		t.Errorf("message %q should name both problems", msg)
	}
	// Limits are inclusive.
	rs = Default()
	w, lo, n := Duration(MaxWindow), MinThreshold, MaxNormalDays
	rs.Window, rs.Clauses[8].Params.Threshold, rs.Clauses[8].Params.NormalDays = w, &lo, &n
	if err := rs.Validate(); err != nil {
		t.Errorf("limits must be accepted: %v", err)
	}
}

func TestParseStrict(t *testing.T) {
	valid, _ := json.Marshal(Default())
	for name, in := range map[string]string{
		"syntax":           `{"version":`,
		"empty":            ``,
		"unknown field":    strings.Replace(string(valid), `"version"`, `"colourScheme":1,"version"`, 1),
		"unknown param":    strings.Replace(string(valid), `"levels"`, `"regions":["61"],"levels"`, 1),
		"trailing data":    string(valid) + `{}`,
		"wrong type":       strings.Replace(string(valid), `"threshold":37.3`, `"threshold":"37.3"`, 1),
		"bad duration":     strings.Replace(string(valid), `"window":"14d"`, `"window":"two weeks"`, 1),
		"invalid set":      strings.Replace(string(valid), `"version":"`+DefaultVersion+`"`, `"version":""`, 1),
		"not an object":    `[]`,
		"numeric duration": strings.Replace(string(valid), `"window":"14d"`, `"window":1209600000000000`, 1),
	} {
		rs, err := Parse([]byte(in))
		if rs != nil || healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%s: Parse = %v, %v; want INVALID", name, rs, err)
		} else if !strings.HasPrefix(healthcode.ErrorMessage(err), "规则集") && !strings.HasPrefix(healthcode.ErrorMessage(err), "时长") {
			t.Errorf("%s: message %q is not a Chinese rule-set message", name, healthcode.ErrorMessage(err))
		}
	}
	if _, err := Parse([]byte(strings.Replace(string(valid), `"window":"14d"`, `"window":"336h"`, 1) + "\n")); err != nil {
		t.Errorf("336h with trailing newline: %v", err)
	}
}

func TestRegionCoversMatchesAncestorCodes(t *testing.T) {
	codes := []string{"61", "6101", "610113", "610113001", "610113001001", "610113001001002", "610103", "6102"}
	for _, place := range codes {
		anc := healthcode.AncestorCodes(place)
		for _, region := range codes {
			want := false
			for _, a := range anc {
				want = want || a == region
			}
			if got := regionCovers(region, place); got != want {
				t.Errorf("regionCovers(%q, %q) = %v, want %v", region, place, got, want)
			}
		}
	}
	// Other provinces use the same prefix rule; partial prefixes never match.
	for _, tt := range []struct {
		region, place string
		want          bool
	}{{"42", "420106", true}, {"4201", "420106", true}, {"420", "420106", false}, {"", "420106", false}, {"ABROAD:US", "ABROAD:US", true}} {
		if got := regionCovers(tt.region, tt.place); got != tt.want {
			t.Errorf("regionCovers(%q, %q) = %v", tt.region, tt.place, got)
		}
	}
}

func TestEvaluateNilArguments(t *testing.T) {
	now := time.Date(2020, 11, 15, 10, 0, 0, 0, CST)
	r := Evaluate(nil, nil, now)
	if r.Colour != Green || r.Clauses != nil || r.ReevaluateAt != nil || r.RuleSetVersion != Default().Version {
		t.Errorf("Evaluate(nil, nil) = %+v", r)
	}
}

func TestEvaluateGreenDoesNotAllocate(t *testing.T) {
	now := time.Date(2020, 11, 15, 10, 0, 0, 0, CST)
	f := benchFacts()
	f.Stays[1].Place = "610103" // no longer HIGH
	f.Health[2].Temperature, f.Health[2].Symptoms = f.Health[1].Temperature, nil
	f.Medical = nil
	rs := Default()
	if r := Evaluate(f, rs, now); r.Colour != Green || r.ReevaluateAt != nil {
		t.Fatalf("fixture not green and final: %+v", r)
	}
	if n := testing.AllocsPerRun(100, func() { Evaluate(f, rs, now) }); n != 0 {
		t.Errorf("green evaluation allocates %v times", n)
	}
}

func TestAbnormalHealthLongSpan(t *testing.T) {
	// An abnormal record more than 1,024 days before now uses the heap bitmap.
	a := time.Date(2017, 1, 1, 10, 0, 0, 0, CST)
	temp, ok := 38.2, 36.5
	f := &Facts{Health: []HealthRecord{{ID: 1, At: a, Temperature: &temp, Source: SourceCheckin}}}
	start := time.Date(2020, 11, 2, 8, 0, 0, 0, CST)
	for i := range 14 {
		f.Health = append(f.Health, HealthRecord{ID: int64(2 + i), At: start.AddDate(0, 0, i), Temperature: &ok, Source: SourceCheckin})
	}
	if r := Evaluate(f, nil, start.AddDate(0, 0, 13)); r.Colour != Green {
		t.Errorf("14 consecutive days long after the fever: %s", r.Colour)
	}
	if r := Evaluate(f, nil, start.AddDate(0, 0, 12)); r.Colour != Yellow {
		t.Errorf("13 days: %s", r.Colour)
	}
}
