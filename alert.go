package healthcode

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AlertKind names an unusual pattern of one account (issue 12 §4).
type AlertKind string

// The alert kinds.
const (
	// AlertMassUnmask: one account unmasked more distinct persons within the
	// window than the threshold.
	AlertMassUnmask AlertKind = "MASS_UNMASK"
	// AlertMassDesignation: one account asked for red-making colour changes
	// (medical designations, declarations, retractions, area risks) about
	// more distinct persons and areas within the window than the threshold.
	AlertMassDesignation AlertKind = "MASS_DESIGNATION"
	// AlertMassPersonRead: one account read more distinct persons' data
	// (every read of the access log: persons, facts, code histories,
	// guardianships, appeals, unmasking, lookups) within the window than
	// the threshold.
	AlertMassPersonRead AlertKind = "MASS_PERSON_READ"
)

// AlertKinds lists the kinds, for validation and the docs.
var AlertKinds = []AlertKind{AlertMassUnmask, AlertMassDesignation, AlertMassPersonRead}

// AlertLimit is a threshold: more than Count distinct persons within Window
// raise an alert.
type AlertLimit struct {
	Count  int
	Window time.Duration
}

// DefaultAlertLimits are the thresholds used where the configuration sets
// none (docs/security.md "Abuse limits").
var DefaultAlertLimits = map[AlertKind]AlertLimit{
	AlertMassUnmask:      {Count: 10, Window: time.Hour},
	AlertMassDesignation: {Count: 20, Window: time.Hour},
	AlertMassPersonRead:  {Count: 200, Window: time.Hour},
}

// Alert is one durable abuse alert: one account crossed a threshold within a
// sliding window. Later actions of the same account inside the window update
// Count and LastAt of the same alert rather than raising new ones.
type Alert struct {
	ID             int64
	Kind           AlertKind
	Actor          string // the account's subject: "staff:12"
	RegionCode     string // the account's home region
	Window         time.Duration
	Count          int // distinct persons within the window, as of LastAt
	Threshold      int
	FirstAt        time.Time
	LastAt         time.Time
	Detail         map[string]any
	AcknowledgedBy string // "" while unacknowledged
	AcknowledgedAt *time.Time
	Note           string
}

// AlertFilter selects alerts to list.
type AlertFilter struct {
	Kind         AlertKind // "" for all
	Acknowledged *bool     // nil for both
	First        int
	After        int64 // keyset cursor: alerts with a smaller id (newest first)
}

// AlertService reads and acknowledges abuse alerts. Alerts are raised by the
// storage inside the transactions of the actions they count.
type AlertService interface {
	// ListAlerts returns alerts in regions inside the caller's audit.read
	// regions, newest first. Who may call: auditors (audit.read). Errors:
	// UNAUTHENTICATED, FORBIDDEN, INVALID (an unknown kind).
	ListAlerts(ctx context.Context, filter AlertFilter) ([]*Alert, bool, error)
	// AcknowledgeAlert marks an alert as looked at, with a note (1–500
	// characters), and audits it. Who may call: auditors holding audit.read
	// at the alert's region. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
	// INVALID, CONFLICT (already acknowledged).
	AcknowledgeAlert(ctx context.Context, id int64, note string) (*Alert, error)
}

// ParseAlertLimits reads ALERT_LIMITS: comma-separated KIND=COUNT/WINDOW,
// e.g. "MASS_PERSON_READ=300/1h,MASS_UNMASK=5/30m"; kinds not named keep
// DefaultAlertLimits. Errors: INVALID naming the part at fault.
func ParseAlertLimits(s string) (map[AlertKind]AlertLimit, error) {
	out := map[AlertKind]AlertLimit{}
	for k, v := range DefaultAlertLimits {
		out[k] = v
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		count, window, ok2 := strings.Cut(strings.TrimSpace(v), "/")
		n, err := strconv.Atoi(strings.TrimSpace(count))
		w, werr := time.ParseDuration(strings.TrimSpace(window))
		kind := AlertKind(strings.ToUpper(strings.TrimSpace(k)))
		if !ok || !ok2 || !slices.Contains(AlertKinds, kind) || err != nil || n < 1 || werr != nil || w < time.Minute || w > 7*Day {
			return nil, Errorf(EINVALID, "告警阈值配置 %q 应为 类型=人数/时间窗（如 MASS_PERSON_READ=200/1h），类型为 MASS_UNMASK、MASS_DESIGNATION 或 MASS_PERSON_READ，时间窗 1m 至 168h",
				Truncate(part, 40))
		}
		out[kind] = AlertLimit{Count: n, Window: w}
	}
	return out, nil
}
