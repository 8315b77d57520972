package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"healthcode"
	"healthcode/hotline"
)

// FindTicket implements healthcode.TicketService.
func (s *TicketService) FindTicket(ctx context.Context, id int64) (*healthcode.Ticket, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	var out *healthcode.Ticket
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		t, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := s.complete(ctx, tx, a, t); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// readable loads ticket id if the caller may see it. Errors: NOT_FOUND.
func (s *TicketService) readable(ctx context.Context, tx *Tx, a *healthcode.Actor, id int64) (*healthcode.Ticket, error) {
	t, err := s.loadTicket(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	if _, ok := s.rolesFor(ctx, tx, a, t); !ok {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "工单不存在")
	}
	return t, nil
}

// complete adds to a ticket what its reader sees besides its row: the likely
// duplicates (staff, open tickets) and the history as a's kind may see it.
// Every method that returns one ticket completes it in the transaction that
// read or changed it, so that the answer to an action stays whole when the
// action takes the ticket out of the caller's view (a return): the caller
// was entitled to it when the transaction began.
func (s *TicketService) complete(ctx context.Context, tx *Tx, a *healthcode.Actor, t *healthcode.Ticket) error {
	if a.Kind == healthcode.ActorStaff && t.PersonID != 0 && hotline.State(t.State).Open() {
		rows, err := tx.Query(ctx, `SELECT id FROM tickets WHERE person_id = $1 AND kind = $2 AND id <> $3
			AND created_at > $4 AND state NOT IN ('CLOSED', 'MERGED') ORDER BY id`, t.PersonID, t.Kind, t.ID, t.CreatedAt.Add(-duplicateWindow))
		if err != nil {
			return fmt.Errorf("find duplicates: %w", err)
		}
		if t.Duplicates, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("find duplicates: %w", err)
		}
	}
	var err error
	if t.Steps, err = s.steps(ctx, tx, a, t.ID); err != nil {
		return err
	}
	t.AllowedActions = s.allowedActions(ctx, tx, a, t)
	return nil
}

// allowedActions lists the actions a may take on t now, in the machine's
// order (hotline.Actions): the union over the lifecycle roles a holds on t.
// Only staff take actions; others get an empty list.
func (s *TicketService) allowedActions(ctx context.Context, tx *Tx, a *healthcode.Actor, t *healthcode.Ticket) []string {
	out := []string{}
	if a.Kind != healthcode.ActorStaff {
		return out
	}
	roles, _ := s.rolesFor(ctx, tx, a, t)
	mt := hotline.Ticket{ID: t.ID, Kind: hotline.Kind(t.Kind), State: hotline.State(t.State), ExtensionPending: t.ExtensionPending,
		Supervised: t.Supervised, ReopenCount: t.ReopenCount, MergedInto: t.MergedInto}
	if t.Unit != nil {
		mt.Unit = strconv.FormatInt(t.Unit.ID, 10)
	}
	allowed := map[hotline.Action]bool{}
	for _, r := range roles {
		for _, act := range hotline.AllowedActions(mt, r) {
			allowed[act] = true
		}
	}
	for _, act := range hotline.Actions {
		if allowed[act] {
			out = append(out, string(act))
		}
	}
	return out
}

// AllowedActions implements healthcode.TicketService.
func (s *TicketService) AllowedActions(ctx context.Context, t *healthcode.Ticket) ([]string, error) {
	if t.AllowedActions != nil {
		return t.AllowedActions, nil
	}
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	// A staff member's roles on a ticket come from their grants alone, so
	// a page of tickets costs no statement per row.
	return s.allowedActions(ctx, nil, a, t), nil
}

// steps returns the history of ticket id as a's kind may see it: residents
// see the public steps without reasons or actors.
func (s *TicketService) steps(ctx context.Context, tx *Tx, a *healthcode.Actor, id int64) ([]*healthcode.TicketStep, error) {
	of, err := s.stepsOf(ctx, tx, a, []int64{id})
	return of[id], err
}

