package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/rules"
)

// The two-person rule on colours (issue 12 §1, docs/security-colour.md): a
// write by one member of staff that would make a person red or take them out
// of red does not take effect; it becomes a colour change request, applied
// as entered when a different natural person with colour.approve approves it.

// ColourRequestService implements healthcode.ColourRequestService.
type ColourRequestService struct{ DB *DB }

var _ healthcode.ColourRequestService = (*ColourRequestService)(nil)

type approvalKey struct{}

// withApproval marks ctx as the approval of colour change request id: the
// writes made under it take effect.
func withApproval(ctx context.Context, id int64) context.Context {
	return context.WithValue(ctx, approvalKey{}, id)
}

// changesAlone reports whether a's write may change a colour without a second
// person: the system (workers, the CLI), a registered medical institution's
// machine client (its key was approved by a second person), or a write
// replayed by an approval.
func changesAlone(ctx context.Context, a *healthcode.Actor) bool {
	if a.Kind == healthcode.ActorSystem || (a.Kind == healthcode.ActorMachine && a.InstitutionID != 0) {
		return true
	}
	id, _ := ctx.Value(approvalKey{}).(int64)
	return id != 0
}

// colourTrial is a write tried inside a savepoint: kept when it leaves every
// person's red as it was, undone otherwise.
type colourTrial struct {
	codes map[int64]*healthcode.Code // before the write, re-evaluated
	head  *string
	days  map[time.Time]bool
}

// beginTrial re-evaluates pids (so that a change by time alone is not taken
// for the write's), remembers their colours and opens a savepoint.
func (db *DB) beginTrial(ctx context.Context, tx *Tx, pids []int64) (*colourTrial, error) {
	codes, err := db.reevaluate(ctx, tx, pids, "time")
	if err != nil {
		return nil, err
	}
	t := &colourTrial{codes: codes, days: maps.Clone(tx.dirtyDays)}
	if tx.auditHead != nil {
		h := *tx.auditHead
		t.head = &h
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT colour_trial"); err != nil {
		return nil, fmt.Errorf("savepoint: %w", err)
	}
	return t, nil
}

// turnsRed reports whether after (the codes the write produced) makes a
// person red or takes one out of red; a person without a code before
// counts as not red.
func (t *colourTrial) turnsRed(after map[int64]*healthcode.Code) bool {
	for pid, c := range after {
		was := t.codes[pid] != nil && t.codes[pid].Colour == healthcode.Red
		if was != (c != nil && c.Colour == healthcode.Red) {
			return true
		}
	}
	return false
}

// keep releases the savepoint: the write stands.
func (t *colourTrial) keep(ctx context.Context, tx *Tx) error {
	if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT colour_trial"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// undo rolls the write back, with the transaction's cached audit head and
// dirty indicator days.
func (t *colourTrial) undo(ctx context.Context, tx *Tx) error {
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT colour_trial; RELEASE SAVEPOINT colour_trial"); err != nil {
		return fmt.Errorf("roll back to savepoint: %w", err)
	}
	tx.auditHead, tx.dirtyDays = t.head, t.days
	return nil
}

// colourPayload is what a request replays on approval.
type colourPayload struct {
	Kind        string                       `json:"kind,omitempty"` // MEDICAL: medical kind; RETRACT: fact kind
	At          time.Time                    `json:"at,omitzero"`
	Note        string                       `json:"note,omitempty"`
	FactID      int64                        `json:"factId,omitempty"`
	Reason      string                       `json:"reason,omitempty"`
	Ref         string                       `json:"ref,omitempty"` // ticket:N for an appeal correction
	AreaRiskID  int64                        `json:"areaRiskId,omitempty"`
	Declaration *healthcode.DeclarationInput `json:"declaration,omitempty"`
	Subsystem   *pendingRecord               `json:"subsystem,omitempty"` // SUBSYSTEM: the pushed record
}

// errUnverified refuses a member of staff without a verified phone a step of
// the two-person rule.
var errUnverified = healthcode.Errorf(healthcode.EFORBIDDEN, "请先验证本人手机号：双人复核须由实名验证的工作人员提出和审核")

// personHash returns the verified person (phone hash) of a staff subject,
// nil when none (or not staff).
func personHash(ctx context.Context, q rowQuerier, subject string) ([]byte, error) {
	id, ok := strings.CutPrefix(subject, "staff:")
	if !ok {
		return nil, nil
	}
	var h []byte
	err := q.QueryRow(ctx, "SELECT person_hash FROM staff WHERE id = $1", id).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read staff person: %w", err)
	}
	return h, nil
}

