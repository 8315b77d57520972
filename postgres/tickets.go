package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/hotline"
	"healthcode/pii"
	"healthcode/workcal"
)

// TicketService implements healthcode.TicketService on the lifecycle state
// machine of package hotline and the working-time calendar of workcal.
type TicketService struct {
	DB       *DB
	Calendar *workcal.Calendar
	Policy   workcal.Policy
}

var (
	_ healthcode.TicketService     = (*TicketService)(nil)
	_ healthcode.DeadlineProcessor = (*TicketService)(nil)
)

// duplicateWindow is how far back likely duplicates are looked for.
const duplicateWindow = 7 * 24 * time.Hour

const ticketColumns = `t.id, t.kind, t.channel, t.urgency, t.state, COALESCE(t.person_id, 0), t.caller_masked, t.subject,
	t.description, t.place_code, COALESCE(u.id, 0), COALESCE(u.region_code, ''), COALESCE(u.name, ''), t.region_code,
	t.created_by, t.created_at, t.updated_at, t.sign_due, t.reply_due, t.callback_due, t.due_at, t.warn_at,
	t.supervised, t.extension_pending, t.reopen_count, COALESCE(t.merged_into, 0), COALESCE(t.satisfaction, ''),
	COALESCE(t.disputed_fact_kind, ''), COALESCE(t.disputed_fact_id, 0)`

const ticketFrom = ` FROM tickets t LEFT JOIN handling_units u ON u.id = t.unit_id`

// scanTicket reads a row of ticketColumns; the ticket is overdue when its
// next deadline is not after now (the time of the read), whether or not the
// scheduler has passed since.
func scanTicket(row pgx.Row, now time.Time) (*healthcode.Ticket, error) {
	var t healthcode.Ticket
	var u healthcode.HandlingUnit
	err := row.Scan(&t.ID, &t.Kind, &t.Channel, &t.Urgency, &t.State, &t.PersonID, &t.CallerMasked, &t.Subject,
		&t.Description, &t.PlaceCode, &u.ID, &u.RegionCode, &u.Name, &t.RegionCode, &t.CreatedBy, &t.CreatedAt, &t.UpdatedAt,
		&t.SignDue, &t.ReplyDue, &t.CallbackDue, &t.DueAt, &t.WarnAt, &t.Supervised, &t.ExtensionPending,
		&t.ReopenCount, &t.MergedInto, &t.Satisfaction, &t.DisputedFactKind, &t.DisputedFactID)
	if u.ID != 0 {
		t.Unit = &u
	}
	t.Overdue = t.DueAt != nil && !now.Before(*t.DueAt)
	return &t, err
}

// countyOf returns the county (or the shorter code itself) that a place
// belongs to: the default jurisdiction of a ticket (属地).
func countyOf(code string) string {
	if len(code) > 6 {
		return code[:6]
	}
	return code
}

// parentRegion returns the region above code, "" for the province.
func parentRegion(code string) string {
	anc := healthcode.AncestorCodes(code)
	if len(anc) < 2 {
		return ""
	}
	return anc[1]
}

// rolesFor maps the caller's grants to the lifecycle roles they hold on a
// ticket: operators of its place, handlers of its unit, administrators above
// its unit, the provincial office, the system, or the resident it concerns.
func (s *TicketService) rolesFor(ctx context.Context, q *Tx, a *healthcode.Actor, t *healthcode.Ticket) ([]hotline.Role, bool) {
	var own func(int64) bool
	if a.Kind == healthcode.ActorResident && t.PersonID != 0 {
		own = func(pid int64) bool {
			var ok bool
			_ = q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM account_persons WHERE account_id = $1 AND person_id = $2)", a.ID, pid).Scan(&ok)
			return ok
		}
	}
	return s.rolesWith(ctx, a, t, own)
}

// rolesWith is rolesFor with the resident's persons given by own (a
// resident holds the ticket of their own or a dependent's person).
func (s *TicketService) rolesWith(ctx context.Context, a *healthcode.Actor, t *healthcode.Ticket, own func(int64) bool) ([]hotline.Role, bool) {
	switch a.Kind {
	case healthcode.ActorSystem:
		return []hotline.Role{hotline.System}, true
	case healthcode.ActorResident:
		if t.PersonID == 0 {
			return nil, false
		}
		return []hotline.Role{hotline.Resident}, own(t.PersonID)
	case healthcode.ActorStaff:
	default:
		return nil, false
	}
	var roles []hotline.Role
	reader := false
	if s.DB.may(ctx, a, healthcode.PermTicketDispatch, countyOf(t.PlaceCode)) {
		roles = append(roles, hotline.Operator)
	}
	if t.Unit != nil && t.State != string(hotline.Accepted) && s.DB.may(ctx, a, healthcode.PermTicketHandle, t.Unit.RegionCode) {
		roles = append(roles, hotline.Handler)
	}
	if t.Unit != nil {
		if p := parentRegion(t.Unit.RegionCode); p != "" && s.DB.may(ctx, a, healthcode.PermTicketSupervise, p) {
			roles = append(roles, hotline.UnitSupervisor)
		}
	}
	if s.DB.may(ctx, a, healthcode.PermTicketSupervise, healthcode.ProvinceCode) {
		roles = append(roles, hotline.Province)
	}
	if len(roles) == 0 && s.DB.may(ctx, a, healthcode.PermTicketSupervise, t.RegionCode) {
		reader = true // an administrator of the unit's own region follows it
	}
	return roles, len(roles) > 0 || reader
}