// stepsOf returns the histories of tickets ids in one statement, by ticket
// (an empty list for a ticket without steps), each step with the unit that
// held the ticket then (not shown to residents).
func (s *TicketService) stepsOf(ctx context.Context, tx *Tx, a *healthcode.Actor, ids []int64) (map[int64][]*healthcode.TicketStep, error) {
	q := `SELECT s.ticket_id, s.id, s.action, s.from_state, s.to_state, s.role, s.actor, s.actor_name, s.text, s.reason, s.visibility, s.created_at,
		COALESCE(u.id, 0), COALESCE(u.region_code, ''), COALESCE(u.name, '')
		FROM ticket_steps s LEFT JOIN handling_units u ON u.id = s.unit_id WHERE s.ticket_id = ANY($1)`
	if a.Kind == healthcode.ActorResident {
		q += " AND s.visibility = 'PUBLIC'" // internal notes are never shown to the resident
	}
	rows, err := tx.Query(ctx, q+" ORDER BY s.id", ids)
	if err != nil {
		return nil, fmt.Errorf("list ticket steps: %w", err)
	}
	of := make(map[int64][]*healthcode.TicketStep, len(ids))
	for _, id := range ids {
		of[id] = []*healthcode.TicketStep{}
	}
	var ticket int64
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var st healthcode.TicketStep
		var u healthcode.HandlingUnit
		if err := r.Scan(&ticket, &st.ID, &st.Action, &st.From, &st.To, &st.Role, &st.Actor, &st.ActorName, &st.Text,
			&st.Reason, &st.Visibility, &st.At, &u.ID, &u.RegionCode, &u.Name); err != nil {
			return struct{}{}, err
		}
		if u.ID != 0 && a.Kind != healthcode.ActorResident {
			st.Unit = &u
		}
		if a.Kind == healthcode.ActorResident {
			st.Reason, st.Actor, st.ActorName = "", "", ""
		}
		of[ticket] = append(of[ticket], &st)
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list ticket steps: %w", err)
	}
	return of, nil
}

// Steps implements healthcode.TicketService.
func (s *TicketService) Steps(ctx context.Context, id int64) ([]*healthcode.TicketStep, error) {
	steps, errs := s.StepsOfTickets(ctx, []int64{id})
	return steps[0], errs[0]
}

// StepsOfTickets implements healthcode.TicketService: one transaction of at
// most three statements for any number of tickets.
func (s *TicketService) StepsOfTickets(ctx context.Context, ids []int64) ([][]*healthcode.TicketStep, []error) {
	out, errs, fail := batch[[]*healthcode.TicketStep](len(ids))
	a, err := actor(ctx)
	if err != nil {
		return fail(err)
	}
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+ticketColumns+ticketFrom+" WHERE t.id = ANY($1)", ids)
		if err != nil {
			return fmt.Errorf("read tickets: %w", err)
		}
		tickets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Ticket, error) { return scanTicket(r, tx.Now) })
		if err != nil {
			return fmt.Errorf("read tickets: %w", err)
		}
		byID := make(map[int64]*healthcode.Ticket, len(tickets))
		var persons []int64
		for _, t := range tickets {
			byID[t.ID] = t
			persons = append(persons, t.PersonID)
		}
		own := map[int64]bool{}
		if a.Kind == healthcode.ActorResident {
			rows, err := tx.Query(ctx, "SELECT person_id FROM account_persons WHERE account_id = $1 AND person_id = ANY($2)", a.ID, persons)
			if err != nil {
				return fmt.Errorf("read own persons: %w", err)
			}
			pids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return fmt.Errorf("read own persons: %w", err)
			}
			for _, pid := range pids {
				own[pid] = true
			}
		}
		var readable []int64
		for i, id := range ids {
			t := byID[id]
			if t == nil {
				errs[i] = healthcode.Errorf(healthcode.ENOTFOUND, "工单不存在")
			} else if _, ok := s.rolesWith(ctx, a, t, func(pid int64) bool { return own[pid] }); !ok {
				errs[i] = healthcode.Errorf(healthcode.ENOTFOUND, "工单不存在")
			} else {
				readable = append(readable, id)
			}
		}
		if len(readable) == 0 {
			return nil
		}
		of, err := s.stepsOf(ctx, tx, a, readable)
		for i, id := range ids {
			if errs[i] == nil {
				out[i] = of[id]
			}
		}
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, errs
}

