package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"healthcode"
	"healthcode/ndjson"
)

// The unified format of city sub-system pushes (SPEC §7, docs/exchange.md):
// one JSON object per person per push, one object per line (NDJSON), with
// the data items of GB/T 38962 (个人健康信息码 数据格式) that the unified rules
// and the person register need.

// MaxSubsystemLine bounds one NDJSON line of a sub-system push, in bytes.
const MaxSubsystemLine = 8192

// SubsystemTravel is one entry of the 14-day travel and residence history
// (旅居史): a region code of any province or ABROAD:<ISO 3166 alpha-2>, with
// the first and last day (YYYY-MM-DD, China Standard Time).
type SubsystemTravel struct {
	Place string `json:"place"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// SubsystemWire is a record of the unified format as it travels: JSON field
// names and string encodings of the NDJSON line and of the GraphQL input.
type SubsystemWire struct {
	RecordID    string            `json:"recordId"`
	Name        string            `json:"name"`
	Sex         string            `json:"sex"`
	Nationality string            `json:"nationality"`
	DocType     string            `json:"docType"`
	DocNumber   string            `json:"docNumber"`
	Region      string            `json:"region"`
	Address     string            `json:"address"`
	Phone       string            `json:"phone"`
	Temperature *float64          `json:"temperature"`
	Symptoms    []string          `json:"symptoms"`
	Travel      []SubsystemTravel `json:"travel"`
	Colour      string            `json:"colour"`
	IssuedAt    string            `json:"issuedAt"`
	Issuer      string            `json:"issuer"`
}

var (
	recordIDRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	nationalityRE = regexp.MustCompile(`^[A-Z]{3}$`)
	placeRE       = regexp.MustCompile(`^(ABROAD:[A-Z]{2}|[1-8][0-9]([0-9]{2}|[0-9]{4}|[0-9]{7}|[0-9]{10}|[0-9]{13})?)$`)
)

// maxTravel bounds the travel entries of one record (as in declarations).
const maxTravel = 30

func parseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", s, healthcode.CST)
	return t, err == nil
}

// Record checks the format of every field of w and returns the domain
// record. It does not look anything up: the ingest service checks that the
// region exists and lies inside the key's city, the document's check digit,
// the phone and the dates against the 14-day window. Both transports call it;
// any caller may. Errors: INVALID naming the first field at fault.
func (w *SubsystemWire) Record() (healthcode.SubsystemRecord, error) {
	var r healthcode.SubsystemRecord
	if !recordIDRE.MatchString(w.RecordID) {
		return r, healthcode.FieldError("recordId", "记录编号须为 1 至 64 位字母、数字或 . _ : -，且以字母或数字开头")
	}
	name := strings.TrimSpace(w.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 50 {
		return r, healthcode.FieldError("name", "姓名不能为空，且不超过 50 个字")
	}
	switch w.Sex {
	case "0", "1", "2", "9":
	default:
		return r, healthcode.FieldError("sex", "性别应为 GB/T 2261.1 代码 0、1、2 或 9")
	}
	if !nationalityRE.MatchString(w.Nationality) {
		return r, healthcode.FieldError("nationality", "国籍应为 3 位大写字母代码（GB/T 2659），如 CHN")
	}
	dt := healthcode.DocType(w.DocType)
	if !dt.Valid() {
		return r, healthcode.FieldError("docType", "证件类型应为 ID_CARD、PASSPORT、HK_MACAO 或 TAIWAN")
	}
	if n := len(strings.TrimSpace(w.DocNumber)); n == 0 || n > 32 {
		return r, healthcode.FieldError("docNumber", "证件号码不能为空，且不超过 32 个字符")
	}
	if _, ok := healthcode.LevelOfCode(w.Region); !ok {
		return r, healthcode.FieldError("region", "现住地应为陕西省内村（社区）或小区的地区代码")
	}
	address := strings.TrimSpace(w.Address)
	if n := utf8.RuneCountInString(address); n == 0 || n > 200 {
		return r, healthcode.FieldError("address", "详细地址不能为空，且不超过 200 个字")
	}
	if strings.TrimSpace(w.Phone) == "" {
		return r, healthcode.FieldError("phone", "联系电话不能为空")
	}
	if w.Temperature == nil || math.IsNaN(*w.Temperature) || *w.Temperature < 35 || *w.Temperature > 42 {
		return r, healthcode.FieldError("temperature", "体温应在 35.0 至 42.0 ℃ 之间")
	}
	if len(w.Symptoms) > len(healthcode.KnownSymptoms) {
		return r, healthcode.FieldError("symptoms", "症状过多")
	}
	for _, s := range w.Symptoms {
		if _, ok := healthcode.KnownSymptoms[s]; !ok {
			return r, healthcode.FieldError("symptoms", "未知症状 %q", healthcode.Truncate(s, 20))
		}
	}
	if len(w.Travel) > maxTravel {
		return r, healthcode.FieldError("travel", "旅居史最多 %d 条", maxTravel)
	}
	travel := make([]healthcode.TravelEntry, 0, len(w.Travel))
	for i, t := range w.Travel {
		if !placeRE.MatchString(t.Place) {
			return r, healthcode.FieldError("travel", "第 %d 条地点应为地区代码或 ABROAD:国家代码", i+1)
		}
		from, ok1 := parseDay(t.From)
		to, ok2 := parseDay(t.To)
		if !ok1 || !ok2 {
			return r, healthcode.FieldError("travel", "第 %d 条日期应为 YYYY-MM-DD", i+1)
		}
		if to.Before(from) {
			return r, healthcode.FieldError("travel", "第 %d 条结束日期早于开始日期", i+1)
		}
		travel = append(travel, healthcode.TravelEntry{Place: t.Place, From: from, To: to})
	}
	colour := healthcode.Colour(w.Colour)
	switch colour {
	case healthcode.Green, healthcode.Yellow, healthcode.Red:
	default:
		return r, healthcode.FieldError("colour", "码颜色应为 GREEN、YELLOW 或 RED")
	}
	issued, err := time.Parse(time.RFC3339, w.IssuedAt)
	if err != nil || issued.Year() < 2020 || issued.Year() > 9999 {
		return r, healthcode.FieldError("issuedAt", "赋码时间应为 RFC 3339 格式，如 2026-11-27T09:30:00+08:00")
	}
	if lv, ok := healthcode.LevelOfCode(w.Issuer); !ok || lv != healthcode.LevelCity {
		return r, healthcode.FieldError("issuer", "发码机构应为市级子系统的 4 位地市代码")
	}
	symptoms := w.Symptoms
	if symptoms == nil {
		symptoms = []string{}
	}
	return healthcode.SubsystemRecord{RecordID: w.RecordID, Name: name, Sex: w.Sex, Nationality: w.Nationality,
		DocType: dt, DocNumber: strings.TrimSpace(w.DocNumber), Region: w.Region, Address: address,
		Phone: strings.TrimSpace(w.Phone), Temperature: *w.Temperature, Symptoms: symptoms, Travel: travel,
		Colour: colour, IssuedAt: issued, Issuer: w.Issuer}, nil
}

// SubsystemLine is one non-blank line of an NDJSON push: the decoded record,
// or the error that makes the line a rejected record.
type SubsystemLine struct {
	Line     int
	RecordID string // as far as it could be read ("" when the line is not JSON)
	Record   healthcode.SubsystemRecord
	Err      error // INVALID with a Chinese message naming the field
}

// DecodeSubsystemRecords decodes an NDJSON push of a city sub-system: one
// record of the unified format per line, strictly (unknown fields, wrong
// types, several objects on a line and trailing data are errors), blank lines
// skipped. A line that is not a valid record is returned with its error and
// the others still decode, so that the service can reject it alone. The HTTP
// endpoint calls it; any caller may.
// Errors (the whole push): INVALID when a line exceeds MaxSubsystemLine
// bytes, there are more than max records, or there is none.
func DecodeSubsystemRecords(r io.Reader, max int) ([]SubsystemLine, error) {
	var out []SubsystemLine
	err := ndjson.Read(r, MaxSubsystemLine, max, func(n int, b []byte) error {
		out = append(out, decodeLine(n, b))
		return nil
	})
	switch {
	case errors.Is(err, ndjson.ErrTooMany):
		return nil, healthcode.Errorf(healthcode.EINVALID, "每批最多推送 %d 条记录", max)
	case errors.Is(err, ndjson.ErrEmpty):
		return nil, healthcode.Errorf(healthcode.EINVALID, "没有记录")
	case err != nil:
		return nil, err
	}
	return out, nil
}

func decodeLine(n int, b []byte) SubsystemLine {
	l := SubsystemLine{Line: n}
	var w SubsystemWire
	if err := ndjson.Decode(b, &w); err != nil {
		// Keep the record id when the line is an object with a readable one,
		// so the sub-system can match the rejection to its record.
		var probe struct {
			RecordID string `json:"recordId"`
		}
		if json.Unmarshal(b, &probe) == nil && recordIDRE.MatchString(probe.RecordID) {
			l.RecordID = probe.RecordID
		}
		l.Err = healthcode.Errorf(healthcode.EINVALID, "第 %d 行不是有效的统一格式记录：%s", n, jsonProblem(err))
		return l
	}
	if recordIDRE.MatchString(w.RecordID) {
		l.RecordID = w.RecordID
	}
	rec, err := w.Record()
	if err != nil {
		l.Err = healthcode.Errorf(healthcode.EINVALID, "第 %d 行 %s", n, healthcode.ErrorMessage(err))
		return l
	}
	l.Record = rec
	return l
}

// jsonProblem says in Chinese what is wrong with a line, without echoing its
// content (it may hold personal data).
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("字段 %s 的类型不正确", typeErr.Field)
	case strings.HasPrefix(msg, "json: unknown field "):
		return "未知字段 " + healthcode.Truncate(strings.TrimPrefix(msg, "json: unknown field "), 40)
	case errors.Is(err, ndjson.ErrTrailingData):
		return "一行只能有一个 JSON 对象"
	}
	return "JSON 格式错误"
}

// Push hands the valid lines of a push to svc and merges its answer with the
// lines that did not decode (rejected as INVALID), in line order, with the
// totals. The HTTP endpoint and the GraphQL mutation call it for a city
// sub-system's API key; svc authorizes the records. Errors: UNAUTHENTICATED
// (no caller), FORBIDDEN (not a machine client), INVALID (no line or more
// than healthcode.MaxSubsystemBatch), and those of svc.PushRecords.
func Push(ctx context.Context, svc healthcode.SubsystemService, lines []SubsystemLine) (*healthcode.SubsystemPushResult, error) {
	if a := healthcode.ActorFromContext(ctx); a == nil {
		return nil, healthcode.ErrUnauthenticated
	} else if a.Kind != healthcode.ActorMachine {
		return nil, healthcode.ErrForbidden
	}
	if len(lines) == 0 || len(lines) > healthcode.MaxSubsystemBatch {
		return nil, healthcode.Errorf(healthcode.EINVALID, "每批应推送 1 至 %d 条记录", healthcode.MaxSubsystemBatch)
	}
	var valid []healthcode.SubsystemRecord
	for _, l := range lines {
		if l.Err == nil {
			valid = append(valid, l.Record)
		}
	}
	res := &healthcode.SubsystemPushResult{Records: make([]healthcode.SubsystemRecordResult, len(lines))}
	var got *healthcode.SubsystemPushResult
	if len(valid) > 0 {
		var err error
		if got, err = svc.PushRecords(ctx, valid); err != nil {
			return nil, err
		}
		res.DeviationsOpened, res.DeviationsClosed = got.DeviationsOpened, got.DeviationsClosed
	}
	j := 0
	for i, l := range lines {
		if l.Err != nil {
			res.Records[i] = healthcode.SubsystemRecordResult{RecordID: l.RecordID, Status: healthcode.SubsystemRejected,
				Reason: healthcode.RejectInvalid, Message: healthcode.ErrorMessage(l.Err)}
		} else {
			res.Records[i] = got.Records[j]
			j++
		}
		res.Records[i].Line = l.Line
		switch res.Records[i].Status {
		case healthcode.SubsystemAccepted:
			res.Accepted++
		case healthcode.SubsystemDuplicate:
			res.Duplicates++
		case healthcode.SubsystemPending:
			res.Pending++
		default:
			res.Rejected++
		}
	}
	return res, nil
}

// WireLines checks records that arrived as a list (the GraphQL mutation) and
// numbers them from 1, like the lines of an NDJSON push, for Push. Any caller
// may use it; it cannot fail (a bad record carries its INVALID error).
func WireLines(records []*SubsystemWire) []SubsystemLine {
	out := make([]SubsystemLine, len(records))
	for i, w := range records {
		out[i].Line = i + 1
		if recordIDRE.MatchString(w.RecordID) {
			out[i].RecordID = w.RecordID
		}
		rec, err := w.Record()
		if err != nil {
			out[i].Err = healthcode.Errorf(healthcode.EINVALID, "第 %d 条 %s", i+1, healthcode.ErrorMessage(err))
			continue
		}
		out[i].Record = rec
	}
	return out
}
