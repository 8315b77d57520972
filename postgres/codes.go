package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
)

// CodeService implements healthcode.CodeService.
type CodeService struct{ DB *DB }

var _ healthcode.CodeService = (*CodeService)(nil)

// SubmitDeclaration implements healthcode.CodeService.
func (s *CodeService) SubmitDeclaration(ctx context.Context, in healthcode.DeclarationInput) (*healthcode.Person, *healthcode.Code, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, nil, err
	}
	db := s.DB
	now := db.now()
	if err := in.Validate(now, a.Kind == healthcode.ActorStaff); err != nil {
		return nil, nil, err
	}
	switch a.Kind {
	case healthcode.ActorResident:
	case healthcode.ActorStaff:
		// Community staff declare for people without phones (代为申领) of
		// their area; the residence region is no secret, so FORBIDDEN.
		if err := db.authorize(ctx, a, healthcode.PermPersonDeclare, in.ResidenceCode,
			refusedWith(healthcode.Errorf(healthcode.EFORBIDDEN, "无权为该地区的居民代为申报"))); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, healthcode.ErrForbidden
	}
	var person *healthcode.Person
	var code *healthcode.Code
	err = db.InTx(ctx, func(tx *Tx) error {
		if a.Kind != healthcode.ActorStaff || changesAlone(ctx, a) {
			person, code, _, err = db.declareTx(ctx, tx, a, &in)
			return err
		}
		// A declaration entered by staff that would turn the person red (a
		// trip abroad declared for a person without a phone) or lift a red
		// waits for a second health officer (docs/security-colour.md).
		var pids []int64
		var pid int64
		if err := tx.QueryRow(ctx, "SELECT id FROM persons WHERE doc_type = $1 AND doc_hash = $2",
			string(in.DocType), db.PII.Hash("doc:"+string(in.DocType), in.DocNumber)).Scan(&pid); err == nil {
			pids = append(pids, pid)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("look up person: %w", err)
		}
		trial, err := db.beginTrial(ctx, tx, pids)
		if err != nil {
			return err
		}
		person, code, _, err = db.declareTx(ctx, tx, a, &in)
		if err != nil {
			return err
		}
		if !trial.turnsRed(map[int64]*healthcode.Code{person.ID: code}) {
			return trial.keep(ctx, tx)
		}
		if err := trial.undo(ctx, tx); err != nil {
			return err
		}
		region := in.ResidenceCode
		summary := fmt.Sprintf("代为申报（%s）：%s", in.Form.Name(), pii.MaskName(in.Name))
		req, err := db.requestColourChange(ctx, tx, a, healthcode.ColourOpDeclare, pid, region, colourPayload{Declaration: &in}, summary)
		if err != nil {
			return err
		}
		person.ID = pid
		if pid != 0 {
			code = trial.codes[pid]
		} else {
			code = &healthcode.Code{Colour: ""}
		}
		code.Pending = req
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return person, code, nil
}

// declareTx writes a declaration inside tx (SubmitDeclaration, and the
// approval of a declaration entered by staff) and re-evaluates the person's
// code. The caller's authorization at the residence is checked before it.
// It returns the person, the code and the declaration's id.
func (db *DB) declareTx(ctx context.Context, tx *Tx, a *healthcode.Actor, inp *healthcode.DeclarationInput) (person *healthcode.Person, code *healthcode.Code, declID int64, err error) {
	in := *inp
	err = func() error {
		var residencePath string
		if err := tx.QueryRow(ctx, "SELECT path::text FROM regions WHERE code = $1", in.ResidenceCode).Scan(&residencePath); errors.Is(err, pgx.ErrNoRows) {
			return healthcode.FieldError("居住地", "地区代码 %s 不存在，请重新选择", in.ResidenceCode)
		} else if err != nil {
			return fmt.Errorf("look up residence: %w", err)
		}
		docHash := db.PII.Hash("doc:"+string(in.DocType), in.DocNumber)
		var phoneHash []byte
		if in.Phone != "" {
			phoneHash = db.PII.Hash("phone", in.Phone)
		}
		var pid int64
		var boundTo *int64
		var storedPhone []byte
		err := tx.QueryRow(ctx, `SELECT p.id, ap.account_id, p.phone_hash FROM persons p
			LEFT JOIN account_persons ap ON ap.person_id = p.id
			WHERE p.doc_type = $1 AND p.doc_hash = $2 FOR UPDATE OF p`, string(in.DocType), docHash).Scan(&pid, &boundTo, &storedPhone)
		exists := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("look up person: %w", err)
		}
		relation, basis := "", ""
		if a.Kind == healthcode.ActorResident {
			switch {
			case exists && boundTo != nil && *boundTo != a.ID:
				return healthcode.Errorf(healthcode.ECONFLICT, "该人员已由其他账号申领或绑定。如为本人，可在“找回本人健康码”中用本人手机号找回；如需变更监护人请联系所在社区")
			case exists && boundTo == nil && string(storedPhone) != string(db.residentPhoneHash(ctx, tx, a.ID)):
				// Registered by community staff: only the person's own phone may claim it.
				return healthcode.Errorf(healthcode.ECONFLICT, "该人员已由社区登记，请使用登记的手机号登录，或联系所在社区绑定")
			case !exists || boundTo == nil:
				relation = "DEPENDENT"
				var hasSelf bool
				if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM account_persons WHERE account_id = $1 AND relation = 'SELF')", a.ID).Scan(&hasSelf); err != nil {
					return err
				}
				if !hasSelf && string(phoneHash) == string(db.residentPhoneHash(ctx, tx, a.ID)) {
					relation, basis = "SELF", "SELF"
				} else if basis = db.guardianship().DependentBasis(in.DocType, in.DocNumber, tx.Now); basis == "" {
					// 监护人代为申领 is for the notice's 老幼人群: anyone else
					// is bound to a guardian by their community, so that
					// nobody becomes a stranger's guardian by knowing
					// their ID number.
					return healthcode.Errorf(healthcode.EFORBIDDEN, "只能为未满 %d 周岁的儿童或 %d 周岁以上的老人代为申领；为其他人代为申领须由其所在社区确认监护关系。如为本人，请用本人手机号登录申报",
						db.guardianship().ChildUnder, db.guardianship().ElderFrom)
				}
			}
		} else if exists {
			// Staff may re-declare only for a person of their jurisdiction
			// (one person, one code: a person registered outside it is a
			// conflict that says nothing about them) who holds no code of
			// their own: 代为申领 is for people without phones, and a
			// resident's or guardian's declaration is theirs to make.
			var region string
			if err := tx.QueryRow(ctx, "SELECT residence_code FROM persons WHERE id = $1", pid).Scan(&region); err != nil {
				return err
			}
			if err := db.authorize(ctx, a, healthcode.PermPersonDeclare, region, seenWith("", healthcode.PermPersonRead)); err != nil {
				if healthcode.ErrorCode(err) == healthcode.ENOTFOUND {
					return healthcode.Errorf(healthcode.ECONFLICT, "该人员已在本辖区以外登记（一人一码），请由其居住地社区办理")
				}
				return err
			}
			if boundTo != nil {
				return healthcode.Errorf(healthcode.EFORBIDDEN, "无权代为申报：该人员已用手机申领健康码，请由本人或其监护人申报")
			}
		}
		actorSubj := a.Subject()
		if !exists {
			pid = 0
		}
		if pid, err = db.writePerson(ctx, tx, pid, &in, docHash, residencePath); err != nil {
			return err
		}
		tx.MarkIndicatorDays(tx.Now) // coverage: a new person, or a residence that may have moved
		if relation != "" {
			if err := bindPerson(ctx, tx, pid, a.ID, relation, basis, "", in.ResidenceCode, ""); err != nil {
				return err
			}
		}
		var arrival any
		if in.Form == healthcode.FormArrival {
			arrival = healthcode.DayStart(in.ArrivalDate)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO declarations (person_id, form, actor, origin, arrival_date, transport, close_contact, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, pid, string(in.Form), actorSubj, in.Origin, arrival,
			in.Transport, in.CloseContact, tx.Now).Scan(&declID); err != nil {
			return fmt.Errorf("insert declaration: %w", err)
		}
		ref := "declaration:" + strconv.FormatInt(declID, 10)
		if err := recordDeclarationFacts(ctx, tx, pid, &in, ref, actorSubj); err != nil {
			return err
		}
		codes, err := db.reevaluate(ctx, tx, []int64{pid}, ref)
		if err != nil {
			return err
		}
		code = codes[pid]
		person = &healthcode.Person{ID: pid, Name: in.Name, DocType: in.DocType, DocNumber: in.DocNumber, Phone: in.Phone,
			ResidenceCode: in.ResidenceCode, Address: in.Address, Employer: in.Employer, Relation: relation, CreatedAt: tx.Now}
		if a.Kind == healthcode.ActorStaff {
			person.Name, person.DocNumber, person.Phone, person.Address = pii.MaskName(in.Name), pii.MaskID(in.DocNumber), pii.MaskPhone(in.Phone), ""
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Role: db.roleFor(ctx, a, healthcode.PermPersonDeclare, in.ResidenceCode),
			RegionCode: in.ResidenceCode, Action: "person.declare", Object: "person:" + strconv.FormatInt(pid, 10),
			Detail: map[string]any{"form": string(in.Form), "declaration": declID, "colour": string(code.Colour)}})
	}()
	return person, code, declID, err
}

