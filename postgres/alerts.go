package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// Abuse alerts (issue 12 §4, docs/security.md "Abuse limits").
//
// Detection runs in the transaction of the action itself, not in a periodic
// task over the logs: the action has just written its row (access_log for an
// unmask or any other staff read of a person, colour_requests for a
// designation), so one count of the actor's distinct persons over an indexed
// window (access_log_actor_idx, access_log_actor_at_idx,
// colour_requests_requester_idx) sees it at once and costs one index range
// scan; the alert is durable exactly when the action is, and is raised at the
// action that crosses the threshold rather than up to one period later. The
// actions counted are staff actions (unmasks, colour change requests, reads
// of a person's data — logAccess then runs the access record and the count in
// one transaction), so the extra statement is cheap next to their audit
// append or the read itself.
//
// One alert per (kind, actor, burst): while an unacknowledged alert of the
// same kind and actor was last updated within the window, later actions
// update its count and last_at instead of inserting; a transaction-level
// advisory lock on (kind, actor) keeps two concurrent actions from both
// inserting.

// alertLimit returns the threshold of kind: DB.AlertLimits, or the default.
func (db *DB) alertLimit(kind healthcode.AlertKind) healthcode.AlertLimit {
	if l, ok := db.AlertLimits[kind]; ok && l.Count > 0 && l.Window > 0 {
		return l
	}
	return healthcode.DefaultAlertLimits[kind]
}

// alertCounts are the detection queries: the distinct persons of one actor
// ($1) since $2.
var alertCounts = map[healthcode.AlertKind]string{
	healthcode.AlertMassUnmask: `SELECT count(DISTINCT person_id) FROM access_log
		WHERE actor = $1 AND what = '` + healthcode.AccessUnmasked + `' AND at > $2`,
	healthcode.AlertMassPersonRead: `SELECT count(DISTINCT person_id) FROM access_log
		WHERE actor = $1 AND at > $2`,
	healthcode.AlertMassDesignation: `SELECT count(DISTINCT COALESCE(person_id::text, 'area:' || area_code)) FROM colour_requests
		WHERE requested_by = $1 AND requested_at > $2 AND (person_id IS NOT NULL OR area_code IS NOT NULL)`,
}

// checkAlert counts a's distinct persons of kind within the window ending
// now and, above the threshold, raises or updates a's alert of kind in tx.
// detail describes the action that was counted last. Only staff actions are
// counted.
func (tx *Tx) checkAlert(ctx context.Context, a *healthcode.Actor, kind healthcode.AlertKind, detail map[string]any) error {
	if a == nil || a.Kind != healthcode.ActorStaff {
		return nil
	}
	limit := tx.db.alertLimit(kind)
	since := tx.Now.Add(-limit.Window)
	var n int
	if err := tx.QueryRow(ctx, alertCounts[kind], a.Subject(), since).Scan(&n); err != nil {
		return fmt.Errorf("count for alert %s: %w", kind, err)
	}
	if n <= limit.Count {
		return nil
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('alert:' || $1 || ':' || $2, 0))",
		string(kind), a.Subject()); err != nil {
		return fmt.Errorf("lock alert: %w", err)
	}
	body, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	var id int64
	err = tx.QueryRow(ctx, `UPDATE alerts SET count = GREATEST(count, $3), last_at = $4, detail = $5
		WHERE kind = $1 AND actor = $2 AND acknowledged_at IS NULL AND last_at > $6 RETURNING id`,
		string(kind), a.Subject(), n, tx.Now, body, since).Scan(&id)
	if err == nil {
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("update alert: %w", err)
	}
	al := healthcode.Alert{Kind: kind, Actor: a.Subject(), Window: limit.Window, Count: n, Threshold: limit.Count,
		FirstAt: tx.Now, LastAt: tx.Now, Detail: detail}
	if err := tx.QueryRow(ctx, `INSERT INTO alerts (kind, actor, region_code, region_path, window_seconds, count,
			threshold, first_at, last_at, detail)
		SELECT $1, $2, r.code, r.path, $4, $5, $6, $7, $7, $8 FROM regions r
		WHERE r.code = COALESCE((SELECT region_code FROM staff WHERE id = $9), NULLIF($3, ''), '61')
		RETURNING id, region_code`,
		string(kind), a.Subject(), a.RegionCode, int(limit.Window/time.Second), n, limit.Count, tx.Now, body, a.ID).
		Scan(&al.ID, &al.RegionCode); err != nil {
		return fmt.Errorf("insert alert: %w", err)
	}
	tx.raised = append(tx.raised, al)
	return nil
}