func (s *TicketService) loadTicket(ctx context.Context, tx *Tx, id int64, lock bool) (*healthcode.Ticket, error) {
	query := "SELECT " + ticketColumns + ticketFrom + " WHERE t.id = $1"
	if lock {
		query += " FOR UPDATE OF t"
	}
	t, err := scanTicket(tx.QueryRow(ctx, query, id), tx.Now)
	if err != nil {
		return nil, mapError(err, "工单不存在")
	}
	s.setDueUnit(t)
	return t, nil
}

// setDueUnit sets t.DueInWorkingTime from the limit of the step whose
// deadline runs in t's state (recomputeDue): signing while accepted or
// dispatched, the reply while signed or in progress, the callback once
// replied.
func (s *TicketService) setDueUnit(t *healthcode.Ticket) {
	if t.DueAt == nil {
		return
	}
	step, ok := map[string]workcal.Step{string(hotline.Accepted): workcal.Sign, string(hotline.Dispatched): workcal.Sign,
		string(hotline.Signed): workcal.Reply, string(hotline.InProgress): workcal.Reply, string(hotline.Replied): workcal.Callback}[t.State]
	if !ok {
		return
	}
	if l, err := s.limit(t.Kind, t.Urgency, step); err == nil {
		t.DueInWorkingTime = l.Unit != workcal.ClockHours
	}
}

func (s *TicketService) limit(kind, urgency string, step workcal.Step) (workcal.Limit, error) {
	return s.Policy.Limit(workcal.Kind(kind), workcal.Urgency(urgency), step)
}

// CreateTicket implements healthcode.TicketService.
func (s *TicketService) CreateTicket(ctx context.Context, in healthcode.NewTicket) (*healthcode.Ticket, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if in.Channel == "" {
		in.Channel = string(hotline.ChannelHotline)
	}
	if in.Channel != string(hotline.ChannelHotline) && in.Channel != string(hotline.ChannelTransfer) {
		return nil, healthcode.FieldError("来源渠道", "话务员登记的工单应为 HOTLINE 或 TRANSFER_12345")
	}
	return s.create(ctx, a, in)
}

// FileAppeal implements healthcode.TicketService.
func (s *TicketService) FileAppeal(ctx context.Context, in healthcode.NewTicket) (*healthcode.Ticket, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	pid, err := ownPerson(ctx, s.DB.Pool, a, in.PersonID)
	if err != nil {
		return nil, err
	}
	in.PersonID, in.Kind, in.Channel, in.PlaceCode = pid, string(hotline.CodeAppeal), string(hotline.ChannelOnline), ""
	if in.Subject == "" {
		in.Subject = "健康码赋码申诉"
	}
	// The caller of an online appeal is the resident who files it: the
	// account's phone (the guardian's, for a dependent) is the callback number.
	var phone []byte
	if err := s.DB.Pool.QueryRow(ctx, "SELECT phone_enc FROM resident_accounts WHERE id = $1", a.ID).Scan(&phone); err != nil {
		return nil, mapError(err, "账号不存在")
	}
	if in.CallerPhone, err = s.DB.PII.Decrypt(phone); err != nil {
		return nil, err
	}
	if in.DisputedFactKind != "" || in.DisputedFactID != 0 {
		facts, err := s.DB.personFacts(ctx, pid)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(facts, func(f *healthcode.Fact) bool {
			return f.Kind == in.DisputedFactKind && f.ID == in.DisputedFactID && f.RetractedAt == nil
		})
		if i < 0 {
			return nil, healthcode.FieldError("有异议的信息", "不存在或已撤销，请重新选择")
		}
		in.Subject = healthcode.Truncate("赋码申诉：对「"+factText(facts[i])+"」有异议", 100)
	}
	return s.create(ctx, a, in)
}

