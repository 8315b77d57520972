package postgres

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"healthcode"
	"healthcode/pii"
	"healthcode/rules"
)

// declarationWindow is how far back a travel history reaches (Annex 2: the
// last 14 days).
const declarationWindow = 14 * 24 * time.Hour

var (
	abroadRE     = regexp.MustCompile(`^ABROAD:[A-Z]{2}$`)
	regionCodeRE = regexp.MustCompile(`^[1-8][0-9]([0-9]{2}|[0-9]{4}|[0-9]{7}|[0-9]{10}|[0-9]{13})?$`)
)

// dayStart returns the start of t's day in China Standard Time.
func dayStart(t time.Time) time.Time {
	t = t.In(rules.CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, rules.CST)
}

// validPlace reports whether p is a place of a travel history: a region code
// of any province (2–15 digits, prefix-hierarchical) or ABROAD:<ISO alpha-2>.
func validPlace(p string) bool {
	return abroadRE.MatchString(p) || regionCodeRE.MatchString(p)
}

func fieldErr(field, format string, args ...any) error {
	return healthcode.Errorf(healthcode.EINVALID, "%s：%s", field, fmt.Sprintf(format, args...))
}

// validateDeclaration normalises a declaration in place and checks every
// field; the first problem is returned as INVALID naming the field. The phone
// may be empty only when community staff declare for someone without one.
func validateDeclaration(in *healthcode.DeclarationInput, now time.Time, phoneOptional bool) error {
	if !in.Form.Valid() {
		return fieldErr("申报类型", "应为 ARRIVAL、PUBLIC_SECTOR、RETURNING_WORKER 或 RESIDENT")
	}
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 50 {
		return fieldErr("姓名", "不能为空，且不超过 50 个字")
	}
	doc, err := healthcode.NormalizeDocument(in.DocType, in.DocNumber, now)
	if err != nil {
		return err
	}
	in.DocNumber = doc
	in.Phone = strings.TrimSpace(in.Phone)
	if !pii.ValidPhone(in.Phone) && !(phoneOptional && in.Phone == "") {
		return fieldErr("手机号码", "应为 11 位手机号码")
	}
	lv, ok := healthcode.LevelOfCode(in.ResidenceCode)
	if !ok || (lv != healthcode.LevelCommunity && lv != healthcode.LevelCompound) {
		return fieldErr("居住地", "请选择到村（社区）或小区")
	}
	in.Address = strings.TrimSpace(in.Address)
	if n := utf8.RuneCountInString(in.Address); n == 0 || n > 200 {
		return fieldErr("详细地址", "不能为空，且不超过 200 个字")
	}
	in.Employer = strings.TrimSpace(in.Employer)
	if (in.Form == healthcode.FormPublicSector || in.Form == healthcode.FormReturningWorker) && in.Employer == "" {
		return fieldErr("工作单位", "机关事业单位人员和复工复产人员须填写工作单位")
	}
	if utf8.RuneCountInString(in.Employer) > 100 {
		return fieldErr("工作单位", "不超过 100 个字")
	}
	if math.IsNaN(in.Temperature) || in.Temperature < 35.0 || in.Temperature > 42.0 {
		return fieldErr("体温", "应在 35.0 至 42.0 ℃ 之间，请重新测量")
	}
	for _, s := range in.Symptoms {
		if _, ok := healthcode.KnownSymptoms[s]; !ok {
			return fieldErr("症状", "未知症状 %q", truncate(s, 20))
		}
	}
	earliest := dayStart(now).Add(-declarationWindow)
	today := dayStart(now)
	if len(in.Travel) > 30 {
		return fieldErr("旅居史", "最多填写 30 条")
	}
	for i, t := range in.Travel {
		if !validPlace(t.Place) {
			return fieldErr("旅居史", "第 %d 条地点应为地区代码或 ABROAD:国家代码", i+1)
		}
		if t.To.Before(t.From) {
			return fieldErr("旅居史", "第 %d 条结束日期早于开始日期", i+1)
		}
		if dayStart(t.To).After(today) || dayStart(t.From).After(today) {
			return fieldErr("旅居史", "第 %d 条日期不能晚于今天", i+1)
		}
		if dayStart(t.To).Before(earliest) {
			return fieldErr("旅居史", "第 %d 条不在近 14 天内，无需填写", i+1)
		}
	}
	if in.Form == healthcode.FormArrival {
		if !validPlace(in.Origin) || strings.HasPrefix(in.Origin, healthcode.ProvinceCode) {
			return fieldErr("来源地", "应为陕西省外的地区代码或 ABROAD:国家代码")
		}
		if in.ArrivalDate.IsZero() || dayStart(in.ArrivalDate).After(today) || dayStart(in.ArrivalDate).Before(earliest) {
			return fieldErr("抵陕日期", "应在近 14 天内，且不晚于今天")
		}
		in.Transport = strings.TrimSpace(in.Transport)
		if n := utf8.RuneCountInString(in.Transport); n == 0 || n > 50 {
			return fieldErr("交通方式", "不能为空，且不超过 50 个字")
		}
	}
	return nil
}

// travelStay turns a declared travel entry (dates) into a stay interval:
// from the start of the first day to the start of the day after the last.
func travelStay(t healthcode.TravelEntry) (time.Time, time.Time) {
	return dayStart(t.From), dayStart(t.To).AddDate(0, 0, 1)
}

// placePath returns the ltree path of a place inside Shaanxi, or nil.
func placePath(place string) *string {
	if _, ok := healthcode.LevelOfCode(place); !ok {
		return nil
	}
	p := ltreePath(place)
	return &p
}