// queueCursor is the keyset of a queue: by the next deadline (tickets
// without one last), then by id. Overdue tickets come first because their
// deadlines are the earliest: the order does not depend on the time of the
// read, so pages stay consistent while time passes.
type queueCursor struct {
	due pgtype.Timestamptz // infinity for tickets without a deadline
	id  int64
	// appeals: a cursor of the appeals-first order, in which other is true
	// for a ticket that is not a code appeal.
	appeals, other bool
}

func decodeQueueCursor(s string) (*queueCursor, error) {
	if s == "" {
		return nil, nil
	}
	k, err := healthcode.ParseTicketCursor(s)
	if err != nil {
		return nil, err
	}
	c := &queueCursor{id: k.ID, due: pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true},
		appeals: k.AppealsFirst, other: k.Other}
	if k.Due != nil {
		c.due = pgtype.Timestamptz{Time: *k.Due, Valid: true}
	}
	return c, nil
}

// ListTickets implements healthcode.TicketService.
func (s *TicketService) ListTickets(ctx context.Context, f healthcode.TicketFilter) ([]*healthcode.Ticket, bool, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, false, err
	}
	all, err := s.visible(ctx, a, healthcode.PermTicketDispatch, healthcode.PermTicketSupervise)
	if err != nil {
		return nil, false, err
	}
	handled, err := s.visible(ctx, a, healthcode.PermTicketHandle)
	if err != nil {
		return nil, false, err
	}
	if len(all) == 0 && len(handled) == 0 {
		return nil, false, healthcode.ErrForbidden
	}
	cur, err := decodeQueueCursor(f.After)
	if err != nil {
		return nil, false, err
	}
	where := []string{`(in_regions(t.region_path, $1) OR (in_regions(t.region_path, $2) AND t.unit_id IS NOT NULL AND t.state <> 'ACCEPTED'))`}
	args := []any{ltreePaths(all), ltreePaths(handled)}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.UnitID != 0 {
		add("t.unit_id = ?", f.UnitID)
	}
	if f.State != "" {
		if !hotline.State(f.State).Valid() {
			return nil, false, healthcode.Errorf(healthcode.EINVALID, "未知的工单状态")
		}
		add("t.state = ?", f.State)
	} else {
		where = append(where, "t.state NOT IN ('CLOSED', 'MERGED')")
	}
	if f.Kind != "" {
		add("t.kind = ?", f.Kind)
	}
	if f.Urgency != "" {
		if !hotline.Urgency(f.Urgency).Valid() {
			return nil, false, healthcode.Errorf(healthcode.EINVALID, "紧急程度应为 NORMAL 或 URGENT")
		}
		add("t.urgency = ?", f.Urgency)
	}
	if f.Region != "" {
		if err := healthcode.ValidRegionCode(f.Region); err != nil {
			return nil, false, err
		}
		add("t.region_path <@ ?::text::ltree", ltreePath(f.Region))
	}
	if f.PersonID != 0 {
		add("t.person_id = ?", f.PersonID)
	}
	now := s.DB.now()
	if f.Overdue {
		add("t.due_at <= ?", now)
	}
	if f.DueSoon {
		add("t.warn_at <= ? AND t.due_at > ?", now)
	}
	if f.UpdatedSince != nil {
		add("t.updated_at >= ?", *f.UpdatedSince)
	}
	// The order matches tickets_queue_idx, so a unit's first page is an
	// index range scan whatever the queue's length. Appeals first (the
	// operators' queue) puts the code appeals before the rest, each part by
	// deadline; the cursor then carries the part.
	order := "COALESCE(t.due_at, 'infinity'::timestamptz), t.id"
	key := order
	if f.AppealsFirst {
		key = "(t.kind <> 'CODE_APPEAL'), " + order
		order = key
	}
	if cur != nil {
		if cur.appeals != f.AppealsFirst {
			return nil, false, healthcode.Errorf(healthcode.EINVALID, "分页游标无效")
		}
		args = append(args, cur.due, cur.id)
		n := len(args)
		if f.AppealsFirst {
			args = append(args, cur.other)
			where = append(where, fmt.Sprintf("((t.kind <> 'CODE_APPEAL'), COALESCE(t.due_at, 'infinity'::timestamptz), t.id) > ($%d, $%d, $%d)", n+1, n-1, n))
		} else {
			where = append(where, fmt.Sprintf("(COALESCE(t.due_at, 'infinity'::timestamptz), t.id) > ($%d, $%d)", n-1, n))
		}
	}
	args = append(args, f.First+1)
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+ticketColumns+ticketFrom+" WHERE "+strings.Join(where, " AND ")+
		" ORDER BY "+order+" LIMIT $"+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, false, fmt.Errorf("list tickets: %w", err)
	}
	list, more, err := collectPage(rows, f.First, "tickets", func(r pgx.CollectableRow) (*healthcode.Ticket, error) { return scanTicket(r, now) })
	if err != nil {
		return nil, false, err
	}
	for _, t := range list {
		s.setDueUnit(t)
	}
	return list, more, nil
}

