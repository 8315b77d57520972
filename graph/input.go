package graph

import (
	"strconv"
	"strings"
	"time"

	"healthcode"
	"healthcode/graph/model"
)

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// nonZero returns a pointer to v, or nil for the zero value: an optional ID
// stored as 0 when absent reads as null.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// parseDate reads a YYYY-MM-DD date (China Standard Time).
func parseDate(field, s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), healthcode.CST)
	if err != nil {
		return time.Time{}, healthcode.Errorf(healthcode.EINVALID, "%s：日期格式应为 YYYY-MM-DD", field)
	}
	return t, nil
}

// parseDuration reads a Go duration ("36h") or a number of days ("14d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 0 && n <= 3650 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, healthcode.Errorf(healthcode.EINVALID, "时长格式应为 36h 或 14d，且不能为负")
}

func declarationInput(in model.DeclarationInput) (healthcode.DeclarationInput, error) {
	out := healthcode.DeclarationInput{
		Form: in.Form, Name: in.Name, DocType: in.DocType, DocNumber: in.DocNumber, Phone: in.Phone,
		ResidenceCode: in.Residence, Address: in.Address, Employer: deref(in.Employer),
		Temperature: in.Temperature, Symptoms: in.Symptoms, CloseContact: deref(in.CloseContact),
		Origin: strings.TrimSpace(deref(in.Origin)), Transport: deref(in.Transport),
	}
	for i, t := range in.Travel {
		from, err := parseDate("旅居史第"+strconv.Itoa(i+1)+"条开始日期", t.From)
		if err != nil {
			return out, err
		}
		to, err := parseDate("旅居史第"+strconv.Itoa(i+1)+"条结束日期", t.To)
		if err != nil {
			return out, err
		}
		out.Travel = append(out.Travel, healthcode.TravelEntry{Place: strings.TrimSpace(t.Place), From: from, To: to})
	}
	if in.ArrivalDate != nil && *in.ArrivalDate != "" {
		d, err := parseDate("抵陕日期", *in.ArrivalDate)
		if err != nil {
			return out, err
		}
		out.ArrivalDate = d
	}
	return out, nil
}

// optColour is a nullable Colour of the schema: nil for "" (no code, or not
// computed).
func optColour(c healthcode.Colour) *healthcode.Colour {
	if c == "" {
		return nil
	}
	return &c
}