// differentPerson checks that a, deciding what requester asked for, is
// another natural person: not the same account, both staff bound to a
// verified phone, and not the same phone. Errors: FORBIDDEN.
func (db *DB) differentPerson(ctx context.Context, q rowQuerier, requester string, a *healthcode.Actor, own string) error {
	if requester == a.Subject() {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "%s", own)
	}
	mine, err := personHash(ctx, q, a.Subject())
	if err != nil {
		return err
	}
	if mine == nil {
		return errUnverified
	}
	theirs, err := personHash(ctx, q, requester)
	if err != nil {
		return err
	}
	if requester == "system" {
		return nil
	}
	if theirs == nil {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "提交人未验证手机号，无法确认审核人与提交人为不同的人")
	}
	if string(theirs) == string(mine) {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "%s", own)
	}
	return nil
}

// requestColourChange records a colour change request of a (staff with a
// verified phone, or a city sub-system's API key) instead of the change, and audits it. region is where
// colour.approve is checked. Errors: FORBIDDEN (not staff, or unverified).
func (db *DB) requestColourChange(ctx context.Context, tx *Tx, a *healthcode.Actor, op string, pid int64, region string, p colourPayload, summary string) (*healthcode.ColourRequest, error) {
	switch a.Kind {
	case healthcode.ActorStaff:
		if h, err := personHash(ctx, tx, a.Subject()); err != nil {
			return nil, err
		} else if h == nil {
			return nil, errUnverified
		}
	case healthcode.ActorMachine:
		// A city sub-system's record: the key's creator is the person behind
		// it (requesterSubjects).
	default:
		return nil, healthcode.Errorf(healthcode.EFORBIDDEN, "该变更会使人员转为红码或解除红码，须由卫生健康人员提出并经另一人审核")
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var person *int64
	if pid != 0 {
		person = &pid
	}
	r := &healthcode.ColourRequest{Op: op, PersonID: pid, Region: region, Summary: healthcode.Truncate(summary, 200),
		Status: healthcode.ColourPending, RequestedBy: a.Subject(), RequestedAt: tx.Now, ExpiresAt: tx.Now.Add(healthcode.ColourRequestTTL)}
	if err := tx.QueryRow(ctx, `INSERT INTO colour_requests (op, person_id, region_code, region_path, payload, summary,
			requested_by, requested_at, expires_at)
		VALUES ($1, $2, $3, $4::text::ltree, $5, $6, $7, $8, $9) RETURNING id`,
		op, person, region, ltreePath(region), db.PII.Encrypt(string(body)), r.Summary, r.RequestedBy, tx.Now, r.ExpiresAt).Scan(&r.ID); err != nil {
		return nil, fmt.Errorf("insert colour request: %w", err)
	}
	if pid != 0 {
		if err := tx.checkAlert(ctx, a, healthcode.AlertMassDesignation, map[string]any{
			"last": "person:" + strconv.FormatInt(pid, 10), "request": r.ID, "op": op}); err != nil {
			return nil, err
		}
	}
	obj := "region:" + region
	if pid != 0 {
		obj = "person:" + strconv.FormatInt(pid, 10)
	}
	if err := tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, a, healthcode.PermPersonRead, region), RegionCode: region,
		Action: "colour.request", Object: obj, Reason: r.Summary,
		Detail: map[string]any{"request": r.ID, "op": op}}); err != nil {
		return nil, err
	}
	return r, nil
}

const colourRequestColumns = `id, op, COALESCE(person_id, 0), region_code, summary,
	CASE WHEN status = 'PENDING' AND expires_at <= $NOW THEN 'EXPIRED' ELSE status END,
	requested_by, requested_at, expires_at, COALESCE(decided_by, ''), decided_at, decision_reason, COALESCE(effect, '')`

func colourRequestSQL(sql string) string {
	return strings.ReplaceAll(strings.ReplaceAll(sql, "COLUMNS", colourRequestColumns), "$NOW", "$1")
}

func scanColourRequest(row pgx.Row) (*healthcode.ColourRequest, error) {
	var r healthcode.ColourRequest
	err := row.Scan(&r.ID, &r.Op, &r.PersonID, &r.Region, &r.Summary, &r.Status, &r.RequestedBy, &r.RequestedAt,
		&r.ExpiresAt, &r.DecidedBy, &r.DecidedAt, &r.Reason, &r.Effect)
	return &r, err
}