func (s *TicketService) visible(ctx context.Context, a *healthcode.Actor, perms ...healthcode.Permission) ([]string, error) {
	var out []string
	for _, p := range perms {
		v, err := s.DB.visible(ctx, a, p)
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	return out, nil
}

// MyAppeals implements healthcode.TicketService.
func (s *TicketService) MyAppeals(ctx context.Context) ([]*healthcode.Ticket, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorResident {
		return []*healthcode.Ticket{}, nil
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+ticketColumns+ticketFrom+`
		JOIN account_persons ap ON ap.person_id = t.person_id WHERE ap.account_id = $1 ORDER BY t.id DESC LIMIT 100`, a.ID)
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", err)
	}
	now := s.DB.now()
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Ticket, error) {
		t, err := scanTicket(r, now)
		if err == nil {
			s.setDueUnit(t)
		}
		return t, err
	})
}

// AppealView implements healthcode.TicketService.
func (s *TicketService) AppealView(ctx context.Context, id int64) (*healthcode.AppealView, error) {
	if _, err := staffOnly(ctx); err != nil {
		return nil, err
	}
	t, err := s.FindTicket(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Kind != string(hotline.CodeAppeal) || t.PersonID == 0 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "该工单不是赋码申诉")
	}
	v := &healthcode.AppealView{Ticket: t}
	if err := s.DB.logAccess(ctx, s.DB.Pool, []int64{t.PersonID}, healthcode.AccessAppeal, healthcode.PermPersonRead,
		t.PlaceCode, "申诉工单 "+strconv.FormatInt(id, 10)); err != nil {
		return nil, err
	}
	if v.Code, err = s.DB.currentCode(ctx, t.PersonID); err != nil {
		return nil, err
	}
	if v.Facts, err = s.DB.personFacts(ctx, t.PersonID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, person_id, COALESCE(from_colour, ''), to_colour, clause_ids, rule_set_version,
		cause, actor, at FROM code_history WHERE person_id = $1 ORDER BY id`, t.PersonID)
	if err != nil {
		return nil, fmt.Errorf("code history: %w", err)
	}
	v.History, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.CodeChange, error) {
		var c healthcode.CodeChange
		var from, to string
		err := r.Scan(&c.ID, &c.PersonID, &from, &to, &c.ClauseIDs, &c.RuleSetVersion, &c.Cause, &c.Actor, &c.At)
		c.From, c.To = healthcode.Colour(from), healthcode.Colour(to)
		return &c, err
	})
	return v, err
}

// HandlingUnits implements healthcode.TicketService.
func (s *TicketService) HandlingUnits(ctx context.Context, region string) ([]*healthcode.HandlingUnit, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.DB.visible(ctx, a, healthcode.PermRegionRead)
	if err != nil {
		return nil, err
	}
	if region != "" {
		if err := healthcode.ValidRegionCode(region); err != nil {
			return nil, err
		}
		if err := s.DB.authorize(ctx, a, healthcode.PermRegionRead, region); err != nil {
			return nil, err
		}
		visible = []string{region}
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, region_code, name FROM handling_units
		WHERE in_regions(region_path, $1) ORDER BY region_code, id LIMIT 500`, ltreePaths(visible))
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.HandlingUnit, error) {
		var u healthcode.HandlingUnit
		return &u, r.Scan(&u.ID, &u.RegionCode, &u.Name)
	})
}

