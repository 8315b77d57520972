package server

import (
	"errors"
	"io"
	"strconv"
	"time"

	"healthcode"
	"healthcode/ndjson"
)

// MaxScanLine bounds one line of a scan upload.
const MaxScanLine = 4096

// scanLine is one line of a scan upload as it travels.
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
func ParseScanBatch(r io.Reader, max int) ([]healthcode.ScanInput, error) {
	var out []healthcode.ScanInput
	err := ndjson.Read(r, MaxScanLine, max, func(line int, b []byte) error {
		var l scanLine
		if err := ndjson.Decode(b, &l); err != nil {
			return healthcode.Errorf(healthcode.EINVALID, "第 %d 行不是有效的扫码记录", line)
		}
		venue, err := strconv.ParseInt(l.VenueID, 10, 64)
		if err != nil || venue <= 0 {
			return healthcode.Errorf(healthcode.EINVALID, "第 %d 行的查验场所编号不正确", line)
		}
		at, err := time.Parse(time.RFC3339Nano, l.ScannedAt)
		if err != nil {
			return healthcode.Errorf(healthcode.EINVALID, "第 %d 行的扫码时间应为 RFC 3339 格式", line)
		}
		out = append(out, healthcode.ScanInput{ScanID: l.ScanID, Token: l.Token, VenueID: venue, ScannedAt: at,
			Temperature: l.Temperature, Role: l.Role})
		return nil
	})
	switch {
	case errors.Is(err, ndjson.ErrTooMany):
		return nil, healthcode.Errorf(healthcode.EINVALID, "每批最多上传 %d 条扫码记录", max)
	case errors.Is(err, ndjson.ErrEmpty):
		return nil, healthcode.Errorf(healthcode.EINVALID, "没有扫码记录")
	case err != nil:
		return nil, err
	}
	return out, nil
}
