package healthcode

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours, the unit of retention periods.
const Day = 24 * time.Hour

// StayHorizon is how long after its end a stay, scan or check-in can still
// change a colour (rules.StayHorizon, repeated here because the root package
// imports nothing of the platform): the retention of those facts never goes
// below it, or a purge would change colours.
const StayHorizon = 130 * Day

// MinAuditRetention is the shortest retention of the audit and access logs
// (GB/T 35273-2020 and the Cybersecurity Law: at least six months).
const MinAuditRetention = 183 * Day

// Retention says how long each kind of personal data is kept after it stops
// mattering (docs/privacy.md#retention). The purge deletes or anonymises what
// is older.
type Retention struct {
	// Declarations are the declaration forms as submitted (origin,
	// transport); the facts they implied are kept as stays and check-ins.
	// SPEC §8's default: 28 days after the 14-day window closes.
	Declarations time.Duration
	// CheckIns are temperatures and symptoms (check-ins, declarations,
	// scans), by the time measured; at least StayHorizon.
	CheckIns time.Duration
	// Scans are checkpoint scans, dropped a day partition at a time when
	// the whole day is older; at least StayHorizon.
	Scans time.Duration
	// Stays are ended stays (travel, arrivals, former residences), by their
	// end; at least StayHorizon.
	Stays time.Duration
	// Tickets are closed hotline tickets and appeals, by their last change:
	// anonymised (caller, description, person, evidence), not deleted, so
	// the supervision indicators keep counting them.
	Tickets time.Duration
	// AccessLog is the log of staff reads; at least MinAuditRetention.
	AccessLog time.Duration
	// Audit is how long the hash-chained audit log must be kept; at least
	// MinAuditRetention. The purge never deletes audit records (the
	// application cannot): archiving older ones is an operator's step.
	Audit time.Duration
}

// DefaultRetention is the platform's default.
var DefaultRetention = Retention{
	Declarations: 42 * Day,
	CheckIns:     StayHorizon,
	Scans:        StayHorizon,
	Stays:        StayHorizon,
	Tickets:      180 * Day,
	AccessLog:    MinAuditRetention,
	Audit:        MinAuditRetention,
}

// Validate checks the periods against their minimums. Any caller.
// Errors: INVALID naming the kind and its minimum.
func (r Retention) Validate() error {
	for _, c := range []struct {
		name     string
		got, min time.Duration
	}{
		{"申报表", r.Declarations, DeclarationWindow},
		{"健康打卡", r.CheckIns, StayHorizon},
		{"扫码记录", r.Scans, StayHorizon},
		{"行程", r.Stays, StayHorizon},
		{"工单", r.Tickets, 30 * Day},
		{"访问记录", r.AccessLog, MinAuditRetention},
		{"审计日志", r.Audit, MinAuditRetention},
	} {
		if c.got < c.min {
			return Errorf(EINVALID, "%s的保存期限不能少于 %d 天", c.name, int(c.min/Day))
		}
	}
	return nil
}

// PurgeItem is what one step of a purge removed (or, in a dry run, would
// remove).
type PurgeItem struct {
	Kind   string // declarations, check-ins, scans, stays, tickets, access log, audit
	Action string // delete, drop partition <name>, anonymise, keep
	Before time.Time
	Rows   int64
}

// DataPurger enforces the retention periods. Only the workers (the
// maintenance:purge_data task) and the `healthcode purge` command call it.
type DataPurger interface {
	// PurgeExpiredData deletes, drops or anonymises the personal data older
	// than r allows at the clock's now and says what went; with dryRun it
	// changes nothing and says what would go. Idempotent. Errors: INVALID
	// (r below a minimum), storage errors.
	PurgeExpiredData(ctx context.Context, r Retention, dryRun bool) ([]PurgeItem, error)
}

// retentionKeys name the kinds of Retention in ParseRetention's text.
var retentionKeys = map[string]func(*Retention) *time.Duration{
	"declarations": func(r *Retention) *time.Duration { return &r.Declarations },
	"checkins":     func(r *Retention) *time.Duration { return &r.CheckIns },
	"scans":        func(r *Retention) *time.Duration { return &r.Scans },
	"stays":        func(r *Retention) *time.Duration { return &r.Stays },
	"tickets":      func(r *Retention) *time.Duration { return &r.Tickets },
	"accesslog":    func(r *Retention) *time.Duration { return &r.AccessLog },
	"audit":        func(r *Retention) *time.Duration { return &r.Audit },
}

// ParseRetention reads a RETENTION setting, comma-separated kind=days pairs
// over DefaultRetention ("declarations=42d,tickets=365d"; kinds:
// declarations, checkins, scans, stays, tickets, accesslog, audit), and
// validates the result. Any caller. Errors: INVALID.
func ParseRetention(s string) (Retention, error) {
	r := DefaultRetention
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		field := retentionKeys[strings.ToLower(strings.TrimSpace(k))]
		days, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), "d"))
		if !ok || field == nil || err != nil || days <= 0 {
			return r, Errorf(EINVALID, "保存期限配置 %q 应为 种类=天数d，种类为 declarations、checkins、scans、stays、tickets、accesslog 或 audit", Truncate(part, 40))
		}
		*field(&r) = time.Duration(days) * Day
	}
	return r, r.Validate()
}