// ColourRequests implements healthcode.ColourRequestService.
func (s *ColourRequestService) ColourRequests(ctx context.Context, f healthcode.ColourRequestFilter) ([]*healthcode.ColourRequest, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if f.Status == "" {
		f.Status = healthcode.ColourPending
	}
	switch f.Status {
	case healthcode.ColourPending, healthcode.ColourApproved, healthcode.ColourRejected, healthcode.ColourExpired:
	default:
		return nil, healthcode.FieldError("状态", "应为 PENDING、APPROVED、REJECTED 或 EXPIRED")
	}
	regions, err := s.DB.scope(ctx, a, healthcode.PermPersonRead, f.Region)
	if healthcode.ErrorCode(err) == healthcode.EFORBIDDEN && f.Region == "" {
		regions, err = s.DB.scope(ctx, a, healthcode.PermColourApprove, f.Region)
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, colourRequestSQL(`SELECT COLUMNS FROM colour_requests
		WHERE in_regions(region_path, $2) AND ($4::bigint = 0 OR person_id = $4::bigint)
		  AND CASE WHEN status = 'PENDING' AND expires_at <= $1 THEN 'EXPIRED' ELSE status END = $3
		ORDER BY id DESC LIMIT 200`), s.DB.now(), ltreePaths(regions), f.Status, f.PersonID)
	if err != nil {
		return nil, fmt.Errorf("list colour requests: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.ColourRequest, error) { return scanColourRequest(r) })
	if err != nil {
		return nil, err
	}
	if err := s.DB.describeRequests(ctx, list); err != nil {
		return nil, err
	}
	return list, nil
}

// describeRequests fills the persons' masked names and current colours of
// list and, for pending MEDICAL and RETRACT requests, the colour approving
// each would give now: the person's facts with the requested event added (or
// the fact removed), evaluated in memory with the rule set in force. Nothing
// is written.
func (db *DB) describeRequests(ctx context.Context, list []*healthcode.ColourRequest) error {
	var pids []int64
	for _, r := range list {
		if r.PersonID != 0 && !slices.Contains(pids, r.PersonID) {
			pids = append(pids, r.PersonID)
		}
	}
	if len(pids) == 0 {
		return nil
	}
	return db.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT p.id, p.name_masked, COALESCE(c.colour, '') FROM persons p
			LEFT JOIN codes c ON c.person_id = p.id WHERE p.id = ANY($1)`, pids)
		if err != nil {
			return fmt.Errorf("read request persons: %w", err)
		}
		type person struct {
			name   string
			colour healthcode.Colour
		}
		persons := map[int64]person{}
		var id int64
		var p person
		if _, err := pgx.ForEachRow(rows, []any{&id, &p.name, &p.colour}, func() error {
			persons[id] = p
			return nil
		}); err != nil {
			return fmt.Errorf("read request persons: %w", err)
		}
		var trial []*healthcode.ColourRequest
		var trialPids []int64
		for _, r := range list {
			if r.PersonID == 0 {
				continue
			}
			r.MaskedName, r.Colour = persons[r.PersonID].name, persons[r.PersonID].colour
			if r.Status == healthcode.ColourPending && (r.Op == healthcode.ColourOpMedical || r.Op == healthcode.ColourOpRetract) {
				trial = append(trial, r)
				if !slices.Contains(trialPids, r.PersonID) {
					trialPids = append(trialPids, r.PersonID)
				}
			}
		}
		if len(trial) == 0 {
			return nil
		}
		payloads := map[int64][]byte{}
		ids := make([]int64, len(trial))
		for i, r := range trial {
			ids[i] = r.ID
		}
		rows, err = tx.Query(ctx, "SELECT id, payload FROM colour_requests WHERE id = ANY($1)", ids)
		if err != nil {
			return fmt.Errorf("read request payloads: %w", err)
		}
		var enc []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &enc}, func() error {
			payloads[id] = slices.Clone(enc)
			return nil
		}); err != nil {
			return fmt.Errorf("read request payloads: %w", err)
		}
		rs, err := publishedRuleSet(ctx, tx)
		if err != nil {
			return err
		}
		for _, r := range trial {
			body, err := db.PII.Decrypt(payloads[r.ID])
			if err != nil {
				return fmt.Errorf("decrypt colour request %d: %w", r.ID, err)
			}
			var p colourPayload
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				return fmt.Errorf("parse colour request %d: %w", r.ID, err)
			}
			// Each request is evaluated alone, on facts loaded afresh.
			facts, err := loadFacts(ctx, tx, []int64{r.PersonID})
			if err != nil {
				return err
			}
			f := facts[r.PersonID]
			if r.Op == healthcode.ColourOpMedical {
				f.Medical = append(f.Medical, rules.MedicalEvent{ID: -r.ID, Kind: p.Kind, At: p.At})
			} else {
				withoutFact(f, p.Kind, p.FactID)
			}
			r.ResultColour = healthcode.Colour(rules.Evaluate(f, rs, tx.Now).Colour)
		}
		return nil
	})
}

// withoutFact removes the fact of kind (STAY, MEDICAL, HEALTH, DESIGNATION)
// with id from f, as its retraction would.
func withoutFact(f *rules.Facts, kind string, id int64) {
	switch kind {
	case "STAY":
		f.Stays = slices.DeleteFunc(f.Stays, func(s rules.Stay) bool { return s.ID == id })
	case "MEDICAL":
		f.Medical = slices.DeleteFunc(f.Medical, func(m rules.MedicalEvent) bool { return m.ID == id })
	case "HEALTH":
		f.Health = slices.DeleteFunc(f.Health, func(h rules.HealthRecord) bool { return h.ID == id })
	case "DESIGNATION":
		f.Designations = slices.DeleteFunc(f.Designations, func(d rules.Designation) bool { return d.ID == id })
	}
}

// decideColourRequest loads request id for update and checks that a may
// decide it (colour.approve at its region; hidden outside the caller's
// grants) and that it is pending. It returns the request and its payload.
func (db *DB) decideColourRequest(ctx context.Context, tx *Tx, a *healthcode.Actor, id int64, withdraw bool) (*healthcode.ColourRequest, colourPayload, error) {
	var p colourPayload
	var enc []byte
	row := tx.QueryRow(ctx, colourRequestSQL(`SELECT COLUMNS, payload FROM colour_requests WHERE id = $2 FOR UPDATE`), tx.Now, id)
	var r healthcode.ColourRequest
	if err := row.Scan(&r.ID, &r.Op, &r.PersonID, &r.Region, &r.Summary, &r.Status, &r.RequestedBy, &r.RequestedAt,
		&r.ExpiresAt, &r.DecidedBy, &r.DecidedAt, &r.Reason, &r.Effect, &enc); err != nil {
		return nil, p, mapError(err, "赋码变更申请不存在")
	}
	if !(withdraw && r.RequestedBy == a.Subject()) {
		err := db.authorize(ctx, a, healthcode.PermColourApprove, r.Region, seenWith("赋码变更申请不存在", healthcode.PermPersonRead))
		if err != nil {
			return nil, p, err
		}
	}
	switch r.Status {
	case healthcode.ColourPending:
	case healthcode.ColourExpired:
		return nil, p, healthcode.Errorf(healthcode.ECONFLICT, "该申请已过期，请重新提出")
	default:
		return nil, p, healthcode.Errorf(healthcode.ECONFLICT, "该申请已审核")
	}
	body, err := db.PII.Decrypt(enc)
	if err != nil {
		return nil, p, fmt.Errorf("decrypt colour request %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return nil, p, fmt.Errorf("parse colour request %d: %w", id, err)
	}
	return &r, p, nil
}

// ApproveColourRequest implements healthcode.ColourRequestService.
func (s *ColourRequestService) ApproveColourRequest(ctx context.Context, id int64) (*healthcode.ColourRequest, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	db := s.DB
	var out *healthcode.ColourRequest
	err = db.InTx(ctx, func(tx *Tx) error {
		r, p, err := db.decideColourRequest(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if err := db.differentPersons(ctx, tx, r.RequestedBy, a, "赋码变更须由另一人审核，不能审核本人提交的申请"); err != nil {
			return err
		}
		actx := withApproval(ctx, id)
		if r.Op == healthcode.ColourOpSubsystem {
			key, err := db.apiKeyActor(ctx, tx, r.RequestedBy)
			if err != nil {
				return err
			}
			if p.Subsystem == nil {
				return fmt.Errorf("colour request %d: no record", id)
			}
			declID, err := (&SubsystemService{DB: db}).applyApproved(actx, tx, key, p.Subsystem)
			if err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, "SELECT person_id FROM declarations WHERE id = $1", declID).Scan(&r.PersonID); err != nil {
				return fmt.Errorf("person of declaration %d: %w", declID, err)
			}
			if _, err := tx.Exec(ctx, "UPDATE colour_requests SET person_id = $2, record_key = NULL WHERE id = $1", id, r.PersonID); err != nil {
				return fmt.Errorf("record person of colour request: %w", err)
			}
			r.Effect = "declaration:" + strconv.FormatInt(declID, 10)
			return db.finishApproval(ctx, tx, a, r, &out)
		}
		staffID, err := strconv.ParseInt(strings.TrimPrefix(r.RequestedBy, "staff:"), 10, 64)
		if err != nil {
			return fmt.Errorf("requester of colour request %d: %q", id, r.RequestedBy)
		}
		requester := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: staffID, Name: r.RequestedBy}
		switch r.Op {
		case healthcode.ColourOpMedical:
			mid, _, err := db.recordMedical(actx, tx, requester, r.PersonID, p.Kind, p.At, p.Note, p.Ref)
			if err != nil {
				return err
			}
			r.Effect = "medical:" + strconv.FormatInt(mid, 10)
		case healthcode.ColourOpRetract:
			if _, err := db.RetractFactTx(actx, tx, requester, p.Kind, p.FactID, p.Reason, p.Ref); err != nil {
				return err
			}
			r.Effect = "retract:" + strings.ToLower(p.Kind) + ":" + strconv.FormatInt(p.FactID, 10)
		case healthcode.ColourOpDeclare:
			if p.Declaration == nil {
				return fmt.Errorf("colour request %d: no declaration", id)
			}
			if err := db.authorize(ctx, requester, healthcode.PermPersonDeclare, p.Declaration.ResidenceCode); err != nil {
				return healthcode.Errorf(healthcode.EFORBIDDEN, "提交人已无权为该地区的居民代为申报")
			}
			person, _, declID, err := db.declareTx(actx, tx, requester, p.Declaration)
			if err != nil {
				return err
			}
			r.PersonID = person.ID
			if _, err := tx.Exec(ctx, "UPDATE colour_requests SET person_id = $2 WHERE id = $1", id, person.ID); err != nil {
				return fmt.Errorf("record person of colour request: %w", err)
			}
			r.Effect = "declaration:" + strconv.FormatInt(declID, 10)
		case healthcode.ColourOpAreaRisk:
			if err := db.approveAreaRisk(actx, tx, requester, a, p.AreaRiskID); err != nil {
				return err
			}
			r.Effect = "area_risk:" + strconv.FormatInt(p.AreaRiskID, 10)
		default:
			return fmt.Errorf("colour request %d: unknown op %q", id, r.Op)
		}
		return db.finishApproval(ctx, tx, a, r, &out)
	})
	return out, err
}

// finishApproval marks request r approved by a with its effect, and audits it.
func (db *DB) finishApproval(ctx context.Context, tx *Tx, a *healthcode.Actor, r *healthcode.ColourRequest, out **healthcode.ColourRequest) error {
	if _, err := tx.Exec(ctx, `UPDATE colour_requests SET status = 'APPROVED', decided_by = $2, decided_at = $3, effect = $4
		WHERE id = $1`, r.ID, a.Subject(), tx.Now, r.Effect); err != nil {
		return fmt.Errorf("approve colour request: %w", err)
	}
	r.Status, r.DecidedBy, r.DecidedAt = healthcode.ColourApproved, a.Subject(), &tx.Now
	*out = r
	return tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, a, healthcode.PermColourApprove, r.Region),
		RegionCode: r.Region, Action: "colour.approve", Object: requestObject(r), Reason: r.Summary,
		Detail: map[string]any{"request": r.ID, "op": r.Op, "requestedBy": r.RequestedBy, "effect": r.Effect}})
}

// requesterSubjects returns the staff subjects behind a request's requester:
// the requester itself, or for an API key ("apikey:N") the account that
// created it and the one that approved it, when any.
func requesterSubjects(ctx context.Context, q rowQuerier, requester string) ([]string, error) {
	id, ok := strings.CutPrefix(requester, "apikey:")
	if !ok {
		return []string{requester}, nil
	}
	var createdBy, approvedBy *int64
	if err := q.QueryRow(ctx, "SELECT created_by, approved_by FROM api_keys WHERE id = $1", id).Scan(&createdBy, &approvedBy); err != nil {
		return nil, fmt.Errorf("creator of %s: %w", requester, err)
	}
	var out []string
	for _, s := range []*int64{createdBy, approvedBy} {
		if s != nil {
			out = append(out, "staff:"+strconv.FormatInt(*s, 10))
		}
	}
	if len(out) == 0 {
		// A key made by the operator (CLI): nobody is known behind it, so
		// anyone else with the authority may decide.
		return []string{"system"}, nil
	}
	return out, nil
}

// differentPersons checks differentPerson against every staff subject behind
// requester (requesterSubjects). Errors: FORBIDDEN.
func (db *DB) differentPersons(ctx context.Context, q rowQuerier, requester string, a *healthcode.Actor, own string) error {
	subjects, err := requesterSubjects(ctx, q, requester)
	if err != nil {
		return err
	}
	for _, s := range subjects {
		if err := db.differentPerson(ctx, q, s, a, own); err != nil {
			return err
		}
	}
	return nil
}

// apiKeyActor returns the machine actor of a city sub-system's key
// ("apikey:N") for replaying its pending record. Errors: FORBIDDEN (the key
// was revoked, or is not a sub-system's).
func (db *DB) apiKeyActor(ctx context.Context, q rowQuerier, subject string) (*healthcode.Actor, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(subject, "apikey:"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("api key subject %q", subject)
	}
	a := &healthcode.Actor{Kind: healthcode.ActorMachine, ID: id, SessionID: id}
	var revoked bool
	var inst *int64
	if err := q.QueryRow(ctx, "SELECT name, city_code, revoked_at IS NOT NULL, institution_id FROM api_keys WHERE id = $1", id).
		Scan(&a.Name, &a.RegionCode, &revoked, &inst); err != nil {
		return nil, fmt.Errorf("load api key %d: %w", id, err)
	}
	if revoked || inst != nil {
		return nil, healthcode.Errorf(healthcode.EFORBIDDEN, "推送该记录的 API 密钥已吊销")
	}
	return a, nil
}

func requestObject(r *healthcode.ColourRequest) string {
	if r.PersonID != 0 {
		return "person:" + strconv.FormatInt(r.PersonID, 10)
	}
	return "region:" + r.Region
}

// RejectColourRequest implements healthcode.ColourRequestService.
func (s *ColourRequestService) RejectColourRequest(ctx context.Context, id int64, reason string) (*healthcode.ColourRequest, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, healthcode.FieldError("原因", "不能为空，且不超过 500 个字")
	}
	db := s.DB
	var out *healthcode.ColourRequest
	err = db.InTx(ctx, func(tx *Tx) error {
		r, p, err := db.decideColourRequest(ctx, tx, a, id, true)
		if err != nil {
			return err
		}
		if r.RequestedBy != a.Subject() {
			// Rejecting someone else's request is a decision of the second person.
			if err := db.differentPersons(ctx, tx, r.RequestedBy, a, "不能审核本人提交的申请"); err != nil {
				return err
			}
		}
		if r.Op == healthcode.ColourOpAreaRisk {
			if _, err := tx.Exec(ctx, "DELETE FROM area_risks WHERE id = $1 AND pending", p.AreaRiskID); err != nil {
				return fmt.Errorf("drop pending area risk: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE colour_requests SET status = 'REJECTED', decided_by = $2, decided_at = $3, decision_reason = $4
			WHERE id = $1`, id, a.Subject(), tx.Now, reason); err != nil {
			return fmt.Errorf("reject colour request: %w", err)
		}
		r.Status, r.DecidedBy, r.DecidedAt, r.Reason = healthcode.ColourRejected, a.Subject(), &tx.Now, reason
		out = r
		return tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, a, healthcode.PermColourApprove, r.Region),
			RegionCode: r.Region, Action: "colour.reject", Object: requestObject(r), Reason: reason,
			Detail: map[string]any{"request": id, "op": r.Op, "requestedBy": r.RequestedBy}})
	})
	return out, err
}

// approvals returns who approved the facts of a person (their entry, by
// effect: medical:12, declaration:7; their retraction: retract:stay:5).
func (db *DB) approvals(ctx context.Context, pid int64) (map[string]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT effect, decided_by FROM colour_requests
		WHERE person_id = $1 AND status = 'APPROVED' AND effect IS NOT NULL`, pid)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	out := map[string]string{}
	var effect, by string
	_, err = pgx.ForEachRow(rows, []any{&effect, &by}, func() error { out[effect] = by; return nil })
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	return out, nil
}