func (s *TicketService) create(ctx context.Context, a *healthcode.Actor, in healthcode.NewTicket) (*healthcode.Ticket, error) {
	if err := hotline.ValidateNew(&in); err != nil {
		return nil, err
	}
	evidenceType := in.EvidenceContentType // sniffed by ValidateNew
	var callerHash, callerEnc []byte
	var callerMasked string
	if in.CallerPhone != "" {
		callerHash, callerEnc, callerMasked = s.DB.PII.Hash("phone", in.CallerPhone), s.DB.PII.Encrypt(in.CallerPhone), pii.MaskPhone(in.CallerPhone)
	}
	var out *healthcode.Ticket
	err := s.DB.InTx(ctx, func(tx *Tx) error {
		if in.PersonID != 0 {
			var residence string
			if a.Kind == healthcode.ActorStaff {
				r, err := s.DB.authorizeOnPerson(ctx, tx, a, healthcode.PermPersonRead, in.PersonID)
				if err != nil {
					return err
				}
				residence = r
			} else if err := tx.QueryRow(ctx, "SELECT residence_code FROM persons WHERE id = $1", in.PersonID).Scan(&residence); err != nil {
				return mapError(err, "人员不存在")
			}
			if in.PlaceCode == "" || in.Kind == string(hotline.CodeAppeal) {
				in.PlaceCode = residence // appeals go to the county of the residence
			}
		}
		if in.PlaceCode == "" {
			return healthcode.FieldError("事发地", "请选择被投诉或咨询涉及的地区")
		}
		if err := healthcode.ValidRegionCode(in.PlaceCode); err != nil {
			return err
		}
		region := countyOf(in.PlaceCode)
		if a.Kind == healthcode.ActorStaff {
			if err := s.DB.authorize(ctx, a, healthcode.PermTicketCreate, region); err != nil {
				return err
			}
		}
		var path string
		if err := tx.QueryRow(ctx, "SELECT path::text FROM regions WHERE code = $1", region).Scan(&path); err != nil {
			return healthcode.FieldError("事发地", "地区代码 %s 不存在", in.PlaceCode)
		}
		var person, disputedKind, disputedID any
		if in.PersonID != 0 {
			person = in.PersonID
		}
		if in.DisputedFactKind != "" {
			disputedKind, disputedID = in.DisputedFactKind, in.DisputedFactID
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO tickets (kind, channel, urgency, state, person_id, caller_phone_hash, caller_phone_enc,
			caller_masked, subject, description, place_code, region_code, region_path, created_by, created_at, updated_at,
			disputed_fact_kind, disputed_fact_id)
			VALUES ($1, $2, $3, 'ACCEPTED', $4, $5, $6, $7, $8, $9, $10, $11, $12::text::ltree, $13, $14, $14, $15, $16) RETURNING id`,
			in.Kind, in.Channel, in.Urgency, person, callerHash, callerEnc, callerMasked, in.Subject, in.Description,
			in.PlaceCode, region, path, a.Subject(), tx.Now, disputedKind, disputedID).Scan(&id); err != nil {
			return fmt.Errorf("insert ticket: %w", err)
		}
		if evidenceType != "" {
			sum := sha256.Sum256(in.Evidence)
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_evidence (ticket_id, content_type, size, sha256, data, created_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, id, evidenceType, len(in.Evidence), sum[:], in.Evidence, tx.Now); err != nil {
				return fmt.Errorf("store evidence: %w", err)
			}
		}
		if err := s.addStep(ctx, tx, id, "CREATE", "", string(hotline.Accepted), roleOfCreator(a), a, in.Description, "", hotline.Public, 0); err != nil {
			return err
		}
		if err := tx.Audit(ctx, healthcode.AuditRecord{RegionCode: region, Action: "ticket.create",
			Object: "ticket:" + strconv.FormatInt(id, 10), Detail: map[string]any{"kind": in.Kind, "channel": in.Channel}}); err != nil {
			return err
		}
		tx.MarkIndicatorDays(tx.Now) // resolution: a ticket opened today
		if in.Kind == string(hotline.CodeAppeal) {
			// An appeal is urgent for the resident: its sign and reply
			// deadlines run from the filing, before any dispatch.
			set := map[string]any{}
			for _, clock := range []workcal.Step{workcal.Sign, workcal.Reply} {
				if err := s.startClock(set, tx.Now, in.Kind, in.Urgency, clock); err != nil {
					return err
				}
			}
			if err := s.update(ctx, tx, id, set); err != nil {
				return err
			}
			if err := s.recomputeDue(ctx, tx, id); err != nil {
				return err
			}
		}
		var err error
		if out, err = s.loadTicket(ctx, tx, id, false); err != nil {
			return err
		}
		if err := s.complete(ctx, tx, a, out); err != nil {
			return err
		}
		s.notifyQueue(ctx, tx, out)
		return nil
	})
	return out, err
}

func roleOfCreator(a *healthcode.Actor) string {
	if a.Kind == healthcode.ActorResident {
		return string(hotline.Resident)
	}
	return string(hotline.Operator)
}

// addStep appends a step to ticket id's history; unit is the handling unit
// that held the ticket when the step was taken (0: none).
func (s *TicketService) addStep(ctx context.Context, tx *Tx, id int64, action, from, to, role string, a *healthcode.Actor, text, reason string, vis hotline.Visibility, unit int64) error {
	var unitID any
	if unit != 0 {
		unitID = unit
	}
	_, err := tx.Exec(ctx, `INSERT INTO ticket_steps (ticket_id, action, from_state, to_state, role, actor, actor_name, text, reason, visibility, created_at, unit_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, id, action, from, to, role, a.Subject(), a.Name, text, reason, string(vis), tx.Now, unitID)
	if err != nil {
		return fmt.Errorf("record ticket step: %w", err)
	}
	return nil
}

// Act implements healthcode.TicketService.
func (s *TicketService) Act(ctx context.Context, id int64, in healthcode.TicketAction) (*healthcode.Ticket, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	action := hotline.Action(in.Action)
	if !action.Valid() {
		return nil, healthcode.Errorf(healthcode.EINVALID, "未知的操作：%s", healthcode.Truncate(in.Action, 30))
	}
	var out *healthcode.Ticket
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		t, err := s.loadTicket(ctx, tx, id, true)
		if err != nil {
			return err
		}
		roles, visible := s.rolesFor(ctx, tx, a, t)
		if !visible {
			return healthcode.Errorf(healthcode.ENOTFOUND, "工单不存在")
		}
		if len(roles) == 0 {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "无权处理该工单")
		}
		if action == hotline.Close && hotline.State(t.State) == hotline.Accepted {
			action = hotline.DirectClose // closing a just-accepted consultation is 直接办结
		}
		mt := hotline.Ticket{ID: t.ID, Kind: hotline.Kind(t.Kind), State: hotline.State(t.State), ExtensionPending: t.ExtensionPending,
			Supervised: t.Supervised, ReopenCount: t.ReopenCount, MergedInto: t.MergedInto}
		if t.Unit != nil {
			mt.Unit = strconv.FormatInt(t.Unit.ID, 10)
		}
		mi := hotline.Input{Text: in.Text, Reason: in.Reason, Satisfaction: hotline.Satisfaction(in.Satisfaction),
			Decision: hotline.Decision(in.Decision), TargetTicket: in.TargetTicket, Place: in.Place}
		if in.TargetUnit != 0 {
			mi.TargetUnit = strconv.FormatInt(in.TargetUnit, 10)
		} else if action == hotline.Dispatch || action == hotline.Redispatch {
			if u, err := s.defaultUnit(ctx, tx, t); err == nil {
				mi.TargetUnit = strconv.FormatInt(u, 10)
			}
		}
		var step hotline.Step
		var firstErr error
		for _, r := range roles {
			st, err := hotline.Apply(mt, action, r, mi)
			if err == nil {
				step, firstErr = st, nil
				break
			}
			if firstErr == nil || healthcode.ErrorCode(firstErr) == healthcode.EFORBIDDEN {
				firstErr = err
			}
		}
		if firstErr != nil {
			return firstErr
		}
		if err := s.apply(ctx, tx, a, t, step, in); err != nil {
			return err
		}
		if err := markTicketDays(ctx, tx, id); err != nil {
			return err
		}
		// The answer is read here, as the caller was entitled to see the
		// ticket: the step may have taken it out of their view (a return).
		out, err = s.loadTicket(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if err := s.complete(ctx, tx, a, out); err != nil {
			return err
		}
		s.notifyQueue(ctx, tx, out)
		return nil
	})
	return out, err
}

// markTicketDays marks the days of every step of ticket id (this one
// included) for the hotline indicators: a step can settle an earlier day's
// event (a signing, a closing) or move the ticket, with all its events, to
// another county. A ticket has a handful of steps (ticket_steps_ticket_idx).
func markTicketDays(ctx context.Context, tx *Tx, id int64) error {
	rows, err := tx.Query(ctx, "SELECT created_at FROM ticket_steps WHERE ticket_id = $1", id)
	if err != nil {
		return fmt.Errorf("ticket step days: %w", err)
	}
	ats, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return fmt.Errorf("ticket step days: %w", err)
	}
	tx.MarkIndicatorDays(ats...)
	return nil
}

