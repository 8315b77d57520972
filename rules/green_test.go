package rules

import (
	"strings"
	"testing"
	"time"
)

func TestExplainGreen(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, CST)
	day := func(d int) *time.Time { x := time.Date(2026, 11, d, 0, 0, 0, 0, CST); return &x }
	f := &Facts{Stays: []Stay{
		{ID: 1, Place: "610113001001", From: *day(1), Source: SourceResidence},
		{ID: 2, Place: "420106", From: *day(20), To: day(26), Source: SourceTravel},
		{ID: 3, Place: "110101", From: time.Date(2026, 10, 1, 0, 0, 0, 0, CST), To: day(2), Source: SourceTravel}, // out of the window
	}}
	if r := Evaluate(f, nil, now); r.Colour != Green {
		t.Fatalf("colour %s", r.Colour)
	}
	cr := ExplainGreen(f, nil, now)
	if cr.ID != "G" || cr.Colour != Green || cr.Citation != "附件1 一(三)" || len(cr.FactIDs) != 1 || cr.FactIDs[0] != 2 {
		t.Fatalf("clause %+v", cr)
	}
	// The trip was declared from 11-20 to 11-25 (stored to 11-26 00:00).
	for _, want := range []string{"2026-11-20至2026-11-25在湖北省武汉市武昌区（低风险地区）旅居；", "R1、R2、R3、R4、R5、R6、R7、Y1、Y2、Y3、Y4条款均不成立", "（附件1 一(三)）"} {
		if !strings.Contains(cr.Reason, want) {
			t.Errorf("reason %q lacks %q", cr.Reason, want)
		}
	}
	if strings.Contains(cr.Reason, "110101") || strings.Contains(cr.Reason, "610113001001") {
		t.Errorf("reason %q names a stay outside the window or the residence", cr.Reason)
	}
	if cr := ExplainGreen(nil, nil, now); !strings.HasPrefix(cr.Reason, "14天内无省外或风险地区旅居记录") || cr.FactIDs != nil {
		t.Errorf("no facts: %+v", cr)
	}
	// The deviation's explanation ends with the clause G a green code carries.
	if g := GreenClause(nil); !strings.HasSuffix(cr.Reason, "；"+g.Reason) {
		t.Errorf("ExplainGreen %q does not end with GreenClause %q", cr.Reason, g.Reason)
	}
}

// TestGreenClause: the reason of a green code names each clause checked and
// what it looks for, for any rule set, and depends on nothing else.
func TestGreenClause(t *testing.T) {
	g := GreenClause(nil)
	if g.ID != "G" || g.Colour != Green || g.Citation != "附件1 一(三)" || g.FactIDs != nil || g.Until != nil {
		t.Fatalf("clause %+v", g)
	}
	for _, want := range []string{
		"按统一规则（" + DefaultVersion + "）核查，R1、R2、R3、R4、R5、R6、R7、Y1、Y2、Y3、Y4条款均不成立，即不存在以下情形：",
		"14天内有境外或高风险地区旅居史（R1）",
		"被诊断为新冠肺炎确诊病例且其后尚无治愈出院记录（R2）",
		"被认定为密切接触者且末次接触未满14天（R5）",
		"来自中风险地区且离开未满14天或尚未连续14天每日健康打卡正常（Y1）",
		"体温超过37.3℃或出现发热、干咳、咳嗽、气促症状，且此后尚未连续14天每日健康打卡正常（Y2）",
		"被认定为需纳入中风险人员管理的人员（Y4）。应赋绿码：来自疫情低风险地区的人员；高风险、中风险人员以外的人员（附件1 一(三)）",
	} {
		if !strings.Contains(g.Reason, want) {
			t.Errorf("reason %q lacks %q", g.Reason, want)
		}
	}
	// An adjusted set is described by its own parameters.
	rs, err := Parse([]byte(`{"version": "adj-7d", "window": "7d", "clauses": [
		{"id": "R1", "colour": "RED", "citation": "附件1 一(一)", "kind": "stay_risk", "params": {"levels": ["HIGH"]}},
		{"id": "R8", "colour": "RED", "citation": "附件1 一(二)", "kind": "stay_risk", "params": {"levels": ["MEDIUM"]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := GreenClause(rs).Reason, "按统一规则（adj-7d）核查，R1、R8条款均不成立，即不存在以下情形：7天内有高风险地区旅居史（R1）；7天内有中风险地区旅居史（R8）。"; !strings.HasPrefix(got, want) {
		t.Errorf("reason %q, want prefix %q", got, want)
	}
}

// A stay's place is named in reasons: a prefecture of another province by
// the national divisions, a PlaceName given by storage as it is, an unknown
// code as the code.
func TestReasonNamesPlaces(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, CST)
	day := func(d int) *time.Time { x := time.Date(2026, 11, d, 0, 0, 0, 0, CST); return &x }
	f := &Facts{
		Stays: []Stay{
			{ID: 1, Place: "4201", From: *day(20), To: day(22), Source: SourceTravel},
			{ID: 2, Place: "610113001001", PlaceName: "西安市雁塔区小寨路街道小寨路社区", From: *day(23), To: day(24), Source: SourceTravel},
			{ID: 3, Place: "990101", From: *day(24), To: day(25), Source: SourceTravel},
		},
		AreaRisks: []AreaRisk{
			{Region: "42", Level: Medium, From: *day(1)},
			{Region: "610113001001", Level: Medium, From: *day(1)},
			{Region: "990101", Level: Medium, From: *day(1)},
		},
	}
	r := Evaluate(f, nil, now)
	if r.Colour != Yellow || len(r.Clauses) == 0 {
		t.Fatalf("result %+v", r)
	}
	reason := r.Clauses[0].Reason
	for _, want := range []string{"2026-11-20至2026-11-21在湖北省武汉市（中风险地区）旅居", "在西安市雁塔区小寨路街道小寨路社区（中风险地区）旅居", "在990101（中风险地区）旅居"} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q lacks %q", reason, want)
		}
	}
}
