package exchange

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"time"

	"healthcode"
	"healthcode/ndjson"
)

// Medical events of medical institutions' machine clients
// (POST /exchange/v1/medical-events, docs/exchange.md).

// MaxMedicalEventLine bounds one record of a machine client's request, in bytes.
const MaxMedicalEventLine = 4096

// MedicalEventWire is a machine client's record as it travels.
type MedicalEventWire struct {
	RecordID  string `json:"recordId"`
	DocType   string `json:"docType"`
	DocNumber string `json:"docNumber"`
	Kind      string `json:"kind"`
	At        string `json:"at"`
	Note      string `json:"note"`
}

// record turns w into the service's record; a field that cannot be read
// makes the record INVALID (Invalid set), the others still go.
func (w *MedicalEventWire) record(line int) healthcode.MedicalEventRecord {
	r := healthcode.MedicalEventRecord{Line: line, RecordID: w.RecordID, DocType: healthcode.DocType(w.DocType),
		DocNumber: strings.TrimSpace(w.DocNumber), Kind: w.Kind, Note: w.Note}
	if !r.DocType.Valid() {
		r.Invalid = healthcode.FieldError("docType", "证件类型应为 ID_CARD、PASSPORT、HK_MACAO 或 TAIWAN")
		return r
	}
	at, err := time.Parse(time.RFC3339, w.At)
	if err != nil || at.Year() < 2020 || at.Year() > 9999 {
		r.Invalid = healthcode.FieldError("at", "发生时间应为 RFC 3339 格式，如 2026-11-27T09:30:00+08:00")
		return r
	}
	r.At = at
	return r
}

// DecodeMedicalEvents reads a machine client's request: a JSON array of
// records (Content-Type application/json) or one record per line
// (application/x-ndjson), strictly (unknown fields and wrong types make the
// record INVALID, the others still go). The HTTP endpoint calls it; any
// caller may. Errors: INVALID when the body is not an array (JSON), a line
// exceeds MaxMedicalEventLine bytes, there is no record or more than
// healthcode.MaxMedicalEventBatch.
func DecodeMedicalEvents(r io.Reader, ndjsonBody bool) ([]healthcode.MedicalEventRecord, error) {
	var out []healthcode.MedicalEventRecord
	decode := func(line int, b []byte) {
		var w MedicalEventWire
		if err := ndjson.Decode(b, &w); err != nil {
			var probe struct {
				RecordID string `json:"recordId"`
			}
			_ = json.Unmarshal(b, &probe)
			rec := healthcode.MedicalEventRecord{Line: line, RecordID: healthcode.Truncate(probe.RecordID, 64),
				Invalid: healthcode.Errorf(healthcode.EINVALID, "第 %d 条记录不是有效的医学状态记录（JSON 格式或字段有误）", line)}
			out = append(out, rec)
			return
		}
		out = append(out, w.record(line))
	}
	tooMany := healthcode.Errorf(healthcode.EINVALID, "每批应上报 1 至 %d 条记录", healthcode.MaxMedicalEventBatch)
	if ndjsonBody {
		err := ndjson.Read(r, MaxMedicalEventLine, healthcode.MaxMedicalEventBatch, func(line int, b []byte) error {
			decode(line, b)
			return nil
		})
		switch err {
		case nil:
			return out, nil
		case ndjson.ErrTooMany, ndjson.ErrEmpty:
			return nil, tooMany
		}
		return nil, err
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, healthcode.Errorf(healthcode.EINVALID, "请求体无法读取")
	}
	var list []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&list); err != nil || dec.More() {
		return nil, healthcode.Errorf(healthcode.EINVALID, "请求体应为医学状态记录的 JSON 数组")
	}
	if len(list) == 0 || len(list) > healthcode.MaxMedicalEventBatch {
		return nil, tooMany
	}
	for i, b := range list {
		if len(b) > MaxMedicalEventLine {
			return nil, healthcode.Errorf(healthcode.EINVALID, "第 %d 条记录超过 %d 字节", i+1, MaxMedicalEventLine)
		}
		decode(i+1, b)
	}
	return out, nil
}
