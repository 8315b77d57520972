package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// Evidence implements healthcode.TicketService: the files of a code appeal
// the calling staff member may read, each read audited.
func (s *TicketService) Evidence(ctx context.Context, ticketID int64) ([]*healthcode.TicketEvidence, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorStaff {
		return nil, healthcode.ErrForbidden
	}
	var out []*healthcode.TicketEvidence
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		t, err := s.readable(ctx, tx, a, ticketID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, content_type, size, sha256, data, created_at FROM ticket_evidence
			WHERE ticket_id = $1 ORDER BY id`, ticketID)
		if err != nil {
			return fmt.Errorf("read evidence: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.TicketEvidence, error) {
			var e healthcode.TicketEvidence
			return &e, r.Scan(&e.ID, &e.ContentType, &e.Size, &e.SHA256, &e.Data, &e.CreatedAt)
		})
		if err != nil {
			return fmt.Errorf("read evidence: %w", err)
		}
		if len(out) == 0 {
			out = []*healthcode.TicketEvidence{}
			return nil
		}
		ids := make([]int64, len(out))
		for i, e := range out {
			ids[i] = e.ID
		}
		return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: t.RegionCode, Action: "ticket.evidence_read",
			Object: "ticket:" + strconv.FormatInt(ticketID, 10), Detail: map[string]any{"evidence": ids}})
	})
	return out, err
}

// UnitStats implements healthcode.TicketService. The figures are those of
// docs/hotline.md, "Unit dashboard": open and overdue tickets now held by the
// unit; its returns in [from, to); the tickets whose sign clock for it
// started in the period and those signed by the deadline; its answers in the
// period and those given by the reply deadline; and the callbacks in the
// period of tickets it answered, weighted as HOTLINE_SATISFACTION.
func (s *TicketService) UnitStats(ctx context.Context, unitID int64, from, to time.Time) ([]*healthcode.UnitStats, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if to.IsZero() {
		now := s.DB.now().In(healthcode.CST)
		to = time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, healthcode.CST)
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) || to.Sub(from) > 367*24*time.Hour {
		return nil, healthcode.Errorf(healthcode.EINVALID, "统计期间应在 1 至 366 天之间")
	}
	visible, err := s.visible(ctx, a, healthcode.PermTicketHandle, healthcode.PermTicketDispatch, healthcode.PermTicketSupervise)
	if err != nil {
		return nil, err
	}
	if len(visible) == 0 {
		return nil, healthcode.ErrForbidden
	}
	rows, err := s.DB.Pool.Query(ctx, `
		WITH u AS (
			SELECT id, region_code, name FROM handling_units
			WHERE in_regions(region_path, $1) AND ($2::bigint = 0 OR id = $2)),
		open AS (
			SELECT t.unit_id, count(*) AS open, count(*) FILTER (WHERE t.due_at <= $5) AS overdue
			FROM tickets t JOIN u ON u.id = t.unit_id
			WHERE t.state NOT IN ('ACCEPTED', 'CLOSED', 'MERGED') GROUP BY t.unit_id),
		sign AS (
			SELECT t.unit_id, count(*) AS dispatched,
				count(*) FILTER (WHERE t.signed_at >= t.sign_started_at AND t.signed_at <= t.sign_due) AS on_time
			FROM tickets t JOIN u ON u.id = t.unit_id
			WHERE t.sign_started_at >= $3 AND t.sign_started_at < $4 AND t.state <> 'MERGED' GROUP BY t.unit_id),
		steps AS (
			SELECT s.unit_id, s.action, s.to_state,
				s.action IN ('REPLY', 'RESOLVE_APPEAL', 'REJECT_APPEAL') AND (t.reply_due IS NULL OR s.created_at <= t.reply_due) AS reply_on_time,
				CASE WHEN s.action <> 'CALLBACK' OR s.to_state <> 'CLOSED' THEN 0
					WHEN EXISTS (SELECT 1 FROM ticket_steps l WHERE l.ticket_id = s.ticket_id
						AND l.action = 'CALLBACK' AND l.id > s.id) THEN 0.8
					WHEN t.satisfaction = 'SATISFIED' THEN 1
					WHEN t.satisfaction = 'BASICALLY_SATISFIED' THEN 0.8
					ELSE 0 END AS weight
			FROM ticket_steps s JOIN u ON u.id = s.unit_id JOIN tickets t ON t.id = s.ticket_id
			WHERE s.created_at >= $3 AND s.created_at < $4),
		g AS (
			SELECT unit_id,
				count(*) FILTER (WHERE action = 'RETURN') AS returned,
				count(*) FILTER (WHERE action IN ('REPLY', 'RESOLVE_APPEAL', 'REJECT_APPEAL')) AS replied,
				count(*) FILTER (WHERE reply_on_time) AS replied_on_time,
				count(*) FILTER (WHERE action = 'CALLBACK') AS callbacks,
				COALESCE(sum(weight), 0) AS satisfied
			FROM steps GROUP BY unit_id)
		SELECT u.id, u.region_code, u.name, COALESCE(o.open, 0), COALESCE(o.overdue, 0), COALESCE(g.returned, 0),
			COALESCE(sg.dispatched, 0), COALESCE(sg.on_time, 0), COALESCE(g.replied, 0), COALESCE(g.replied_on_time, 0),
			COALESCE(g.callbacks, 0), COALESCE(g.satisfied, 0)::float8
		FROM u LEFT JOIN open o ON o.unit_id = u.id LEFT JOIN sign sg ON sg.unit_id = u.id LEFT JOIN g ON g.unit_id = u.id
		ORDER BY u.region_code, u.id LIMIT 500`, ltreePaths(visible), unitID, from, to, s.DB.now())
	if err != nil {
		return nil, fmt.Errorf("unit stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.UnitStats, error) {
		st := healthcode.UnitStats{Unit: &healthcode.HandlingUnit{}}
		var satisfied float64
		err := r.Scan(&st.Unit.ID, &st.Unit.RegionCode, &st.Unit.Name, &st.Open, &st.Overdue, &st.Returned,
			&st.Dispatched, &st.SignedOnTime, &st.Replied, &st.RepliedOnTime, &st.Callbacks, &satisfied)
		st.SignOnTimeRate = percent(float64(st.SignedOnTime), st.Dispatched)
		st.ReplyOnTimeRate = percent(float64(st.RepliedOnTime), st.Replied)
		st.SatisfactionRate = percent(satisfied, st.Callbacks)
		return &st, err
	})
	if err != nil {
		return nil, fmt.Errorf("unit stats: %w", err)
	}
	if unitID != 0 && len(out) == 0 {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "承办单位不存在")
	}
	if out == nil {
		out = []*healthcode.UnitStats{}
	}
	return out, nil
}

// percent is num ÷ den × 100 rounded to one decimal, nil when den is 0.
func percent(num float64, den int) *float64 {
	if den == 0 {
		return nil
	}
	v := float64(int(num/float64(den)*1000+0.5)) / 10
	return &v
}