// CreateHandlingUnit implements healthcode.TicketService.
func (s *TicketService) CreateHandlingUnit(ctx context.Context, region, name string) (*healthcode.HandlingUnit, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	lv, ok := healthcode.LevelOfCode(region)
	if !ok || (lv != healthcode.LevelCounty && lv != healthcode.LevelStreet) {
		return nil, healthcode.FieldError("所属地区", "承办单位设在县（区）或街道（乡镇）")
	}
	if name, err = healthcode.ValidText("单位名称", name, 1, 100); err != nil {
		return nil, err
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermStaffCreate, region); err != nil {
		return nil, err
	}
	u := &healthcode.HandlingUnit{RegionCode: region, Name: name}
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO handling_units (region_code, region_path, name, created_by, created_at)
			SELECT code, path, $2, $3, $4 FROM regions WHERE code = $1 RETURNING id`, region, name, a.Subject(), tx.Now).Scan(&u.ID)
		if err != nil {
			if healthcode.ErrorCode(mapError(err, "")) == healthcode.ECONFLICT {
				return healthcode.Errorf(healthcode.ECONFLICT, "该地区已有同名承办单位")
			}
			return mapError(err, "地区不存在")
		}
		return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: region, Action: "unit.create",
			Object: "unit:" + strconv.FormatInt(u.ID, 10), Detail: map[string]any{"name": name}})
	})
	return u, err
}

// UnmaskPerson implements healthcode.TicketService.
func (s *TicketService) UnmaskPerson(ctx context.Context, ticketID int64, reason string) (string, string, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return "", "", err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return "", "", healthcode.FieldError("查看原因", "查看完整号码须填写原因（不超过 200 字）")
	}
	var phone, doc string
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		t, err := s.loadTicket(ctx, tx, ticketID, false)
		if err != nil {
			return err
		}
		roles, ok := s.rolesFor(ctx, tx, a, t)
		if !ok {
			return healthcode.Errorf(healthcode.ENOTFOUND, "工单不存在")
		}
		operator, handler := false, false
		for _, r := range roles {
			operator = operator || r == hotline.Operator
			handler = handler || r == hotline.Handler
		}
		if !(operator || handler) || !hotline.State(t.State).Open() || t.PersonID == 0 {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "只有办理该人员未办结工单的话务员或承办人员可以查看完整号码")
		}
		// Whoever opens a ticket names its person: the "open ticket" alone
		// proves nothing. A handler unmasks for a ticket dispatched to its
		// unit; anyone else only when the ticket came from the person — a
		// call from the person's own phone, or an appeal the person's
		// account filed.
		if !handler {
			var fromPerson bool
			if err := tx.QueryRow(ctx, `SELECT (t.caller_phone_hash IS NOT NULL AND t.caller_phone_hash = p.phone_hash)
				OR (t.kind = 'CODE_APPEAL' AND t.created_by LIKE 'resident:%')
				FROM tickets t JOIN persons p ON p.id = t.person_id WHERE t.id = $1`, ticketID).Scan(&fromPerson); err != nil {
				return mapError(err, "工单不存在")
			}
			if !fromPerson {
				return healthcode.Errorf(healthcode.EFORBIDDEN, "只有本人来电或本人申诉的工单、或已派至本单位的工单，才能查看完整号码")
			}
		}
		if err := s.DB.authorize(ctx, a, healthcode.PermPersonUnmask, countyOf(t.PlaceCode)); err != nil {
			if t.Unit == nil || !s.DB.may(ctx, a, healthcode.PermPersonUnmask, t.Unit.RegionCode) {
				return err
			}
		}
		var phoneEnc, docEnc []byte
		var region string
		if err := tx.QueryRow(ctx, "SELECT phone_enc, doc_enc, residence_code FROM persons WHERE id = $1", t.PersonID).Scan(&phoneEnc, &docEnc, &region); err != nil {
			return mapError(err, "人员不存在")
		}
		if err := s.DB.decryptAll(map[*string][]byte{&phone: phoneEnc, &doc: docEnc}); err != nil {
			return err
		}
		if err := s.DB.logAccess(ctx, tx, []int64{t.PersonID}, healthcode.AccessUnmasked, healthcode.PermPersonUnmask,
			region, "工单 "+strconv.FormatInt(ticketID, 10)+"："+reason); err != nil {
			return err
		}
		if err := tx.checkAlert(ctx, a, healthcode.AlertMassUnmask, map[string]any{
			"last": "person:" + strconv.FormatInt(t.PersonID, 10), "ticket": ticketID}); err != nil {
			return err
		}
		return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: region, Action: "person.unmask",
			Object: "person:" + strconv.FormatInt(t.PersonID, 10), Reason: "ticket:" + strconv.FormatInt(ticketID, 10) + " " + reason})
	})
	return phone, doc, err
}

// FindPersons implements healthcode.TicketService.
func (s *TicketService) FindPersons(ctx context.Context, phone, docType, docNumber string) ([]*healthcode.Person, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermPersonRead, "")
	if err != nil {
		return nil, err
	}
	var cond string
	var key []byte
	switch {
	case phone != "":
		if !healthcode.ValidPhone(phone) {
			return nil, healthcode.FieldError("手机号码", "应为 11 位手机号码")
		}
		cond, key = "p.phone_hash = $2", s.DB.PII.Hash("phone", phone)
	case docNumber != "":
		if docType == "" {
			docType = string(healthcode.DocIDCard)
		}
		n, err := healthcode.NormalizeDocument(healthcode.DocType(docType), docNumber, s.DB.now())
		if err != nil {
			return nil, err
		}
		cond, key = "p.doc_hash = $2", s.DB.PII.Hash("doc:"+docType, n)
	default:
		return nil, healthcode.Errorf(healthcode.EINVALID, "请输入手机号码或证件号码")
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+maskedPersonColumns+personJoins+`
		WHERE in_regions(p.residence_path, $1) AND `+cond+" ORDER BY p.id LIMIT 20", ltreePaths(visible), key)
	if err != nil {
		return nil, fmt.Errorf("find persons: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*healthcode.Person, error) { return s.DB.scanMaskedPerson(row) })
	if err != nil || len(found) == 0 {
		return found, err
	}
	ids := make([]int64, len(found))
	for i, p := range found {
		ids[i] = p.ID
	}
	return found, s.DB.logAccess(ctx, s.DB.Pool, ids, healthcode.AccessPerson, healthcode.PermPersonRead, found[0].ResidenceCode, "按号码查找人员")
}

// Knowledge implements healthcode.TicketService.
func (s *TicketService) Knowledge(ctx context.Context, query string) ([]*healthcode.KnowledgeAnswer, error) {
	if _, err := staffOnly(ctx); err != nil {
		return nil, err
	}
	query = strings.TrimSpace(query)
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, question, answer, tags FROM knowledge_answers
		WHERE $1 = '' OR question ILIKE '%' || $1 || '%' OR answer ILIKE '%' || $1 || '%' OR $1 = ANY(tags)
		ORDER BY id LIMIT 20`, healthcode.Truncate(query, 50))
	if err != nil {
		return nil, fmt.Errorf("search knowledge: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.KnowledgeAnswer, error) {
		var k healthcode.KnowledgeAnswer
		return &k, r.Scan(&k.ID, &k.Question, &k.Answer, &k.Tags)
	})
}