// startClock sets the columns that start the clock of step for a ticket of
// kind and urgency at start: its start and its deadline.
func (s *TicketService) startClock(set map[string]any, start time.Time, kind, urgency string, step workcal.Step) error {
	l, err := s.limit(kind, urgency, step)
	if err != nil {
		return err
	}
	due := s.Calendar.Deadline(start, l)
	switch step {
	case workcal.Sign:
		set["sign_started_at"], set["sign_due"] = start, due
	case workcal.Reply:
		set["reply_started_at"], set["reply_due"] = start, due
	case workcal.Callback:
		set["callback_started_at"], set["callback_due"] = start, due
	}
	return nil
}

// defaultUnit picks the handling unit of the ticket's county (属地转办).
func (s *TicketService) defaultUnit(ctx context.Context, tx *Tx, t *healthcode.Ticket) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM handling_units WHERE region_code = $1 ORDER BY id LIMIT 1`, countyOf(t.PlaceCode)).Scan(&id)
	return id, err
}

// apply stores a machine step: the new state and flags, the effects, the
// step record and the audit record.
func (s *TicketService) apply(ctx context.Context, tx *Tx, a *healthcode.Actor, t *healthcode.Ticket, step hotline.Step, in healthcode.TicketAction) error {
	next := step.Next
	set := map[string]any{"state": string(next.State), "extension_pending": next.ExtensionPending, "supervised": next.Supervised,
		"reopen_count": next.ReopenCount, "updated_at": tx.Now}
	unitRegion := ""
	if t.Unit != nil {
		unitRegion = t.Unit.RegionCode
	}
	if next.Unit != "" && (t.Unit == nil || next.Unit != strconv.FormatInt(t.Unit.ID, 10)) {
		uid, _ := strconv.ParseInt(next.Unit, 10, 64)
		var region, path string
		if err := tx.QueryRow(ctx, "SELECT region_code, region_path::text FROM handling_units WHERE id = $1", uid).Scan(&region, &path); err != nil {
			return healthcode.FieldError("承办单位", "承办单位不存在，请先为该地区设立承办单位")
		}
		set["unit_id"], set["region_code"], set["region_path"] = uid, region, path
		unitRegion = region
	}
	// One rule for every routing step (派单, 改派, 重办): the unit serves the
	// county of the ticket's place (属地). A wrong place is corrected first
	// (CORRECT_PLACE), which leaves its trace in the history.
	if slices.Contains(step.Effects, hotline.StartSignClock) && countyOf(unitRegion) != countyOf(t.PlaceCode) {
		return healthcode.FieldError("承办单位", "派单应按属地：承办单位须在事发地所在县（区）；事发地有误的，请先更正事发地")
	}
	if next.Unit == "" && step.Action == hotline.Return {
		set["unit_id"] = nil
	}
	appeal := t.Kind == string(hotline.CodeAppeal)
	var noticeExtra map[string]any
	var notifyResident bool
	for _, e := range step.Effects {
		switch e {
		case hotline.StartSignClock:
			// A new round: the unit gets its own warning and 督办.
			set["overdue"], set["warned"] = false, false
			if appeal && step.Action == hotline.Dispatch && t.SignDue != nil {
				break // an appeal's sign clock runs from its filing (or its return)
			}
			if err := s.startClock(set, tx.Now, t.Kind, t.Urgency, workcal.Sign); err != nil {
				return err
			}
		case hotline.StopSignClock:
			set["signed_at"] = tx.Now
		case hotline.StartReplyClock:
			if appeal && t.ReplyDue != nil && (step.Action == hotline.Dispatch || (step.Action == hotline.Redispatch && step.From != hotline.Escalated)) {
				break // an appeal's reply deadline runs from its filing, whichever unit answers
			}
			if err := s.startClock(set, tx.Now, t.Kind, t.Urgency, workcal.Reply); err != nil {
				return err
			}
		case hotline.StartCallbackClock:
			if err := s.startClock(set, tx.Now, t.Kind, t.Urgency, workcal.Callback); err != nil {
				return err
			}
			set["replied_at"] = tx.Now
		case hotline.StopClocks:
			set["overdue"], set["warned"] = false, false
			if step.Action == hotline.Return {
				// Back in the dispatchers' queue. A complaint, consultation
				// or suggestion has no deadline until it is dispatched again;
				// an appeal keeps its reply deadline, and the dispatchers and
				// the next unit get a new sign clock from the return.
				set["sign_started_at"], set["sign_due"] = nil, nil
				if appeal {
					if err := s.startClock(set, tx.Now, t.Kind, t.Urgency, workcal.Sign); err != nil {
						return err
					}
				} else {
					set["reply_started_at"], set["reply_due"] = nil, nil
				}
			}
		case hotline.SetPlace:
			extra, err := s.correctPlace(ctx, tx, a, t, step, in.Place, set)
			if err != nil {
				return err
			}
			in.Text, noticeExtra = extra["text"].(string), extra
		case hotline.ExtendDeadline:
			if in.Decision == string(hotline.Approve) {
				if err := s.DB.ownExtension(ctx, tx, a, t.ID); err != nil {
					return err
				}
				var extra string
				if err := tx.QueryRow(ctx, `UPDATE ticket_extensions SET decided_by = $2, decided_at = $3, approved = true
					WHERE id = (SELECT id FROM ticket_extensions WHERE ticket_id = $1 AND decided_at IS NULL ORDER BY id DESC LIMIT 1)
					RETURNING extra`, t.ID, a.Subject(), tx.Now).Scan(&extra); err != nil {
					return fmt.Errorf("approve extension: %w", err)
				}
				l, err := workcal.ParseLimit(extra)
				if err != nil {
					return err
				}
				base := tx.Now
				if t.ReplyDue != nil && t.ReplyDue.After(base) {
					base = *t.ReplyDue
				}
				set["reply_due"], set["overdue"], set["warned"] = s.Calendar.Deadline(base, l), false, false
			}
		case hotline.MarkExtensionPending:
			extra := in.Extension
			if extra == "" {
				extra = "2wd"
			}
			if _, err := workcal.ParseLimit(extra); err != nil {
				return healthcode.FieldError("延期时长", "格式应为 2wd、8wh 或 24h")
			}
			if t.DueAt != nil && !tx.Now.Before(*t.DueAt) {
				return healthcode.Errorf(healthcode.ECONFLICT, "已超过办理时限，不能再申请延期")
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_extensions (ticket_id, reason, extra, requested_by, requested_at)
				VALUES ($1, $2, $3, $4, $5)`, t.ID, in.Reason, extra, a.Subject(), tx.Now); err != nil {
				return fmt.Errorf("record extension request: %w", err)
			}
		case hotline.ClearExtensionPending:
			if in.Decision == string(hotline.Reject) {
				if err := s.DB.ownExtension(ctx, tx, a, t.ID); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `UPDATE ticket_extensions SET decided_by = $2, decided_at = $3, approved = false
					WHERE ticket_id = $1 AND decided_at IS NULL`, t.ID, a.Subject(), tx.Now); err != nil {
					return fmt.Errorf("reject extension: %w", err)
				}
			}
		case hotline.RecordSatisfaction:
			set["satisfaction"] = in.Satisfaction
		case hotline.LinkMerged:
			target, err := s.loadTicket(ctx, tx, in.TargetTicket, false)
			if err != nil {
				return healthcode.FieldError("并入工单", "目标工单不存在")
			}
			if roles, ok := s.rolesFor(ctx, tx, a, target); !ok || len(roles) == 0 || !hotline.State(target.State).Open() {
				return healthcode.FieldError("并入工单", "目标工单不可并入")
			}
			set["merged_into"] = in.TargetTicket
		case hotline.CorrectFacts:
			if err := s.correct(ctx, tx, a, t, in.Correction); err != nil {
				return err
			}
		case hotline.NotifyResident:
			notifyResident = true
		case hotline.NotifyUnit:
			if unitRegion != "" {
				if err := s.notice(ctx, tx, t.ID, unitRegion, "ASSIGNED", audienceUnit, "工单 #"+strconv.FormatInt(t.ID, 10)+" 已派至本单位："+t.Subject, ""); err != nil {
					return err
				}
			}
		case hotline.NotifyDispatcher:
			unit := "承办单位"
			if t.Unit != nil {
				unit = t.Unit.Name
			}
			text := fmt.Sprintf("工单 #%d（%s）被%s退回：%s。请核实事发地（必要时更正）后重新派单", t.ID, t.Subject, unit, healthcode.Truncate(in.Reason, 200))
			if err := s.notice(ctx, tx, t.ID, countyOf(t.PlaceCode), "RETURNED", audienceDispatch, text, ""); err != nil {
				return err
			}
		case hotline.NotifyParent:
			if p := parentRegion(unitRegion); p != "" {
				kind := "SUPERVISE"
				if step.Action == hotline.RequestExtension {
					kind = "EXTENSION"
				}
				if err := s.notice(ctx, tx, t.ID, p, kind, audienceUnit, "工单 #"+strconv.FormatInt(t.ID, 10)+"（"+t.Subject+"）"+step.Action.Label(), ""); err != nil {
					return err
				}
			}
		case hotline.NotifyProvince:
			if err := s.notice(ctx, tx, t.ID, healthcode.ProvinceCode, "ESCALATION", audienceUnit, "工单 #"+strconv.FormatInt(t.ID, 10)+" 上报："+in.Reason, ""); err != nil {
				return err
			}
		}
	}
	if step.Action == hotline.Return {
		if _, err := tx.Exec(ctx, "UPDATE tickets SET return_count = return_count + 1 WHERE id = $1", t.ID); err != nil {
			return err
		}
		set["region_code"], set["region_path"] = countyOf(t.PlaceCode), ltreePath(countyOf(t.PlaceCode))
	}
	if next.State == hotline.Closed || next.State == hotline.Merged {
		set["closed_at"] = tx.Now
	}
	if err := s.update(ctx, tx, t.ID, set); err != nil {
		return err
	}
	if err := s.recomputeDue(ctx, tx, t.ID); err != nil {
		return err
	}
	text := in.Text
	// The unit that held the ticket for the step: the one it was sent to by
	// a routing step, the one that returned it for a return.
	var stepUnit int64
	if t.Unit != nil {
		stepUnit = t.Unit.ID
	}
	if uid, ok := set["unit_id"].(int64); ok {
		stepUnit = uid
	}
	if err := s.addStep(ctx, tx, t.ID, string(step.Action), string(step.From), string(step.To), string(step.Role), a, text, in.Reason, step.Visibility, stepUnit); err != nil {
		return err
	}
	if notifyResident {
		if err := s.notifyResident(ctx, tx, t, step, text); err != nil {
			return err
		}
	}
	region := t.RegionCode
	if unitRegion != "" {
		region = unitRegion
	}
	detail := map[string]any{"from": string(step.From), "to": string(step.To), "role": string(step.Role)}
	for k, v := range noticeExtra {
		if k != "text" {
			detail[k] = v
		}
	}
	return tx.Audit(ctx, healthcode.AuditRecord{RegionCode: region, Action: "ticket." + strings.ToLower(string(step.Action)),
		Object: "ticket:" + strconv.FormatInt(t.ID, 10), Reason: in.Reason, Detail: detail})
}

