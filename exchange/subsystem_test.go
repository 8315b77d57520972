package exchange_test

import (
	"strings"
	"testing"

	"healthcode"
	"healthcode/exchange"
)

const goodRecord = `{"recordId":"XA-20261127-0001","name":"张三","sex":"1","nationality":"CHN","docType":"ID_CARD",` +
	`"docNumber":"11010519491231002X","region":"610113001001","address":"雁塔路1号","phone":"13800000001",` +
	`"temperature":36.5,"symptoms":[],"travel":[{"place":"420106","from":"2026-11-20","to":"2026-11-25"}],` +
	`"colour":"YELLOW","issuedAt":"2026-11-27T09:00:00+08:00","issuer":"6101"}`

func TestDecodeSubsystemRecords(t *testing.T) {
	t.Parallel()
	lines, err := exchange.DecodeSubsystemRecords(strings.NewReader(goodRecord+"\n\n"+goodRecord+"\n"), 10)
	if err != nil || len(lines) != 2 {
		t.Fatalf("got %d lines, %v", len(lines), err)
	}
	l := lines[1]
	if l.Err != nil || l.Line != 3 || l.RecordID != "XA-20261127-0001" {
		t.Fatalf("line = %+v", l)
	}
	r := l.Record
	if r.Colour != healthcode.Yellow || r.Region != "610113001001" || r.Temperature != 36.5 || len(r.Travel) != 1 ||
		r.Travel[0].From.Format("2006-01-02") != "2026-11-20" || r.Issuer != "6101" || r.IssuedAt.IsZero() {
		t.Fatalf("record = %+v", r)
	}

	// A bad line is rejected alone, with its line number and, when it can be
	// read, its record id; the field is named in Chinese.
	badLines := map[string]string{
		"unknown field":    strings.Replace(goodRecord, `"sex":"1"`, `"sex":"1","idNumber":"x"`, 1),
		"wrong type":       strings.Replace(goodRecord, `"temperature":36.5`, `"temperature":"36.5"`, 1),
		"two objects":      goodRecord + " {}",
		"bad json":         `{"recordId":`,
		"bad sex":          strings.Replace(goodRecord, `"sex":"1"`, `"sex":"M"`, 1),
		"bad nationality":  strings.Replace(goodRecord, `"CHN"`, `"China"`, 1),
		"bad doc type":     strings.Replace(goodRecord, `"ID_CARD"`, `"SSN"`, 1),
		"bad region":       strings.Replace(goodRecord, `"610113001001"`, `"xian"`, 1),
		"no temperature":   strings.Replace(goodRecord, `"temperature":36.5,`, ``, 1),
		"hot":              strings.Replace(goodRecord, `36.5`, `45`, 1),
		"unknown symptom":  strings.Replace(goodRecord, `"symptoms":[]`, `"symptoms":["sneeze"]`, 1),
		"bad place":        strings.Replace(goodRecord, `"420106"`, `"Wuhan"`, 1),
		"bad date":         strings.Replace(goodRecord, `"2026-11-20"`, `"20.11.2026"`, 1),
		"reversed dates":   strings.Replace(goodRecord, `"2026-11-20"`, `"2026-11-26"`, 1),
		"bad colour":       strings.Replace(goodRecord, `"YELLOW"`, `"BLUE"`, 1),
		"bad issued time":  strings.Replace(goodRecord, `2026-11-27T09:00:00+08:00`, `yesterday`, 1),
		"issuer no city":   strings.Replace(goodRecord, `"issuer":"6101"`, `"issuer":"61"`, 1),
		"empty record id":  strings.Replace(goodRecord, `"XA-20261127-0001"`, `""`, 1),
		"empty name":       strings.Replace(goodRecord, `"张三"`, `" "`, 1),
		"missing phone":    strings.Replace(goodRecord, `"13800000001"`, `""`, 1),
		"not an object":    `[1,2]`,
		"record id spaces": strings.Replace(goodRecord, `"XA-20261127-0001"`, `"a b"`, 1),
	}
	for name, line := range badLines {
		lines, err := exchange.DecodeSubsystemRecords(strings.NewReader(goodRecord+"\n"+line), 10)
		if err != nil || len(lines) != 2 {
			t.Errorf("%s: %d lines, %v", name, len(lines), err)
			continue
		}
		if lines[0].Err != nil {
			t.Errorf("%s: the good line failed: %v", name, lines[0].Err)
		}
		l := lines[1]
		if healthcode.ErrorCode(l.Err) != healthcode.EINVALID || !strings.HasPrefix(healthcode.ErrorMessage(l.Err), "第 2 行") {
			t.Errorf("%s: err = %v, want INVALID for line 2", name, l.Err)
		}
		if strings.Contains(healthcode.ErrorMessage(l.Err), "11010519491231002X") {
			t.Errorf("%s: the message echoes the document number", name)
		}
	}
	if l := mustDecode(t, badLines["bad sex"])[0]; l.RecordID != "XA-20261127-0001" || !strings.Contains(healthcode.ErrorMessage(l.Err), "sex") {
		t.Errorf("bad sex: %+v", l)
	}
	if l := mustDecode(t, badLines["unknown field"])[0]; l.RecordID != "XA-20261127-0001" || !strings.Contains(healthcode.ErrorMessage(l.Err), "idNumber") {
		t.Errorf("unknown field: %+v", l)
	}

	// The whole push is refused when it is empty, too large or has a line
	// that is too long.
	whole := map[string]string{
		"empty":     "\n \n",
		"too many":  strings.Repeat(goodRecord+"\n", 3),
		"too long":  `{"recordId":"a","address":"` + strings.Repeat("地", 3000) + `"}`,
		"long line": goodRecord + "\n" + strings.Repeat(" ", exchange.MaxSubsystemLine+1) + "x",
	}
	for name, in := range whole {
		if _, err := exchange.DecodeSubsystemRecords(strings.NewReader(in), 2); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%s: err = %v, want INVALID", name, err)
		}
	}
}