// writePerson writes a declaration's personal data to person pid, or to a
// new person when pid is 0, and returns the person's id: name, document,
// phone and address encrypted, looked up by keyed hash, shown masked.
func (db *DB) writePerson(ctx context.Context, tx *Tx, pid int64, in *healthcode.DeclarationInput, docHash []byte, residencePath string) (int64, error) {
	var phoneHash, phoneEnc []byte
	if in.Phone != "" {
		phoneHash, phoneEnc = db.PII.Hash("phone", in.Phone), db.PII.Encrypt(in.Phone)
	}
	var err error
	if pid != 0 {
		_, err = tx.Exec(ctx, `UPDATE persons SET name_enc = $2, name_masked = $3, phone_hash = $4, phone_enc = $5,
			phone_masked = $6, residence_code = $7, residence_path = $8::text::ltree, address_enc = $9, employer = '',
			employer_enc = $10, employer_masked = $11, updated_at = $12
			WHERE id = $1`, pid, db.PII.Encrypt(in.Name), pii.MaskName(in.Name), phoneHash, phoneEnc,
			pii.MaskPhone(in.Phone), in.ResidenceCode, residencePath, db.PII.Encrypt(in.Address),
			db.encryptOptional(in.Employer), pii.MaskText(in.Employer), tx.Now)
	} else {
		err = tx.QueryRow(ctx, `INSERT INTO persons (doc_type, doc_hash, doc_enc, doc_masked, name_enc, name_masked,
			phone_hash, phone_enc, phone_masked, residence_code, residence_path, address_enc, employer_enc, employer_masked,
			created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::ltree, $12, $13, $14, $15, $15) RETURNING id`,
			string(in.DocType), docHash, db.PII.Encrypt(in.DocNumber), pii.MaskID(in.DocNumber),
			db.PII.Encrypt(in.Name), pii.MaskName(in.Name), phoneHash, phoneEnc, pii.MaskPhone(in.Phone),
			in.ResidenceCode, residencePath, db.PII.Encrypt(in.Address), db.encryptOptional(in.Employer),
			pii.MaskText(in.Employer), tx.Now).Scan(&pid)
	}
	if err != nil {
		return 0, fmt.Errorf("write person: %w", err)
	}
	return pid, nil
}