// correctPlace checks the corrected place of a CORRECT_PLACE step and adds
// its columns to set: the place and, while no unit holds the ticket, the
// responsible region (the new place's county). The caller must be able to
// route tickets of the new place (ticket.dispatch there), or be the
// provincial office. It returns the step's text and the audit details.
// Errors: INVALID (unknown or unchanged place, above county level),
// FORBIDDEN.
func (s *TicketService) correctPlace(ctx context.Context, tx *Tx, a *healthcode.Actor, t *healthcode.Ticket, step hotline.Step, place string, set map[string]any) (map[string]any, error) {
	place = strings.TrimSpace(place)
	if err := healthcode.ValidRegionCode(place); err != nil {
		return nil, err
	}
	if lv, _ := healthcode.LevelOfCode(place); lv == healthcode.LevelProvince || lv == healthcode.LevelCity {
		return nil, healthcode.FieldError("事发地", "请选择县（区）或以下的地区")
	}
	if place == t.PlaceCode {
		return nil, healthcode.FieldError("事发地", "与原事发地相同")
	}
	from, err := regionFullName(ctx, tx, t.PlaceCode)
	if err != nil {
		return nil, err
	}
	to, err := regionFullName(ctx, tx, place)
	if err != nil {
		return nil, err
	}
	if to == "" {
		return nil, healthcode.FieldError("事发地", "地区代码 %s 不存在", place)
	}
	if step.Role != hotline.Province {
		if err := s.DB.authorize(ctx, a, healthcode.PermTicketDispatch, countyOf(place), refusedWith(healthcode.Errorf(
			healthcode.EFORBIDDEN, "无权将工单转至%s：不在本人派单的地区内，请联系省 12320 话务员", to))); err != nil {
			return nil, err
		}
	}
	set["place_code"] = place
	if t.Unit == nil {
		set["region_code"], set["region_path"] = countyOf(place), ltreePath(countyOf(place))
	}
	return map[string]any{
		"text":       fmt.Sprintf("事发地由 %s（%s）更正为 %s（%s）", from, t.PlaceCode, to, place),
		"from_place": t.PlaceCode, "to_place": place,
	}, nil
}

