package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/hotline"
)

// RateTicket implements healthcode.TicketService.
func (s *TicketService) RateTicket(ctx context.Context, id int64, satisfaction, comment string) (*healthcode.Ticket, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorResident {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "工单不存在")
	}
	sat := hotline.Satisfaction(satisfaction)
	if err := (hotline.Rating{Satisfaction: sat, Comment: comment}).Validate(); err != nil {
		return nil, err
	}
	var out *healthcode.Ticket
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		t, err := s.loadTicket(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if _, ok := s.rolesFor(ctx, tx, a, t); !ok {
			return healthcode.Errorf(healthcode.ENOTFOUND, "工单不存在")
		}
		if t.State != string(hotline.Replied) && t.State != string(hotline.Closed) {
			return healthcode.Errorf(healthcode.ECONFLICT, "工单尚未答复，答复后方可评价")
		}
		tag, err := tx.Exec(ctx, `INSERT INTO ticket_ratings (ticket_id, round, satisfaction, comment, account_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, id, t.ReopenCount, string(sat), comment, a.ID, tx.Now)
		if err != nil {
			return fmt.Errorf("insert rating of ticket %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return healthcode.Errorf(healthcode.ECONFLICT, "您已评价过本次答复")
		}
		if err := tx.Audit(ctx, healthcode.AuditRecord{RegionCode: t.RegionCode, Action: "ticket.rate",
			Object: "ticket:" + strconv.FormatInt(id, 10), Detail: map[string]any{"satisfaction": string(sat), "round": t.ReopenCount}}); err != nil {
			return err
		}
		s.notifyQueue(ctx, tx, t)
		out = t
		return nil
	})
	return out, err
}

// Ratings implements healthcode.TicketService: one statement for any
// number of tickets.
func (s *TicketService) Ratings(ctx context.Context, ids []int64) ([]*healthcode.TicketRating, []error) {
	out := make([]*healthcode.TicketRating, len(ids))
	errs := make([]error, len(ids))
	rows, err := s.DB.Pool.Query(ctx, `SELECT r.ticket_id, r.satisfaction, r.comment, r.created_at FROM ticket_ratings r
		JOIN tickets t ON t.id = r.ticket_id AND r.round = t.reopen_count WHERE r.ticket_id = ANY($1)`, ids)
	if err == nil {
		byID := make(map[int64]*healthcode.TicketRating)
		var id int64
		var r healthcode.TicketRating
		_, err = pgx.ForEachRow(rows, []any{&id, &r.Satisfaction, &r.Comment, &r.At}, func() error {
			rating := r
			byID[id] = &rating
			return nil
		})
		for i, id := range ids {
			out[i] = byID[id]
		}
	}
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("read ratings of tickets: %w", err)
		}
	}
	return out, errs
}