// residentPhoneHash returns the keyed hash of a resident account's phone.
func (db *DB) residentPhoneHash(ctx context.Context, tx *Tx, accountID int64) []byte {
	var h []byte
	_ = tx.QueryRow(ctx, "SELECT phone_hash FROM resident_accounts WHERE id = $1", accountID).Scan(&h)
	return h
}

// recordDeclarationFacts writes the facts a declaration implies: the
// residence (ended and replaced when it moved), the travel history, the
// arrival, the temperature and symptoms, and a self-reported close contact.
func recordDeclarationFacts(ctx context.Context, tx *Tx, pid int64, in *healthcode.DeclarationInput, ref, actor string) error {
	var current *string
	err := tx.QueryRow(ctx, `SELECT place FROM stays WHERE person_id = $1 AND source = 'RESIDENCE' AND to_at IS NULL
		AND retracted_at IS NULL`, pid).Scan(&current)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("load residence: %w", err)
	}
	if current == nil || *current != in.ResidenceCode {
		if current != nil {
			if _, err := tx.Exec(ctx, `UPDATE stays SET to_at = $2 WHERE person_id = $1 AND source = 'RESIDENCE'
				AND to_at IS NULL AND retracted_at IS NULL`, pid, tx.Now); err != nil {
				return fmt.Errorf("end residence: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stays (person_id, place, place_path, from_at, source, source_ref, actor, created_at)
			VALUES ($1, $2, $3::text::ltree, $4, 'RESIDENCE', $5, $6, $4)`, pid, in.ResidenceCode, placePath(in.ResidenceCode), tx.Now, ref, actor); err != nil {
			return fmt.Errorf("record residence: %w", err)
		}
	}
	for _, t := range in.Travel {
		from, to := travelStay(t)
		if _, err := tx.Exec(ctx, `INSERT INTO stays (person_id, place, place_path, from_at, to_at, source, source_ref, actor, created_at)
			SELECT $1, $2, $3::text::ltree, $4, $5, 'TRAVEL', $6, $7, $8
			WHERE NOT EXISTS (SELECT 1 FROM stays WHERE person_id = $1 AND place = $2 AND from_at = $4 AND to_at = $5
			                  AND source = 'TRAVEL' AND retracted_at IS NULL)`,
			pid, t.Place, placePath(t.Place), from, to, ref, actor, tx.Now); err != nil {
			return fmt.Errorf("record travel: %w", err)
		}
	}
	if in.Form == healthcode.FormArrival {
		day := healthcode.DayStart(in.ArrivalDate)
		if _, err := tx.Exec(ctx, `INSERT INTO stays (person_id, place, place_path, from_at, to_at, source, source_ref, actor, created_at)
			SELECT $1, $2, $3::text::ltree, $4, $5, 'ARRIVAL', $6, $7, $8
			WHERE NOT EXISTS (SELECT 1 FROM stays WHERE person_id = $1 AND place = $2 AND to_at = $5 AND source = 'ARRIVAL'
			                  AND retracted_at IS NULL)`,
			pid, in.Origin, placePath(in.Origin), day, day.AddDate(0, 0, 1), ref, actor, tx.Now); err != nil {
			return fmt.Errorf("record arrival: %w", err)
		}
	}
	symptoms := in.Symptoms
	if symptoms == nil {
		symptoms = []string{}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO health_records (person_id, at, temperature, symptoms, source, source_ref, actor, created_at)
		VALUES ($1, $2, $3, $4, 'DECLARATION', $5, $6, $2)`, pid, tx.Now, in.Temperature, symptoms, ref, actor); err != nil {
		return fmt.Errorf("record health: %w", err)
	}
	if in.CloseContact {
		// A self-reported contact counts as a close contact until a health
		// officer investigates and retracts it (docs/rules.md).
		if _, err := tx.Exec(ctx, `INSERT INTO medical_events (person_id, kind, at, note, actor, created_at)
			VALUES ($1, 'CLOSE_CONTACT', $2, '本人申报密切接触史', $3, $2)`, pid, tx.Now, actor); err != nil {
			return fmt.Errorf("record close contact: %w", err)
		}
	}
	return nil
}

// ownPerson resolves the person a resident asks about: personID 0 is their
// own; otherwise it must be bound to their account. Errors: NOT_FOUND.
func ownPerson(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, a *healthcode.Actor, personID int64) (int64, error) {
	if a.Kind != healthcode.ActorResident {
		return 0, healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码")
	}
	var pid int64
	var err error
	if personID == 0 {
		err = q.QueryRow(ctx, "SELECT person_id FROM account_persons WHERE account_id = $1 AND relation = 'SELF'", a.ID).Scan(&pid)
	} else {
		err = q.QueryRow(ctx, "SELECT person_id FROM account_persons WHERE account_id = $1 AND person_id = $2", a.ID, personID).Scan(&pid)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码，请先申报")
	} else if err != nil {
		return 0, fmt.Errorf("look up own person: %w", err)
	}
	return pid, nil
}

// MyCode implements healthcode.CodeService.
func (s *CodeService) MyCode(ctx context.Context, personID int64) (*healthcode.Code, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	oc, err := s.DB.ownCode(ctx, a, personID)
	if err != nil {
		return nil, err
	}
	return oc.code, nil
}

// ownCodeColumns and ownCodeFrom read what the code page needs of a
// resident's person: the person bound to the account, its code id and
// masked name, its code with its effective rule-set version
// (code_rule_set_version written out, so that the planner inlines it: one
// index probe of code_evaluations under the published version) and the
// published version. ownCodeSQL reads it for the account $1 and its own
// person ($2 = 0) or dependent ($2); the resident session lookup reads it
// for the session's own person in the same statement (residentSessionSQL).
const (
	ownCodeColumns = `ap.person_id, p.code_id, p.name_masked, c.colour, c.clauses,
		CASE WHEN e.to_id > ap.person_id THEN e.rule_set_version ELSE c.rule_set_version END,
		c.updated_at, c.reevaluate_at, COALESCE(pub.version, '')`
	ownCodeFrom = `FROM account_persons ap
	JOIN persons p ON p.id = ap.person_id
	LEFT JOIN codes c ON c.person_id = ap.person_id
	LEFT JOIN rule_sets pub ON pub.status = 'PUBLISHED'
	LEFT JOIN LATERAL (SELECT ce.rule_set_version, ce.to_id FROM code_evaluations ce
		WHERE ce.rule_set_version = pub.version AND ce.from_id <= ap.person_id
		ORDER BY ce.from_id DESC LIMIT 1) e ON true`
	ownCodeSQL = `SELECT ` + ownCodeColumns + ` ` + ownCodeFrom + `
	WHERE ap.account_id = $1 AND (($2::bigint = 0 AND ap.relation = 'SELF') OR ap.person_id = $2)`
)

// ownCodeRow is one row of ownCodeColumns as scanned (all NULL when the
// resident session lookup found no own person).
type ownCodeRow struct {
	pid                     *int64
	codeID, masked          *string
	colour, version         *string
	clauses                 []byte
	updatedAt, reevaluateAt *time.Time
	published               *string
}

// dest returns the scan destinations of the row's columns.
func (r *ownCodeRow) dest() []any {
	return []any{&r.pid, &r.codeID, &r.masked, &r.colour, &r.clauses, &r.version, &r.updatedAt, &r.reevaluateAt, &r.published}
}

// prefetchedOwnCode is what a resident session lookup read of the
// session's own code (healthcode.Actor.Prefetched), usable for at most
// prefetchFor after the lookup and only by a read operation of the request.
type prefetchedOwnCode struct {
	row ownCodeRow
	at  time.Time // wall clock with its monotonic reading, not the platform clock
}

// prefetchFor bounds how long after a session lookup its prefetched code
// may stand for a read of the code (a websocket's actor lives as long as
// its connection: its operations read afresh).
const prefetchFor = time.Second

// ownCodeRead is what the code page shows of a resident's person.
type ownCodeRead struct {
	pid            int64
	codeID, masked string
	code           *healthcode.Code
}

// ownCodeKey is the memo key of a resident's code page read.
type ownCodeKey struct{ account, person int64 }

// ownCode reads the current code of the calling resident's own person
// (personID 0) or dependent with the person's code id and masked name: one
// statement, shared by the fields of one operation (healthcode.Memoize) —
// none for the own person in a read operation, whose session lookup read it
// (prefetchedOwnCode) — and the re-evaluation of currentCode when the code
// is due or of a retired rule set, so that no reader sees a stale colour.
// Errors: NOT_FOUND.
func (db *DB) ownCode(ctx context.Context, a *healthcode.Actor, personID int64) (*ownCodeRead, error) {
	if a.Kind != healthcode.ActorResident {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码")
	}
	return healthcode.Memoize(ctx, ownCodeKey{a.ID, personID}, func() (*ownCodeRead, error) {
		var row ownCodeRow
		if p, ok := a.Prefetched.(*prefetchedOwnCode); ok && personID == 0 && healthcode.HasRequestMemo(ctx) && time.Since(p.at) < prefetchFor {
			row = p.row
		} else {
			err := db.Pool.QueryRow(ctx, ownCodeSQL, a.ID, personID).Scan(row.dest()...)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码，请先申报")
			} else if err != nil {
				return nil, fmt.Errorf("read own code: %w", err)
			}
		}
		return db.ownCodeFromRow(ctx, &row)
	})
}

// ownCodeFromRow makes the code page's read of row, re-evaluating the code
// first when it is due or of a retired rule set. Errors: NOT_FOUND.
func (db *DB) ownCodeFromRow(ctx context.Context, row *ownCodeRow) (*ownCodeRead, error) {
	if row.pid == nil || row.colour == nil || row.codeID == nil || row.masked == nil || row.version == nil || row.updatedAt == nil {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码，请先申报")
	}
	oc := &ownCodeRead{pid: *row.pid, codeID: *row.codeID, masked: *row.masked}
	published := ""
	if row.published != nil {
		published = *row.published
	}
	c := &healthcode.Code{PersonID: oc.pid, Colour: healthcode.Colour(*row.colour), RuleSetVersion: *row.version,
		UpdatedAt: *row.updatedAt, ReevaluateAt: row.reevaluateAt}
	if err := json.Unmarshal(row.clauses, &c.Clauses); err != nil {
		return nil, fmt.Errorf("decode clauses of %d: %w", oc.pid, err)
	}
	switch {
	case (c.ReevaluateAt != nil && !c.ReevaluateAt.After(db.now())) || (published != "" && published != c.RuleSetVersion):
		// Due, or of a retired rule set: re-evaluated first.
		var err error
		if c, err = db.currentCode(ctx, oc.pid); err != nil {
			return nil, err
		}
	case c.Colour == healthcode.Green:
		rs, err := ruleSetByVersion(ctx, db.Pool, c.RuleSetVersion)
		if err != nil {
			return nil, fmt.Errorf("rule set of code %d: %w", oc.pid, err)
		}
		withGreenClause(c, rs)
	}
	oc.code = c
	return oc, nil
}

// currentCode reads a code, re-evaluating it first when its reevaluate_at
// has passed or it was computed under a rule set no longer in force (its
// effective version, code_rule_set_version, is not the published one), so
// that no reader ever sees a stale colour. A green code comes with clause G
// of its rule set. Errors: NOT_FOUND (no code yet).
func (db *DB) currentCode(ctx context.Context, pid int64) (*healthcode.Code, error) {
	codes, err := db.currentCodes(ctx, []int64{pid})
	if err != nil {
		return nil, err
	}
	if codes[pid] == nil {
		return nil, healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码，请先申报")
	}
	return codes[pid], nil
}

// currentCodes is currentCode for several persons, by person id (absent:
// no code yet): two statements to read them, and at most two transactions
// to re-evaluate the ones due (cause "time") and the ones of a retired rule
// set (cause "ruleset:<published>"), whatever their number.
func (db *DB) currentCodes(ctx context.Context, pids []int64) (map[int64]*healthcode.Code, error) {
	codes, err := db.readCodes(ctx, pids)
	if err != nil {
		return nil, err
	}
	var published string
	if err := db.Pool.QueryRow(ctx, "SELECT version FROM rule_sets WHERE status = 'PUBLISHED'").Scan(&published); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("published rule set: %w", err)
	}
	now := db.now()
	var due, retired []int64
	for _, pid := range pids {
		code := codes[pid]
		switch {
		case code == nil:
		case code.ReevaluateAt != nil && !code.ReevaluateAt.After(now):
			due = append(due, pid)
		case published != "" && published != code.RuleSetVersion:
			retired = append(retired, pid)
		case code.Colour == healthcode.Green:
			rs, err := ruleSetByVersion(ctx, db.Pool, code.RuleSetVersion)
			if err != nil {
				return nil, fmt.Errorf("rule set of code %d: %w", pid, err)
			}
			withGreenClause(code, rs)
		}
	}
	// Separate transactions: each locks its persons in id order.
	for _, group := range []struct {
		pids  []int64
		cause string
	}{{due, "time"}, {retired, "ruleset:" + published}} {
		if len(group.pids) == 0 {
			continue
		}
		if err := db.InTx(ctx, func(tx *Tx) error {
			fresh, err := db.reevaluate(ctx, tx, group.pids, group.cause)
			for _, pid := range group.pids {
				codes[pid] = fresh[pid]
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// readCodes reads the stored codes of persons, by person id.
func (db *DB) readCodes(ctx context.Context, pids []int64) (map[int64]*healthcode.Code, error) {
	// The effective rule-set version: a code a bulk re-evaluation left
	// unchanged keeps its stored label (docs/rules.md).
	rows, err := db.Pool.Query(ctx, `SELECT person_id, colour, clauses, code_rule_set_version(person_id, rule_set_version),
		updated_at, reevaluate_at FROM codes WHERE person_id = ANY($1)`, pids)
	if err != nil {
		return nil, fmt.Errorf("read codes: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Code, error) {
		c := &healthcode.Code{}
		var colour string
		var clauses []byte
		if err := r.Scan(&c.PersonID, &colour, &clauses, &c.RuleSetVersion, &c.UpdatedAt, &c.ReevaluateAt); err != nil {
			return nil, err
		}
		c.Colour = healthcode.Colour(colour)
		if err := json.Unmarshal(clauses, &c.Clauses); err != nil {
			return nil, fmt.Errorf("decode clauses of %d: %w", c.PersonID, err)
		}
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read codes: %w", err)
	}
	out := make(map[int64]*healthcode.Code, len(list))
	for _, c := range list {
		out[c.PersonID] = c
	}
	return out, nil
}

// CodesOf implements healthcode.CodeService.
func (s *CodeService) CodesOf(ctx context.Context, personIDs []int64) ([]*healthcode.Code, []error) {
	out := make([]*healthcode.Code, len(personIDs))
	errs := make([]error, len(personIDs))
	fail := func(err error) ([]*healthcode.Code, []error) {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	a, err := actor(ctx)
	if err != nil {
		return fail(err)
	}
	switch a.Kind {
	case healthcode.ActorResident:
		rows, err := s.DB.Pool.Query(ctx, "SELECT person_id FROM account_persons WHERE account_id = $1 AND person_id = ANY($2)",
			a.ID, personIDs)
		if err != nil {
			return fail(fmt.Errorf("look up own persons: %w", err))
		}
		own, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fail(fmt.Errorf("look up own persons: %w", err))
		}
		for i, pid := range personIDs {
			if !slices.Contains(own, pid) {
				errs[i] = healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码，请先申报")
			}
		}
	case healthcode.ActorStaff, healthcode.ActorSystem:
		rows, err := s.DB.Pool.Query(ctx, "SELECT id, residence_code FROM persons WHERE id = ANY($1)", personIDs)
		if err != nil {
			return fail(fmt.Errorf("read residences: %w", err))
		}
		residence := map[int64]string{}
		var id int64
		var region string
		if _, err := pgx.ForEachRow(rows, []any{&id, &region}, func() error { residence[id] = region; return nil }); err != nil {
			return fail(fmt.Errorf("read residences: %w", err))
		}
		for i, pid := range personIDs {
			region, ok := residence[pid]
			if !ok {
				errs[i] = healthcode.Errorf(healthcode.ENOTFOUND, "人员不存在")
			} else {
				errs[i] = s.DB.authorize(ctx, a, healthcode.PermPersonRead, region, seenWith("人员不存在", healthcode.PermPersonRead))
			}
		}
	default:
		return fail(healthcode.ErrForbidden)
	}
	var readable []int64
	for i, pid := range personIDs {
		if errs[i] == nil {
			readable = append(readable, pid)
		}
	}
	if len(readable) == 0 {
		return out, errs
	}
	codes, err := s.DB.currentCodes(ctx, readable)
	if err != nil {
		return fail(err)
	}
	for i, pid := range personIDs {
		if errs[i] != nil {
			continue
		}
		if out[i] = codes[pid]; out[i] == nil {
			errs[i] = healthcode.Errorf(healthcode.ENOTFOUND, "未找到健康码，请先申报")
		}
	}
	return out, errs
}

// MyPersons implements healthcode.CodeService.
func (s *CodeService) MyPersons(ctx context.Context) ([]*healthcode.Person, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorResident {
		return []*healthcode.Person{}, nil
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT p.id, p.doc_type, p.doc_enc, p.name_enc, p.phone_enc, p.residence_code,
		p.address_enc, p.employer_enc, ap.relation, p.created_at
		FROM account_persons ap JOIN persons p ON p.id = ap.person_id
		WHERE ap.account_id = $1 ORDER BY ap.relation DESC, p.id`, a.ID)
	if err != nil {
		return nil, fmt.Errorf("list own persons: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*healthcode.Person, error) {
		var p healthcode.Person
		var docType string
		var doc, name, phone, addr, employer []byte
		if err := row.Scan(&p.ID, &docType, &doc, &name, &phone, &p.ResidenceCode, &addr, &employer, &p.Relation, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan person: %w", err)
		}
		p.DocType = healthcode.DocType(docType)
		return &p, s.DB.decryptAll(map[*string][]byte{&p.DocNumber: doc, &p.Name: name, &p.Phone: phone, &p.Address: addr,
			&p.Employer: employer})
	})
	if err != nil {
		return nil, fmt.Errorf("list own persons: %w", err)
	}
	if len(out) > 0 { // every unmasked read is audited, the person's own included
		ids := make([]int64, len(out))
		for i, p := range out {
			ids[i] = p.ID
		}
		err = s.DB.InTx(ctx, func(tx *Tx) error {
			return auditUnmaskedRead(ctx, tx, ids, out[0].ResidenceCode, "本人或监护人查看")
		})
	}
	return out, err
}

func (db *DB) decryptAll(fields map[*string][]byte) error {
	for dst, sealed := range fields {
		if sealed == nil {
			continue
		}
		v, err := db.PII.Decrypt(sealed)
		if err != nil {
			return fmt.Errorf("decrypt personal data: %w", err)
		}
		*dst = v
	}
	return nil
}

// CheckIn implements healthcode.CodeService.
func (s *CodeService) CheckIn(ctx context.Context, personID int64, in healthcode.CheckIn) (*healthcode.Code, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	pid, err := ownPerson(ctx, s.DB.Pool, a, personID)
	if err != nil {
		return nil, err
	}
	symptoms := in.Symptoms
	if symptoms == nil {
		symptoms = []string{}
	}
	var code *healthcode.Code
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO health_records (person_id, at, temperature, symptoms, source, actor, created_at)
			VALUES ($1, $2, $3, $4, 'CHECKIN', $5, $2) RETURNING id`, pid, tx.Now, in.Temperature, symptoms, a.Subject()).Scan(&id); err != nil {
			return fmt.Errorf("record check-in: %w", err)
		}
		codes, err := s.DB.reevaluate(ctx, tx, []int64{pid}, "checkin:"+strconv.FormatInt(id, 10))
		code = codes[pid]
		return err
	})
	return code, err
}

// CodeHistory implements healthcode.CodeService.
func (s *CodeService) CodeHistory(ctx context.Context, personID int64) ([]*healthcode.CodeChange, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	pid, err := s.DB.readablePerson(ctx, a, personID, healthcode.AccessCodeHistory)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, person_id, COALESCE(from_colour, ''), to_colour, clause_ids, rule_set_version,
		cause, actor, at FROM code_history WHERE person_id = $1 ORDER BY id`, pid)
	if err != nil {
		return nil, fmt.Errorf("list code history: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.CodeChange, error) {
		var c healthcode.CodeChange
		var from, to string
		err := r.Scan(&c.ID, &c.PersonID, &from, &to, &c.ClauseIDs, &c.RuleSetVersion, &c.Cause, &c.Actor, &c.At)
		c.From, c.To = healthcode.Colour(from), healthcode.Colour(to)
		return &c, err
	})
}