func mustDecode(t *testing.T, in string) []exchange.SubsystemLine {
	t.Helper()
	lines, err := exchange.DecodeSubsystemRecords(strings.NewReader(in), 10)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func FuzzDecodeSubsystemRecords(f *testing.F) {
	f.Add(goodRecord)
	f.Add(goodRecord + "\n" + goodRecord)
	f.Add(`{"recordId":1}`)
	f.Add(`{"recordId":"a","travel":[{"place":"ABROAD:US","from":"2026-02-30","to":"2026-03-01"}]}`)
	f.Add("\x00\xff{")
	f.Fuzz(func(t *testing.T, in string) {
		lines, err := exchange.DecodeSubsystemRecords(strings.NewReader(in), 100)
		if err != nil {
			if healthcode.ErrorCode(err) != healthcode.EINVALID {
				t.Fatalf("error code %s", healthcode.ErrorCode(err))
			}
			return
		}
		if len(lines) == 0 || len(lines) > 100 {
			t.Fatalf("%d lines", len(lines))
		}
		prev := 0
		for _, l := range lines {
			if l.Line <= prev {
				t.Fatalf("line numbers not increasing: %d after %d", l.Line, prev)
			}
			prev = l.Line
			if l.Err != nil {
				if healthcode.ErrorCode(l.Err) != healthcode.EINVALID {
					t.Fatalf("line error code %s", healthcode.ErrorCode(l.Err))
				}
				continue
			}
			r := l.Record
			if r.RecordID == "" || r.RecordID != l.RecordID || r.Name == "" || !r.DocType.Valid() || r.IssuedAt.IsZero() ||
				r.Temperature < 35 || r.Temperature > 42 || r.Symptoms == nil {
				t.Fatalf("accepted an invalid record %+v", r)
			}
			switch r.Colour {
			case healthcode.Green, healthcode.Yellow, healthcode.Red:
			default:
				t.Fatalf("accepted colour %q", r.Colour)
			}
			for _, tr := range r.Travel {
				if tr.To.Before(tr.From) {
					t.Fatalf("accepted reversed travel %+v", tr)
				}
			}
		}
	})
}
