package server_test

import (
	"strings"
	"testing"

	"healthcode"
	"healthcode/server"
)

const goodLine = `{"scanId":"00000000-0000-4000-8000-000000000001","token":"eyJ.x.y","venueId":"12","scannedAt":"2026-11-27T09:30:00+08:00","temperature":36.5,"role":"VISITOR"}`

func TestParseScanBatch(t *testing.T) {
	t.Parallel()
	got, err := server.ParseScanBatch(strings.NewReader(goodLine+"\n\n"+goodLine+"\n"), 10)
	if err != nil || len(got) != 2 || got[0].VenueID != 12 || *got[0].Temperature != 36.5 {
		t.Fatalf("got %+v, %v", got, err)
	}
	bad := map[string]string{
		"unknown field": `{"scanId":"a","idNumber":"610113"}`,
		"bad json":      `{"scanId":`,
		"two objects":   `{"scanId":"a"} {"scanId":"b"}`,
		"bad venue":     strings.Replace(goodLine, `"12"`, `"x"`, 1),
		"bad time":      strings.Replace(goodLine, `2026-11-27T09:30:00+08:00`, `yesterday`, 1),
		"empty":         "\n\n",
		"too many":      goodLine + "\n" + goodLine + "\n" + goodLine,
		"too long":      `{"token":"` + strings.Repeat("a", 5000) + `"}`,
	}
	for name, in := range bad {
		if _, err := server.ParseScanBatch(strings.NewReader(in), 2); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%s: err = %v, want INVALID", name, err)
		}
	}
}

func FuzzParseScanBatch(f *testing.F) {
	f.Add(goodLine)
	f.Add(goodLine + "\n" + goodLine)
	f.Add(`{"scanId":1}`)
	f.Add("\x00\xff{")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := server.ParseScanBatch(strings.NewReader(in), 1000)
		if err != nil {
			if healthcode.ErrorCode(err) != healthcode.EINVALID {
				t.Fatalf("error code %s", healthcode.ErrorCode(err))
			}
			return
		}
		if len(got) == 0 || len(got) > 1000 {
			t.Fatalf("%d scans", len(got))
		}
		for _, sc := range got {
			if sc.VenueID <= 0 || sc.ScannedAt.IsZero() {
				t.Fatalf("accepted a scan with venue %d at %v", sc.VenueID, sc.ScannedAt)
			}
		}
	})
}
