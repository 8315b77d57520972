package postgres

import (
	"strconv"
	"strings"

	"healthcode"
	"healthcode/divisions"
	"healthcode/rules"
)

// factSources names where a fact comes from, as the resident web says it.
var factSources = map[string]string{
	rules.SourceResidence: "居住地", rules.SourceTravel: "旅居史", rules.SourceArrival: "来陕信息", rules.SourceScan: "卡口扫码",
	rules.SourceDeclaration: "健康申报", rules.SourceCheckin: "健康打卡",
}

// factText says what a fact is in Chinese from its structured fields (its
// Summary keeps the stored codes for the audit): 旅居史：湖北省武汉市
// 2026-11-20 至 2026-11-25, 医学状态：确诊 2026-11-01 09:00 核酸阳性,
// 健康打卡：38.6℃ 发热、咳嗽 2026-11-01 10:00, 人工认定：红码 … 至 2026-12-09.
func factText(f *healthcode.Fact) string {
	var head string
	var parts []string
	add := func(s ...string) {
		for _, p := range s {
			if p != "" {
				parts = append(parts, p)
			}
		}
	}
	temperature := ""
	if f.Temperature != nil {
		temperature = strconv.FormatFloat(*f.Temperature, 'f', -1, 64) + "℃"
	}
	switch f.Kind {
	case "STAY":
		head = factSources[f.Source]
		if head == "" {
			head = "行程"
		}
		place := f.PlaceName
		if place == "" {
			place = divisions.PlaceLabel(f.Place)
		}
		add(place, f.When, temperature)
	case "MEDICAL":
		head = "医学状态"
		add(healthcode.MedicalKindName(f.MedicalKind), f.When, f.Note)
	case "HEALTH":
		head = factSources[f.Source]
		if head == "" {
			head = "健康记录"
		}
		symptoms := make([]string, len(f.Symptoms))
		for i, s := range f.Symptoms {
			symptoms[i] = rules.SymptomLabel(s)
		}
		add(temperature, strings.Join(symptoms, "、"), f.When)
	case "DESIGNATION":
		head = "人工认定"
		colour := map[string]string{"RED": "红码", "YELLOW": "黄码", "GREEN": "绿码"}[f.Colour]
		if colour == "" {
			colour = f.Colour
		}
		note := f.Note
		if f.Pending {
			note += "（待审核）"
		}
		add(colour, note, f.When)
	default:
		return f.Summary
	}
	return head + "：" + strings.Join(parts, " ")
}