// ProcessDeadlines warns at 80 % of a deadline and supervises (督办)
// overdue tickets: the unit is warned, and the parent region of an overdue
// ticket's unit gets a notice while the scheduler records a SUPERVISE step.
// The deadlines of tickets waiting for dispatch (a code appeal's clocks run
// from its filing) or for the callback are the operators': their notices go
// to the dispatchers of the place's county, and they are not supervised.
// The worker runs it every minute; it is idempotent. It returns how many
// tickets it warned and marked overdue. Callers: the scheduler (it acts as
// the system). Errors: database failures.
func (s *TicketService) ProcessDeadlines(ctx context.Context) (warned, overdue int, err error) {
	ctx = healthcode.NewContextWithActor(ctx, healthcode.SystemActor)
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		// A deadline already missed is not warned of: it is marked overdue below.
		rows, err := tx.Query(ctx, `UPDATE tickets SET warned = true WHERE warn_at <= $1 AND due_at > $1 AND NOT warned AND NOT overdue
			AND state NOT IN ('CLOSED', 'MERGED') RETURNING id, region_code, place_code, state, subject`, tx.Now)
		if err != nil {
			return fmt.Errorf("warn tickets: %w", err)
		}
		type hit struct {
			id                            int64
			region, place, state, subject string
		}
		hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (hit, error) {
			var h hit
			err := row.Scan(&h.id, &h.region, &h.place, &h.state, &h.subject)
			return h, err
		})
		if err != nil {
			return fmt.Errorf("warn tickets: %w", err)
		}
		for _, h := range hits {
			region, audience := h.region, audienceUnit
			if dispatchersDeadline(h.state) {
				region, audience = countyOf(h.place), audienceDispatch
			}
			if err := s.notice(ctx, tx, h.id, region, "WARNING", audience, fmt.Sprintf("工单 #%d（%s）已用去 80%% 的办理时限，请尽快办理", h.id, h.subject), ""); err != nil {
				return err
			}
		}
		warned = len(hits)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id FROM tickets WHERE due_at <= $1 AND NOT overdue
		AND state NOT IN ('CLOSED', 'MERGED') ORDER BY due_at LIMIT 1000`, s.DB.now())
	if err != nil {
		return warned, 0, fmt.Errorf("find overdue tickets: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return warned, 0, err
	}
	for _, id := range ids {
		marked := false
		err := s.DB.InTx(ctx, func(tx *Tx) error {
			t, err := s.loadTicket(ctx, tx, id, true)
			if err != nil {
				return err
			}
			var already bool
			if err := tx.QueryRow(ctx, "SELECT overdue FROM tickets WHERE id = $1", id).Scan(&already); err != nil {
				return fmt.Errorf("read overdue flag: %w", err)
			}
			if already || !t.Overdue || !hotline.State(t.State).Open() {
				return nil // marked by another pass, or the deadline moved meanwhile
			}
			if _, err := tx.Exec(ctx, "UPDATE tickets SET overdue = true, updated_at = $2 WHERE id = $1", id, tx.Now); err != nil {
				return err
			}
			tx.MarkIndicatorDays(tx.Now) // overdue count
			text := fmt.Sprintf("工单 #%d（%s）已超过办理时限，请督办", id, t.Subject)
			region, audience := parentRegion(t.RegionCode), audienceUnit
			if t.Unit != nil {
				region = parentRegion(t.Unit.RegionCode)
			}
			if dispatchersDeadline(t.State) {
				region, audience = countyOf(t.PlaceCode), audienceDispatch
				text = fmt.Sprintf("工单 #%d（%s）已超过%s时限，请尽快处理", id, t.Subject, map[string]string{
					string(hotline.Accepted): "派单签收", string(hotline.Replied): "回访"}[t.State])
			}
			if region == "" {
				region = healthcode.ProvinceCode
			}
			if err := s.notice(ctx, tx, id, region, "OVERDUE", audience, text, "overdue:"+strconv.FormatInt(id, 10)+":"+t.UpdatedAt.Format(time.RFC3339Nano)); err != nil {
				return err
			}
			mt := hotline.Ticket{ID: t.ID, Kind: hotline.Kind(t.Kind), State: hotline.State(t.State), ExtensionPending: t.ExtensionPending,
				Supervised: t.Supervised, ReopenCount: t.ReopenCount}
			if step, err := hotline.Apply(mt, hotline.Supervise, hotline.System, hotline.Input{Text: text}); err == nil {
				if _, err := tx.Exec(ctx, "UPDATE tickets SET supervised = true WHERE id = $1", id); err != nil {
					return err
				}
				var unit int64
				if t.Unit != nil {
					unit = t.Unit.ID
				}
				if err := s.addStep(ctx, tx, id, string(step.Action), string(step.From), string(step.To), string(step.Role),
					healthcode.SystemActor, text, "", step.Visibility, unit); err != nil {
					return err
				}
			}
			s.notifyQueue(ctx, tx, t)
			marked = true
			return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: region, Action: "ticket.overdue", Object: "ticket:" + strconv.FormatInt(id, 10)})
		})
		if err != nil {
			return warned, overdue, err
		}
		if marked {
			overdue++
		}
	}
	return warned, overdue, nil
}

// dispatchersDeadline reports whether the running deadline of a ticket in
// state is the operators' own: dispatching (and the signing that follows)
// of a ticket waiting in ACCEPTED, or the callback of a REPLIED one.
func dispatchersDeadline(state string) bool {
	return state == string(hotline.Accepted) || state == string(hotline.Replied)
}

// Notices lists notices to regions inside the caller's ticket grants: the
// unit's notices (warnings, 督办, extensions, escalations, assignments) to
// its handlers and the administrators above, the dispatchers' notices
// (returns, the deadlines of tickets waiting for dispatch or callback) to
// the operators and administrators of the region. Errors: UNAUTHENTICATED,
// FORBIDDEN.
func (s *TicketService) Notices(ctx context.Context) ([]*healthcode.TicketNotice, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.visible(ctx, a, healthcode.PermTicketSupervise, healthcode.PermTicketHandle, healthcode.PermTicketDispatch)
	if err != nil {
		return nil, err
	}
	if len(visible) == 0 {
		return nil, healthcode.ErrForbidden
	}
	dispatch, err := s.visible(ctx, a, healthcode.PermTicketSupervise, healthcode.PermTicketDispatch)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, ticket_id, region_code, kind, audience, text, created_at FROM ticket_notices
		WHERE (audience = 'UNIT' AND in_regions(region_path, $1)) OR (audience = 'DISPATCH' AND in_regions(region_path, $2))
		ORDER BY id DESC LIMIT 200`, ltreePaths(visible), ltreePaths(dispatch))
	if err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.TicketNotice, error) {
		var n healthcode.TicketNotice
		return &n, r.Scan(&n.ID, &n.TicketID, &n.RegionCode, &n.Kind, &n.Audience, &n.Text, &n.CreatedAt)
	})
}
