package healthcode

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// The helpers that check and normalise input fields, shared by the
// Validate methods of the input types and by the services.

// FieldError is the INVALID error of one input field: "<field>：<message>".
// Any caller.
func FieldError(field, format string, args ...any) error {
	return Errorf(EINVALID, "%s：%s", field, fmt.Sprintf(format, args...))
}

// ValidText trims v and checks that it has min to max characters.
// Any caller. Errors: INVALID naming field.
func ValidText(field string, v string, min, max int) (string, error) {
	v = strings.TrimSpace(v)
	if n := utf8.RuneCountInString(v); n < min || n > max {
		if min > 0 && n == 0 {
			return "", FieldError(field, "不能为空")
		}
		return "", FieldError(field, "长度应在 %d 至 %d 个字之间", min, max)
	}
	return v, nil
}

// ValidPhone reports whether phone is an 11-digit mainland mobile number
// (1[3-9]…). Any caller.
func ValidPhone(phone string) bool {
	if len(phone) != 11 || !utf8.ValidString(phone) || phone[0] != '1' || phone[1] < '3' || phone[1] > '9' {
		return false
	}
	for i := 0; i < len(phone); i++ {
		if phone[i] < '0' || phone[i] > '9' {
			return false
		}
	}
	return true
}

// ValidRegionCode checks that code is a well-formed region code of Shaanxi
// (LevelOfCode). Any caller. Errors: INVALID.
func ValidRegionCode(code string) error {
	if _, ok := LevelOfCode(code); !ok {
		return Errorf(EINVALID, "地区代码格式不正确：%q", Truncate(code, 20))
	}
	return nil
}

// Truncate shortens s to n characters with an ellipsis, for echoing input
// in a message. Any caller.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// DayStart is the start of t's day in China Standard Time. Any caller.
func DayStart(t time.Time) time.Time {
	t = t.In(CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, CST)
}

var (
	abroadRE     = regexp.MustCompile(`^ABROAD:[A-Z]{2}$`)
	regionCodeRE = regexp.MustCompile(`^[1-8][0-9]([0-9]{2}|[0-9]{4}|[0-9]{7}|[0-9]{10}|[0-9]{13})?$`)
)

// AnyRegionCode reports whether code is a region code of any province (2–15
// digits, prefix-hierarchical lengths). Any caller.
func AnyRegionCode(code string) bool {
	return regionCodeRE.MatchString(code)
}

// ValidPlace reports whether p is a place of a travel history: a region
// code of any province (AnyRegionCode) or ABROAD:<ISO alpha-2>. Any caller.
func ValidPlace(p string) bool {
	return abroadRE.MatchString(p) || AnyRegionCode(p)
}
