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
	for _, want := range []string{"2026-11-20至2026-11-26在420106（低风险地区）旅居", "R1、R2、R3、R4、R5、R6、R7、Y1、Y2、Y3、Y4条款均不成立", "（附件1 一(三)）"} {
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
}
