package healthcode

import (
	"context"
	"time"
)

// NationalPusher sends the daily push of new and changed codes to the
// national platform (SPEC §7): the work of exchange:national_push and
// exchange:national_check. Only the task handler calls it; both methods are
// idempotent per day.
type NationalPusher interface {
	// Push prepares (once) and sends the batches of day that are not
	// acknowledged yet. Errors: the first failed send (to retry).
	Push(ctx context.Context, day time.Time) error
	// CheckPush alerts the province administrators (once) when day is not
	// acknowledged yet and reports whether it did. Errors: storage errors.
	CheckPush(ctx context.Context, day time.Time) (alerted bool, err error)
}
