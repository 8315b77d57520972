package healthcode_test

import (
	"testing"
	"time"

	"healthcode"
)

func TestCursors(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 11, 27, 10, 0, 0, 123000, time.UTC)
	for _, tk := range []*healthcode.Ticket{{ID: 7, DueAt: &due}, {ID: 8}, {ID: 9, Kind: "CODE_APPEAL", DueAt: &due}} {
		for _, appealsFirst := range []bool{false, true} {
			k, err := healthcode.ParseTicketCursor(healthcode.TicketCursor(tk, appealsFirst))
			d := k.Due
			if err != nil || k.ID != tk.ID || (d == nil) != (tk.DueAt == nil) || d != nil && !d.Equal(*tk.DueAt) ||
				k.AppealsFirst != appealsFirst || k.Other != (appealsFirst && tk.Kind != "CODE_APPEAL") {
				t.Errorf("ticket %d (appeals first %v): got %+v, %v", tk.ID, appealsFirst, k, err)
			}
		}
	}
	sc := &healthcode.Scan{ScanID: "00000000-0000-4000-8000-000000000001", ScannedAt: due}
	if at, id, err := healthcode.ParseScanCursor(healthcode.ScanCursor(sc)); err != nil || id != sc.ScanID || !at.Equal(due) {
		t.Errorf("scan: got %v, %q, %v", at, id, err)
	}
	for _, bad := range []string{"!", "eA"} { // not base64; "x"
		if _, err := healthcode.ParseTicketCursor(bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("ticket cursor %q: err = %v", bad, err)
		}
		if _, _, err := healthcode.ParseScanCursor(bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("scan cursor %q: err = %v", bad, err)
		}
	}
}