// alertRaised logs a committed new alert at WARN and tells DB.AlertRaised
// (the alerts_total metric).
func (db *DB) alertRaised(al healthcode.Alert) {
	log := db.Logger
	if log != nil {
		log.Warn("abuse alert", "alert", al.ID, "kind", string(al.Kind), "actor", al.Actor, "region", al.RegionCode,
			"count", al.Count, "threshold", al.Threshold, "window", al.Window.String())
	}
	if db.AlertRaised != nil {
		db.AlertRaised(al.Kind)
	}
}

// AlertService implements healthcode.AlertService.
type AlertService struct {
	DB *DB
}

const alertColumns = `id, kind, actor, region_code, window_seconds, count, threshold, first_at, last_at, detail::text,
	COALESCE(acknowledged_by, ''), acknowledged_at, acknowledge_note`

func scanAlert(row pgx.Row) (*healthcode.Alert, error) {
	var al healthcode.Alert
	var kind, detail string
	var secs int
	if err := row.Scan(&al.ID, &kind, &al.Actor, &al.RegionCode, &secs, &al.Count, &al.Threshold, &al.FirstAt,
		&al.LastAt, &detail, &al.AcknowledgedBy, &al.AcknowledgedAt, &al.Note); err != nil {
		return nil, err
	}
	al.Kind, al.Window = healthcode.AlertKind(kind), time.Duration(secs)*time.Second
	if err := json.Unmarshal([]byte(detail), &al.Detail); err != nil {
		return nil, fmt.Errorf("decode alert detail %d: %w", al.ID, err)
	}
	return &al, nil
}

// ListAlerts implements healthcode.AlertService.
func (s *AlertService) ListAlerts(ctx context.Context, f healthcode.AlertFilter) ([]*healthcode.Alert, bool, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, false, err
	}
	if f.Kind != "" && !validAlertKind(f.Kind) {
		return nil, false, healthcode.FieldError("告警类型", "未知的告警类型")
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermAuditRead, "")
	if err != nil {
		return nil, false, err
	}
	if f.First <= 0 {
		f.First = 100
	}
	after := f.After
	if after <= 0 {
		after = 1<<63 - 1
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE in_regions(region_path, $1) AND id < $2 AND ($3 = '' OR kind = $3)
			AND ($4::boolean IS NULL OR (acknowledged_at IS NOT NULL) = $4)
		ORDER BY id DESC LIMIT $5`, ltreePaths(visible), after, string(f.Kind), f.Acknowledged, f.First+1)
	if err != nil {
		return nil, false, fmt.Errorf("list alerts: %w", err)
	}
	return collectPage(rows, f.First, "alerts", func(r pgx.CollectableRow) (*healthcode.Alert, error) { return scanAlert(r) })
}

func validAlertKind(k healthcode.AlertKind) bool {
	for _, v := range healthcode.AlertKinds {
		if v == k {
			return true
		}
	}
	return false
}

// AcknowledgeAlert implements healthcode.AlertService.
func (s *AlertService) AcknowledgeAlert(ctx context.Context, id int64, note string) (*healthcode.Alert, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if note, err = healthcode.ValidText("处理说明", note, 1, 500); err != nil {
		return nil, err
	}
	var al *healthcode.Alert
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var err error
		al, err = scanAlert(tx.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return mapError(err, "告警不存在")
		}
		if err := s.DB.authorize(ctx, a, healthcode.PermAuditRead, al.RegionCode, hidden("告警不存在")); err != nil {
			return err
		}
		if al.AcknowledgedAt != nil {
			return healthcode.Errorf(healthcode.ECONFLICT, "该告警已处理")
		}
		if _, err := tx.Exec(ctx, `UPDATE alerts SET acknowledged_by = $2, acknowledged_at = $3, acknowledge_note = $4
			WHERE id = $1`, id, a.Subject(), tx.Now, note); err != nil {
			return fmt.Errorf("acknowledge alert: %w", err)
		}
		at := tx.Now
		al.AcknowledgedBy, al.AcknowledgedAt, al.Note = a.Subject(), &at, note
		return tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermAuditRead, al.RegionCode),
			RegionCode: al.RegionCode, Action: "alert.acknowledge", Object: "alert:" + strconv.FormatInt(id, 10),
			Reason: note, Detail: map[string]any{"kind": string(al.Kind), "actor": al.Actor, "count": al.Count}})
	})
	if err != nil {
		return nil, err
	}
	return al, nil
}
