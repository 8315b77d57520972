package healthcode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// MaxScanLine bounds one line of a scan upload.
const MaxScanLine = 4096

type scanLine struct {
	ScanID      string   `json:"scanId"`
	Token       string   `json:"token"`
	VenueID     string   `json:"venueId"`
	ScannedAt   string   `json:"scannedAt"`
	Temperature *float64 `json:"temperature"`
	Role        string   `json:"role"`
}

// ParseScanBatch decodes a scanner's offline upload: one JSON object per line
// (NDJSON) with scanId, token, venueId, scannedAt (RFC 3339), temperature and
// role, at most max lines of at most MaxScanLine bytes each; blank lines are
// skipped. The HTTP upload endpoint calls it; any caller may.
// Errors: INVALID naming the line at fault (unknown fields, bad JSON, a bad
// time or venue id, too many or too long lines).
func ParseScanBatch(r io.Reader, max int) ([]ScanInput, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), MaxScanLine)
	var out []ScanInput
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) == max {
			return nil, Errorf(EINVALID, "每批最多上传 %d 条扫码记录", max)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var l scanLine
		if err := dec.Decode(&l); err != nil || dec.More() {
			return nil, Errorf(EINVALID, "第 %d 行不是有效的扫码记录", line)
		}
		venue, err := strconv.ParseInt(l.VenueID, 10, 64)
		if err != nil || venue <= 0 {
			return nil, Errorf(EINVALID, "第 %d 行的查验场所编号不正确", line)
		}
		at, err := time.Parse(time.RFC3339Nano, l.ScannedAt)
		if err != nil {
			return nil, Errorf(EINVALID, "第 %d 行的扫码时间应为 RFC 3339 格式", line)
		}
		out = append(out, ScanInput{ScanID: l.ScanID, Token: l.Token, VenueID: venue, ScannedAt: at, Temperature: l.Temperature, Role: l.Role})
	}
	if err := sc.Err(); err != nil {
		return nil, Errorf(EINVALID, "第 %d 行超过 %d 字节或无法读取", line+1, MaxScanLine)
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "没有扫码记录")
	}
	return out, nil
}