// regionFullName names a region with its ancestors below the province
// (西安市雁塔区小寨路街道…), "" when the code is unknown.
func regionFullName(ctx context.Context, q rowQuerier, code string) (string, error) {
	var name string
	err := q.QueryRow(ctx, `SELECT COALESCE(string_agg(a.name, '' ORDER BY nlevel(a.path)), '')
		FROM regions r JOIN regions a ON a.path @> r.path AND a.level <> 'PROVINCE' WHERE r.code = $1`, code).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("region name: %w", err)
	}
	return name, nil
}

func (s *TicketService) update(ctx context.Context, tx *Tx, id int64, set map[string]any) error {
	cols := make([]string, 0, len(set))
	args := []any{id}
	for k, v := range set {
		args = append(args, v)
		if k == "region_path" {
			cols = append(cols, k+" = $"+strconv.Itoa(len(args))+"::text::ltree")
		} else {
			cols = append(cols, k+" = $"+strconv.Itoa(len(args)))
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE tickets SET "+strings.Join(cols, ", ")+" WHERE id = $1", args...); err != nil {
		return fmt.Errorf("update ticket: %w", err)
	}
	return nil
}

// recomputeDue sets the ticket's next deadline from its state: signing while
// accepted (only a code appeal has a sign clock before its dispatch) or
// dispatched, the reply while signed or in progress, the callback once
// replied; warn_at is 80 % of the way there.
func (s *TicketService) recomputeDue(ctx context.Context, tx *Tx, id int64) error {
	_, err := tx.Exec(ctx, `UPDATE tickets SET
		due_at = CASE state WHEN 'ACCEPTED' THEN sign_due WHEN 'DISPATCHED' THEN sign_due WHEN 'SIGNED' THEN reply_due
		                    WHEN 'IN_PROGRESS' THEN reply_due WHEN 'REPLIED' THEN callback_due END,
		warn_at = CASE state
		  WHEN 'ACCEPTED' THEN sign_started_at + (sign_due - sign_started_at) * 0.8
		  WHEN 'DISPATCHED' THEN sign_started_at + (sign_due - sign_started_at) * 0.8
		  WHEN 'SIGNED' THEN reply_started_at + (reply_due - reply_started_at) * 0.8
		  WHEN 'IN_PROGRESS' THEN reply_started_at + (reply_due - reply_started_at) * 0.8
		  WHEN 'REPLIED' THEN callback_started_at + (callback_due - callback_started_at) * 0.8 END
		WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("recompute deadline: %w", err)
	}
	return nil
}

// The audiences of notices: the unit's people (handlers, the administrators
// above) or the operators who dispatch the region's tickets.
const (
	audienceUnit     = "UNIT"
	audienceDispatch = "DISPATCH"
)

func (s *TicketService) notice(ctx context.Context, tx *Tx, ticketID int64, region, kind, audience, text, dedup string) error {
	var key any
	if dedup != "" {
		key = dedup
	}
	_, err := tx.Exec(ctx, `INSERT INTO ticket_notices (ticket_id, region_code, region_path, kind, audience, text, created_at, dedup_key)
		VALUES ($1, $2, $3::text::ltree, $4, $5, $6, $7, $8) ON CONFLICT (dedup_key) DO NOTHING`,
		ticketID, region, ltreePath(region), kind, audience, text, tx.Now, key)
	if err != nil {
		return fmt.Errorf("record notice: %w", err)
	}
	return nil
}

// correct applies the fact correction that resolves a code appeal, through
// the code service's own path, in this transaction; the code is re-evaluated.
func (s *TicketService) correct(ctx context.Context, tx *Tx, a *healthcode.Actor, t *healthcode.Ticket, c *healthcode.FactCorrection) error {
	if c == nil || (c.RetractID == 0 && c.RecordKind == "") {
		return healthcode.FieldError("纠正内容", "请选择要撤销的错误事实或要补录的医学状态")
	}
	ref := "ticket:" + strconv.FormatInt(t.ID, 10)
	if c.RetractID != 0 {
		var owner int64
		table, ok := factTables[c.RetractKind]
		if !ok {
			return healthcode.Errorf(healthcode.EINVALID, "事实类型应为 STAY、MEDICAL、HEALTH 或 DESIGNATION")
		}
		err := tx.QueryRow(ctx, "SELECT person_id FROM "+table+" WHERE id = $1", c.RetractID).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) && c.RetractKind == "STAY" { // a scan's stay is the scan
			err = tx.QueryRow(ctx, "SELECT person_id FROM scans WHERE stay_id = $1 AND person_id IS NOT NULL", c.RetractID).Scan(&owner)
		}
		if err != nil || owner != t.PersonID {
			return healthcode.FieldError("纠正内容", "该事实不属于申诉人")
		}
		if _, err := s.DB.RetractFactTx(ctx, tx, a, c.RetractKind, c.RetractID, "申诉核实："+ref, ref); err != nil {
			return err
		}
	}
	if c.RecordKind != "" {
		if _, err := s.DB.RecordMedicalEventTx(ctx, tx, a, t.PersonID, c.RecordKind, tx.Now, "申诉核实："+ref, ref); err != nil {
			return err
		}
	}
	return nil
}

// notifyResident texts the person (or the caller) the public outcome.
func (s *TicketService) notifyResident(ctx context.Context, tx *Tx, t *healthcode.Ticket, step hotline.Step, text string) error {
	var phone []byte
	if t.PersonID != 0 {
		_ = tx.QueryRow(ctx, `SELECT COALESCE(p.phone_enc, ra.phone_enc) FROM persons p
			LEFT JOIN account_persons ap ON ap.person_id = p.id LEFT JOIN resident_accounts ra ON ra.id = ap.account_id
			WHERE p.id = $1`, t.PersonID).Scan(&phone)
	}
	if phone == nil {
		_ = tx.QueryRow(ctx, "SELECT caller_phone_enc FROM tickets WHERE id = $1", t.ID).Scan(&phone)
	}
	if phone == nil {
		return nil
	}
	p, err := s.DB.PII.Decrypt(phone)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("【陕西健康码】您的工单 #%d（%s）已%s：%s", t.ID, t.Subject, step.Action.Label(), healthcode.Truncate(text, 120))
	if t.Kind == string(hotline.CodeAppeal) {
		var colour string
		_ = tx.QueryRow(ctx, "SELECT colour FROM codes WHERE person_id = $1", t.PersonID).Scan(&colour)
		msg = fmt.Sprintf("【陕西健康码】您的赋码申诉 #%d 已处理（%s），当前为%s。%s", t.ID, step.Action.Label(), healthcode.Colour(colour).Label(), healthcode.Truncate(text, 100))
	}
	return tx.QueueSMS(ctx, p, msg, fmt.Sprintf("ticket:%d:%s:%d", t.ID, step.Action, tx.Now.UnixNano()))
}

// notifyQueue records that a ticket changed (ticket_changes, the history a
// reconnected listener replays) and tells live queue subscribers of every
// process. A failure aborts the transaction, so the commit reports it.
func (s *TicketService) notifyQueue(ctx context.Context, tx *Tx, t *healthcode.Ticket) {
	_, _ = tx.Exec(ctx, `WITH c AS (INSERT INTO ticket_changes (ticket_id, changed_at) VALUES ($1, $2) RETURNING id)
		SELECT pg_notify('tickets', $1::text || ':' || c.id::text) FROM c`, t.ID, tx.Now)
}

// MustCalendar returns the embedded working-time calendar; the data is
// checked by workcal's tests, so a failure here is a build defect.
func MustCalendar() *workcal.Calendar {
	c, err := workcal.Load()
	if err != nil {
		panic(fmt.Sprintf("load working-time calendar: %v", err))
	}
	return c
}

// NewTicketService returns the ticket service with the embedded calendar
// and the default deadline policy (SPEC §5).
func NewTicketService(db *DB) *TicketService {
	return &TicketService{DB: db, Calendar: MustCalendar(), Policy: workcal.DefaultPolicy()}
}

// ownExtension refuses the decision of a ticket's pending extension by the
// natural person who asked for it, under any combination of roles (issue 12
// §2). Errors: FORBIDDEN.
func (db *DB) ownExtension(ctx context.Context, tx *Tx, a *healthcode.Actor, ticketID int64) error {
	var by string
	err := tx.QueryRow(ctx, `SELECT requested_by FROM ticket_extensions WHERE ticket_id = $1 AND decided_at IS NULL
		ORDER BY id DESC LIMIT 1`, ticketID).Scan(&by)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read extension request: %w", err)
	}
	return db.differentPerson(ctx, tx, by, a, "不能审批本人提出的延期申请")
}
