package healthcode_test

import (
	"testing"
	"time"

	"healthcode"
)

func TestParseAlertLimits(t *testing.T) {
	t.Parallel()
	l, err := healthcode.ParseAlertLimits(" mass_person_read=300/2h, MASS_UNMASK=5/30m ")
	if err != nil || l[healthcode.AlertMassPersonRead] != (healthcode.AlertLimit{Count: 300, Window: 2 * time.Hour}) ||
		l[healthcode.AlertMassUnmask] != (healthcode.AlertLimit{Count: 5, Window: 30 * time.Minute}) ||
		l[healthcode.AlertMassDesignation] != healthcode.DefaultAlertLimits[healthcode.AlertMassDesignation] {
		t.Fatalf("ParseAlertLimits = %v, %v", l, err)
	}
	if l, err := healthcode.ParseAlertLimits(""); err != nil || len(l) != len(healthcode.AlertKinds) {
		t.Fatalf("empty = %v, %v", l, err)
	}
	for _, bad := range []string{"MASS_PERSON_READ", "MASS_PERSON_READ=0/1h", "MASS_PERSON_READ=10", "MASS_READ=10/1h",
		"MASS_UNMASK=10/10s", "MASS_UNMASK=10/1000h", "MASS_UNMASK=x/1h"} {
		if _, err := healthcode.ParseAlertLimits(bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%q: %v, want INVALID", bad, err)
		}
	}
}
