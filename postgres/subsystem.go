package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
	"healthcode/rules"
)

// SubsystemService implements healthcode.SubsystemService: pushes of city
// sub-systems in the unified format and the deviations between their colours
// and the unified rules (docs/exchange.md).
//
// The unified rules are authoritative. A record's colour is never written to
// the platform's code: the record's data (residence, travel, temperature,
// symptoms) is entered as a declaration of the person, like any declaration,
// and the person's code is re-evaluated through the single re-evaluation
// path (reevaluate) with everything the platform knows about the person
// (area risks, medical events, scans, designations). The sub-system's colour
// is only compared with the result: a difference is a deviation.
type SubsystemService struct{ DB *DB }

var _ healthcode.SubsystemService = (*SubsystemService)(nil)

// subsystemLockSpace is the first key of the advisory locks that serialise
// concurrent pushes of the same record.
const subsystemLockSpace = 7002

// pushItem is a record of a push that passed validation.
type pushItem struct {
	idx      int
	rec      healthcode.SubsystemRecord
	in       healthcode.DeclarationInput
	path     string // ltree path of the residence
	hash     []byte
	docHash  []byte // keyed hash of the document
	pid      int64
	declID   int64
	existing bool
}

// PushRecords implements healthcode.SubsystemService. Only machine clients
// (city sub-system API keys) holding exchange.push at their city may call it.
// Errors: UNAUTHENTICATED, FORBIDDEN (not a sub-system key), INVALID (empty
// batch or more than healthcode.MaxSubsystemBatch records).
func (s *SubsystemService) PushRecords(ctx context.Context, records []healthcode.SubsystemRecord) (*healthcode.SubsystemPushResult, error) {
	db := s.DB
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind != healthcode.ActorMachine {
		return nil, healthcode.ErrForbidden
	}
	city := a.RegionCode
	if err := db.authorize(ctx, a, healthcode.PermExchangePush, city); err != nil {
		return nil, err
	}
	if len(records) == 0 || len(records) > healthcode.MaxSubsystemBatch {
		return nil, healthcode.Errorf(healthcode.EINVALID, "每批应推送 1 至 %d 条记录", healthcode.MaxSubsystemBatch)
	}
	now := db.now()
	res := &healthcode.SubsystemPushResult{Records: make([]healthcode.SubsystemRecordResult, len(records))}
	reject := func(i int, reason, msg string) {
		res.Records[i].Status, res.Records[i].Reason, res.Records[i].Message = healthcode.SubsystemRejected, reason, msg
	}
	var items []*pushItem
	seen := map[string]bool{}
	for i, r := range records {
		res.Records[i].RecordID = r.RecordID
		it, reason, err := s.checkRecord(ctx, a, r, now)
		if err != nil {
			if healthcode.ErrorCode(err) == healthcode.EINTERNAL {
				return nil, err
			}
			reject(i, reason, healthcode.ErrorMessage(err))
			continue
		}
		if seen[r.RecordID] {
			reject(i, healthcode.RejectDuplicateInBat, "同一批次中记录编号重复："+r.RecordID)
			continue
		}
		seen[r.RecordID] = true
		it.idx = i
		items = append(items, it)
	}
	if err := s.regionPaths(ctx, items, func(it *pushItem) {
		reject(it.idx, healthcode.RejectInvalid, "region：现住地地区代码不存在")
	}); err != nil {
		return nil, err
	}
	items = slices.DeleteFunc(items, func(it *pushItem) bool { return it.path == "" })

	err = db.InTx(ctx, func(tx *Tx) error { return s.pushTx(ctx, tx, a, items, res, reject) })
	if err != nil {
		return nil, err
	}
	for _, r := range res.Records {
		switch r.Status {
		case healthcode.SubsystemAccepted:
			res.Accepted++
		case healthcode.SubsystemDuplicate:
			res.Duplicates++
		case healthcode.SubsystemPending:
			res.Pending++
		default:
			res.Rejected++
		}
		switch r.Deviation {
		case healthcode.DeviationOpened:
			res.DeviationsOpened++
		case healthcode.DeviationClosed:
			res.DeviationsClosed++
		}
	}
	return res, nil
}

// pushTx writes the checked records of a push inside tx. A record that
// would make its person red or take them out of red (a trip abroad, or a
// re-push that drops the travel behind a red) does not take effect: the push
// is tried in a savepoint, and the records of every person whose colour
// crossed red become colour change requests (PENDING_APPROVAL) that a health
// officer of the residence — another natural person than the key's creator —
// approves (docs/security-colour.md); the other records are written again
// without them. Yellow- and green-making records take effect at once.
func (s *SubsystemService) pushTx(ctx context.Context, tx *Tx, a *healthcode.Actor, items []*pushItem,
	res *healthcode.SubsystemPushResult, reject func(int, string, string)) error {
	db := s.DB
	for _, it := range items {
		it.docHash = db.PII.Hash("doc:"+string(it.in.DocType), it.in.DocNumber)
	}
	var trial *colourTrial
	if !changesAlone(ctx, a) && len(items) > 0 {
		hashes := make([][]byte, len(items))
		types := make([]string, len(items))
		for i, it := range items {
			hashes[i], types[i] = it.docHash, string(it.in.DocType)
		}
		rows, err := tx.Query(ctx, `SELECT p.id FROM persons p JOIN unnest($1::text[], $2::bytea[]) AS u(t, h)
			ON p.doc_type = u.t AND p.doc_hash = u.h ORDER BY p.id`, types, hashes)
		if err != nil {
			return fmt.Errorf("look up persons: %w", err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("look up persons: %w", err)
		}
		if trial, err = db.beginTrial(ctx, tx, slices.Compact(pids)); err != nil {
			return err
		}
	}
	accepted, codes, err := s.writeAndEvaluate(ctx, tx, a, items, res, reject)
	if err != nil || trial == nil {
		if err == nil {
			err = s.compare(ctx, tx, a, accepted, res, codes)
		}
		return err
	}
	crossed := map[string]bool{} // by document: a new person's id is rolled back
	for _, it := range accepted {
		if trial.turnsRed(map[int64]*healthcode.Code{it.pid: codes[it.pid]}) {
			crossed[string(it.in.DocType)+string(it.docHash)] = true
		}
	}
	wrote := map[*pushItem]bool{}
	for _, it := range accepted {
		wrote[it] = crossed[string(it.in.DocType)+string(it.docHash)]
	}
	if len(crossed) == 0 {
		if err := trial.keep(ctx, tx); err != nil {
			return err
		}
		return s.compare(ctx, tx, a, accepted, res, codes)
	}
	if err := trial.undo(ctx, tx); err != nil {
		return err
	}
	var rest []*pushItem
	for _, it := range items {
		if !wrote[it] {
			res.Records[it.idx] = healthcode.SubsystemRecordResult{RecordID: it.rec.RecordID}
			rest = append(rest, it)
			continue
		}
		var pid int64
		if code := trial.codes[it.pid]; code != nil {
			pid = it.pid
		}
		req, err := s.requestRecord(ctx, tx, a, it, pid)
		if err != nil {
			return err
		}
		res.Records[it.idx] = healthcode.SubsystemRecordResult{RecordID: it.rec.RecordID, Status: healthcode.SubsystemPending,
			Updated: it.existing, RequestID: req}
		if code := trial.codes[pid]; code != nil {
			res.Records[it.idx].UnifiedColour = code.Colour
		}
	}
	if accepted, codes, err = s.writeAndEvaluate(ctx, tx, a, rest, res, reject); err != nil {
		return err
	}
	return s.compare(ctx, tx, a, accepted, res, codes)
}

// writeAndEvaluate writes the records (writeRecords) and re-evaluates the
// persons of the accepted ones through the single re-evaluation path.
func (s *SubsystemService) writeAndEvaluate(ctx context.Context, tx *Tx, a *healthcode.Actor, items []*pushItem,
	res *healthcode.SubsystemPushResult, reject func(int, string, string)) ([]*pushItem, map[int64]*healthcode.Code, error) {
	accepted, err := s.writeRecords(ctx, tx, a, items, res, reject)
	if err != nil || len(accepted) == 0 {
		return nil, nil, err
	}
	pids := make([]int64, len(accepted))
	for i, it := range accepted {
		pids[i] = it.pid
	}
	codes, err := s.DB.reevaluate(ctx, tx, pids, "subsystem:"+a.RegionCode)
	return accepted, codes, err
}

// pendingRecord is what a SUBSYSTEM colour change request replays on approval.
type pendingRecord struct {
	Record  healthcode.SubsystemRecord  `json:"record"`
	Input   healthcode.DeclarationInput `json:"input"`
	Hash    []byte                      `json:"hash"`
	Path    string                      `json:"path"`
	DocHash []byte                      `json:"docHash"`
}

// requestRecord makes the record it a colour change request of the key a
// (pid: the person, 0 for a new one), or answers the pending request of the
// same record with the same content. It returns the request's id.
func (s *SubsystemService) requestRecord(ctx context.Context, tx *Tx, a *healthcode.Actor, it *pushItem, pid int64) (int64, error) {
	db := s.DB
	key := a.RegionCode + ":" + it.rec.RecordID + ":" + hex.EncodeToString(it.hash)
	var id int64
	var expired bool
	err := tx.QueryRow(ctx, `SELECT id, expires_at <= $2 FROM colour_requests WHERE record_key = $1 AND status = 'PENDING' FOR UPDATE`,
		key, tx.Now).Scan(&id, &expired)
	switch {
	case err == nil && !expired:
		return id, nil
	case err == nil:
		if _, err := tx.Exec(ctx, "UPDATE colour_requests SET record_key = NULL WHERE id = $1", id); err != nil {
			return 0, fmt.Errorf("release expired request: %w", err)
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("look up pending record: %w", err)
	}
	summary := fmt.Sprintf("市级子系统（%s）推送记录 %s：%s", a.RegionCode, it.rec.RecordID, pii.MaskName(it.in.Name))
	req, err := db.requestColourChange(ctx, tx, a, healthcode.ColourOpSubsystem, pid, it.in.ResidenceCode,
		colourPayload{Subsystem: &pendingRecord{Record: it.rec, Input: it.in, Hash: it.hash, Path: it.path, DocHash: it.docHash}}, summary)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "UPDATE colour_requests SET record_key = $2 WHERE id = $1", req.ID, key); err != nil {
		return 0, fmt.Errorf("key pending record: %w", err)
	}
	return req.ID, nil
}

// applyApproved writes a pending record of the key a, approved by a health
// officer (ctx carries the approval), and compares it as a push would. It
// returns the declaration's id. Errors: FORBIDDEN (the key was revoked, or
// the residence is no longer inside its city), CONFLICT (the record was
// pushed again meanwhile with this content, or its person is now registered
// in another city).
func (s *SubsystemService) applyApproved(ctx context.Context, tx *Tx, a *healthcode.Actor, p *pendingRecord) (int64, error) {
	if !healthcode.RegionInside(p.Input.ResidenceCode, a.RegionCode) {
		return 0, healthcode.Errorf(healthcode.EFORBIDDEN, "现住地不在该 API 密钥所属地市内")
	}
	it := &pushItem{rec: p.Record, in: p.Input, hash: p.Hash, path: p.Path, docHash: p.DocHash}
	res := &healthcode.SubsystemPushResult{Records: make([]healthcode.SubsystemRecordResult, 1)}
	var rejected string
	accepted, codes, err := s.writeAndEvaluate(ctx, tx, a, []*pushItem{it}, res, func(_ int, _, msg string) { rejected = msg })
	if err != nil {
		return 0, err
	}
	switch {
	case rejected != "":
		return 0, healthcode.Errorf(healthcode.ECONFLICT, "%s", rejected)
	case len(accepted) == 0:
		return 0, healthcode.Errorf(healthcode.ECONFLICT, "该记录已以相同内容推送")
	}
	if err := s.compare(ctx, tx, a, accepted, res, codes); err != nil {
		return 0, err
	}
	return it.declID, nil
}

// checkRecord validates one record against the key's city and turns it into
// a declaration. It returns the rejection reason with an INVALID (or
// FORBIDDEN) error.
func (s *SubsystemService) checkRecord(ctx context.Context, a *healthcode.Actor, r healthcode.SubsystemRecord, now time.Time) (*pushItem, string, error) {
	if err := r.Validate(now); err != nil {
		return nil, healthcode.RejectInvalid, err
	}
	if r.Issuer != a.RegionCode {
		return nil, healthcode.RejectIssuer, healthcode.FieldError("issuer", "发码机构 %s 与 API 密钥所属地市 %s 不一致", healthcode.Truncate(r.Issuer, 16), a.RegionCode)
	}
	if _, ok := healthcode.LevelOfCode(r.Region); !ok {
		return nil, healthcode.RejectInvalid, healthcode.FieldError("region", "现住地应为陕西省内村（社区）或小区的地区代码")
	}
	outside := healthcode.FieldError("region", "现住地 %s 不在本市（%s）辖区内", r.Region, a.RegionCode)
	if err := s.DB.authorize(ctx, a, healthcode.PermExchangePush, r.Region, refusedWith(outside)); err == outside {
		return nil, healthcode.RejectOutsideCity, err
	} else if err != nil {
		return nil, "", err
	}
	// Travel that ended before the 14-day window cannot be declared and
	// cannot matter; it is left out rather than rejecting the record.
	earliest := healthcode.DayStart(now).Add(-healthcode.DeclarationWindow)
	travel := make([]healthcode.TravelEntry, 0, len(r.Travel))
	for _, t := range r.Travel {
		if !healthcode.DayStart(t.To).Before(earliest) {
			travel = append(travel, t)
		}
	}
	in := healthcode.DeclarationInput{Form: healthcode.FormResident, Name: r.Name, DocType: r.DocType, DocNumber: r.DocNumber,
		Phone: r.Phone, ResidenceCode: r.Region, Address: r.Address, Travel: travel, Temperature: r.Temperature,
		Symptoms: r.Symptoms}
	if err := in.Validate(now, false); err != nil {
		return nil, healthcode.RejectInvalid, err
	}
	// The content hash covers the normalised record: the same record pushed
	// again with cosmetic differences (spaces) is still a duplicate.
	r.Name, r.DocNumber, r.Phone, r.Address, r.Travel = in.Name, in.DocNumber, in.Phone, in.Address, nil
	r.IssuedAt = r.IssuedAt.UTC()
	canon, err := json.Marshal(struct {
		R      healthcode.SubsystemRecord
		Travel []healthcode.TravelEntry
	}{r, in.Travel})
	if err != nil {
		return nil, "", fmt.Errorf("encode record: %w", err)
	}
	return &pushItem{rec: r, in: in, hash: s.DB.PII.Hash("subsystem:"+a.RegionCode, string(canon))}, "", nil
}

// regionPaths sets the ltree path of every item's residence; items whose
// region does not exist are passed to missing and keep an empty path.
func (s *SubsystemService) regionPaths(ctx context.Context, items []*pushItem, missing func(*pushItem)) error {
	if len(items) == 0 {
		return nil
	}
	codes := make([]string, len(items))
	for i, it := range items {
		codes[i] = it.in.ResidenceCode
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT code, path::text FROM regions WHERE code = ANY($1)", codes)
	if err != nil {
		return fmt.Errorf("look up regions: %w", err)
	}
	paths := map[string]string{}
	var code, path string
	if _, err := pgx.ForEachRow(rows, []any{&code, &path}, func() error { paths[code] = path; return nil }); err != nil {
		return fmt.Errorf("look up regions: %w", err)
	}
	for _, it := range items {
		if it.path = paths[it.in.ResidenceCode]; it.path == "" {
			missing(it)
		}
	}
	return nil
}

// writeRecords sorts the items into duplicates and accepted records and
// writes the person, the declaration and its facts of each accepted one. It
// returns the accepted items.
func (s *SubsystemService) writeRecords(ctx context.Context, tx *Tx, a *healthcode.Actor, items []*pushItem,
	res *healthcode.SubsystemPushResult, reject func(int, string, string)) ([]*pushItem, error) {
	db, city := s.DB, a.RegionCode
	if len(items) == 0 {
		return nil, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.rec.RecordID
	}
	// Concurrent pushes of the same records wait for each other.
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, hashtext($2 || ':' || x))
		FROM unnest($3::text[]) WITH ORDINALITY AS u(x, ord) ORDER BY ord`, subsystemLockSpace, city, sorted); err != nil {
		return nil, fmt.Errorf("lock records: %w", err)
	}
	type stored struct {
		hash    []byte
		unified string
		open    bool
	}
	known := map[string]stored{}
	rows, err := tx.Query(ctx, `SELECT r.record_id, r.content_hash, r.unified_colour,
		EXISTS (SELECT 1 FROM subsystem_deviations d WHERE d.city_code = r.city_code AND d.record_id = r.record_id AND d.corrected_at IS NULL)
		FROM subsystem_records r WHERE r.city_code = $1 AND r.record_id = ANY($2)`, city, ids)
	if err != nil {
		return nil, fmt.Errorf("load records: %w", err)
	}
	var id string
	var st stored
	if _, err := pgx.ForEachRow(rows, []any{&id, &st.hash, &st.unified, &st.open}, func() error { known[id] = st; return nil }); err != nil {
		return nil, fmt.Errorf("load records: %w", err)
	}
	subj := a.Subject()
	var accepted []*pushItem
	for _, it := range items {
		out := &res.Records[it.idx]
		st, existing := known[it.rec.RecordID]
		if existing && string(st.hash) == string(it.hash) {
			out.Status, out.UnifiedColour = healthcode.SubsystemDuplicate, healthcode.Colour(st.unified)
			if st.open {
				out.Deviation = healthcode.DeviationStillOpen
			}
			continue
		}
		in := &it.in
		docHash := it.docHash
		var pid int64
		var residence string
		err := tx.QueryRow(ctx, `SELECT id, residence_code FROM persons WHERE doc_type = $1 AND doc_hash = $2 FOR UPDATE`,
			string(in.DocType), docHash).Scan(&pid, &residence)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("look up person: %w", err)
		}
		if pid != 0 && !healthcode.RegionInside(residence, city) {
			// As for community staff: a person registered elsewhere is changed
			// by their own declaration or their own region, not by this city.
			reject(it.idx, healthcode.RejectPersonElse, "该人员登记的现住地不在本市，须由本人申报或现住地更新")
			continue
		}
		if pid, err = db.writePerson(ctx, tx, pid, in, docHash, it.path); err != nil {
			return nil, err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO declarations (person_id, form, actor, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, pid, string(in.Form), subj, tx.Now).Scan(&it.declID); err != nil {
			return nil, fmt.Errorf("insert declaration: %w", err)
		}
		if err := recordDeclarationFacts(ctx, tx, pid, in, "declaration:"+strconv.FormatInt(it.declID, 10), subj); err != nil {
			return nil, err
		}
		it.pid, it.existing = pid, existing
		out.Status, out.Updated = healthcode.SubsystemAccepted, existing
		accepted = append(accepted, it)
	}
	return accepted, nil
}

// compare takes the codes of the accepted records' persons as re-evaluated
// (writeAndEvaluate), stores the records with both colours, opens,
// updates or closes their deviations, counts the data day's arrival and
// audits every record.
func (s *SubsystemService) compare(ctx context.Context, tx *Tx, a *healthcode.Actor, accepted []*pushItem, res *healthcode.SubsystemPushResult,
	codes map[int64]*healthcode.Code) error {
	if len(accepted) == 0 {
		return nil
	}
	city := a.RegionCode
	greens, err := s.greenClauses(ctx, tx, accepted, codes)
	if err != nil {
		return err
	}
	days := map[string]int{}
	recs := make([]healthcode.AuditRecord, 0, len(accepted)+1)
	for _, it := range accepted {
		out := &res.Records[it.idx]
		code := codes[it.pid]
		if code == nil {
			return fmt.Errorf("no code for person %d after re-evaluation", it.pid)
		}
		out.UnifiedColour = code.Colour
		if _, err := tx.Exec(ctx, `INSERT INTO subsystem_records (city_code, record_id, content_hash, person_id, region_code,
				region_path, colour, unified_colour, issued_at, declaration_id, api_key_id, first_received_at, received_at)
			VALUES ($1, $2, $3, $4, $5, $6::text::ltree, $7, $8, $9, $10, $11, $12, $12)
			ON CONFLICT (city_code, record_id) DO UPDATE SET content_hash = EXCLUDED.content_hash,
				person_id = EXCLUDED.person_id, region_code = EXCLUDED.region_code, region_path = EXCLUDED.region_path,
				colour = EXCLUDED.colour, unified_colour = EXCLUDED.unified_colour, issued_at = EXCLUDED.issued_at,
				declaration_id = EXCLUDED.declaration_id, api_key_id = EXCLUDED.api_key_id,
				versions = subsystem_records.versions + 1, received_at = EXCLUDED.received_at`,
			city, it.rec.RecordID, it.hash, it.pid, it.in.ResidenceCode, it.path, string(it.rec.Colour),
			string(code.Colour), it.rec.IssuedAt, it.declID, a.ID, tx.Now); err != nil {
			return fmt.Errorf("write record %s: %w", it.rec.RecordID, err)
		}
		if out.Deviation, err = s.updateDeviation(ctx, tx, a, it, code, greens[it.pid]); err != nil {
			return err
		}
		days[healthcode.DayStart(it.rec.IssuedAt).Format(time.DateOnly)]++
		recs = append(recs, healthcode.AuditRecord{Role: healthcode.RoleSubsystem, RegionCode: it.in.ResidenceCode,
			Action: "subsystem.record", Object: "person:" + strconv.FormatInt(it.pid, 10),
			Reason: "subsystem:" + city + ":" + it.rec.RecordID,
			Detail: map[string]any{"city": city, "recordId": it.rec.RecordID, "updated": it.existing,
				"declaration": it.declID, "subsystemColour": string(it.rec.Colour), "unifiedColour": string(code.Colour),
				"ruleSet": code.RuleSetVersion, "deviation": out.Deviation}})
	}
	for day, n := range days {
		if _, err := tx.Exec(ctx, `INSERT INTO subsystem_pushes (city_code, day, first_at, last_at, records)
			VALUES ($1, $2::date, $3, $3, $4)
			ON CONFLICT (city_code, day) DO UPDATE SET first_at = LEAST(subsystem_pushes.first_at, EXCLUDED.first_at),
				last_at = GREATEST(subsystem_pushes.last_at, EXCLUDED.last_at), records = subsystem_pushes.records + EXCLUDED.records`,
			city, day, tx.Now, n); err != nil {
			return fmt.Errorf("count push of %s: %w", day, err)
		}
	}
	// The supervision indicators of these days (timeliness of the data days,
	// deviations of today) are recomputed by the indicator worker.
	tx.MarkIndicatorDays(tx.Now)
	for day := range days {
		d, err := time.ParseInLocation(time.DateOnly, day, rules.CST)
		if err != nil {
			return err
		}
		tx.MarkIndicatorDays(d)
	}
	return tx.AuditBatch(ctx, recs)
}

// greenClauses explains the unified GREEN of the persons whose record says
// otherwise (clause G with the reason), from their facts under the
// published rule set.
func (s *SubsystemService) greenClauses(ctx context.Context, tx *Tx, accepted []*pushItem, codes map[int64]*healthcode.Code) (map[int64]healthcode.CodeClause, error) {
	var ids []int64
	for _, it := range accepted {
		if c := codes[it.pid]; c != nil && c.Colour == healthcode.Green && it.rec.Colour != healthcode.Green {
			ids = append(ids, it.pid)
		}
	}
	out := map[int64]healthcode.CodeClause{}
	if len(ids) == 0 {
		return out, nil
	}
	rs, err := publishedRuleSet(ctx, tx)
	if err != nil {
		return nil, err
	}
	facts, err := loadFacts(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for _, pid := range ids {
		cr := rules.ExplainGreen(facts[pid], rs, tx.Now)
		out[pid] = clauseOf(&cr)
	}
	return out, nil
}

// updateDeviation opens a deviation when the record's colour differs from the
// unified colour (or brings the open one up to date), and closes the open
// one when they agree. It returns OPENED, OPEN, CLOSED or "".
func (s *SubsystemService) updateDeviation(ctx context.Context, tx *Tx, a *healthcode.Actor, it *pushItem, code *healthcode.Code, green healthcode.CodeClause) (string, error) {
	city := a.RegionCode
	var openID int64
	err := tx.QueryRow(ctx, `SELECT id FROM subsystem_deviations WHERE city_code = $1 AND record_id = $2 AND corrected_at IS NULL`,
		city, it.rec.RecordID).Scan(&openID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("look up deviation: %w", err)
	}
	if it.rec.Colour == code.Colour {
		if openID == 0 {
			return "", nil
		}
		if _, err := tx.Exec(ctx, `UPDATE subsystem_deviations SET corrected_at = $2, corrected_by = $3, updated_at = $2
			WHERE id = $1`, openID, tx.Now, a.Subject()); err != nil {
			return "", fmt.Errorf("close deviation %d: %w", openID, err)
		}
		return healthcode.DeviationClosed, nil
	}
	clauses := code.Clauses
	if code.Colour == healthcode.Green {
		clauses = []healthcode.CodeClause{green}
	}
	body, err := json.Marshal(clauses)
	if err != nil {
		return "", err
	}
	if openID != 0 {
		if _, err := tx.Exec(ctx, `UPDATE subsystem_deviations SET person_id = $2, region_code = $3, region_path = $4::text::ltree,
				subsystem_colour = $5, unified_colour = $6, clauses = $7, rule_set_version = $8, updated_at = $9 WHERE id = $1`,
			openID, it.pid, it.in.ResidenceCode, it.path, string(it.rec.Colour), string(code.Colour), body,
			code.RuleSetVersion, tx.Now); err != nil {
			return "", fmt.Errorf("update deviation %d: %w", openID, err)
		}
		return healthcode.DeviationStillOpen, nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO subsystem_deviations (city_code, record_id, person_id, region_code, region_path,
			subsystem_colour, unified_colour, clauses, rule_set_version, opened_at, updated_at)
		VALUES ($1, $2, $3, $4, $5::text::ltree, $6, $7, $8, $9, $10, $10)`,
		city, it.rec.RecordID, it.pid, it.in.ResidenceCode, it.path, string(it.rec.Colour), string(code.Colour), body,
		code.RuleSetVersion, tx.Now); err != nil {
		return "", fmt.Errorf("open deviation: %w", err)
	}
	return healthcode.DeviationOpened, nil
}

// deviationScope returns the regions of the caller's deviation.read grants
// and of their person.read grants (for showing person fields).
func (s *SubsystemService) deviationScope(ctx context.Context, cityCode string) (visible, persons []string, err error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, nil, err
	}
	if cityCode != "" {
		if lv, ok := healthcode.LevelOfCode(cityCode); !ok || lv != healthcode.LevelCity {
			return nil, nil, healthcode.Errorf(healthcode.EINVALID, "地市代码应为 4 位：%q", healthcode.Truncate(cityCode, 20))
		}
	}
	if visible, err = s.DB.scope(ctx, a, healthcode.PermDeviationRead, ""); err != nil {
		return nil, nil, err
	}
	if persons, err = s.DB.visible(ctx, a, healthcode.PermPersonRead); err != nil {
		return nil, nil, err
	}
	return visible, persons, nil
}

// Deviations implements healthcode.SubsystemService for staff holding
// deviation.read (province and city administrators, supervisors): the
// deviations whose residence region lies inside their grants, newest first.
// The person (id, masked name) and the clauses' reasons are shown only where
// the caller also holds person.read; supervisors see colours and clause ids
// with their citations only.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (city code or status).
func (s *SubsystemService) Deviations(ctx context.Context, f healthcode.DeviationFilter) ([]*healthcode.Deviation, bool, error) {
	switch f.Status {
	case "", healthcode.DeviationOpen, healthcode.DeviationCorrected:
	default:
		return nil, false, healthcode.Errorf(healthcode.EINVALID, "状态应为 OPEN 或 CORRECTED")
	}
	visible, persons, err := s.deviationScope(ctx, f.CityCode)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT d.id, d.city_code, d.record_id, d.region_code, d.person_id, p.name_masked,
			d.subsystem_colour, d.unified_colour, d.clauses, d.rule_set_version, d.opened_at, d.corrected_at,
			COALESCE(d.corrected_by, '')
		FROM subsystem_deviations d JOIN persons p ON p.id = d.person_id
		WHERE in_regions(d.region_path, $1) AND ($2 = '' OR d.city_code = $2)
			AND ($3 = '' OR ($3 = 'OPEN') = (d.corrected_at IS NULL)) AND ($4::bigint = 0 OR d.id < $4::bigint)
		ORDER BY d.id DESC LIMIT $5`, ltreePaths(visible), f.CityCode, f.Status, f.After, f.First+1)
	if err != nil {
		return nil, false, fmt.Errorf("list deviations: %w", err)
	}
	return collectPage(rows, f.First, "deviations", func(row pgx.CollectableRow) (*healthcode.Deviation, error) {
		var d healthcode.Deviation
		var sub, uni string
		var clauses []byte
		if err := row.Scan(&d.ID, &d.CityCode, &d.RecordID, &d.RegionCode, &d.PersonID, &d.MaskedName, &sub, &uni,
			&clauses, &d.RuleSetVersion, &d.OpenedAt, &d.CorrectedAt, &d.CorrectedBy); err != nil {
			return nil, fmt.Errorf("scan deviation: %w", err)
		}
		d.SubsystemColour, d.UnifiedColour = healthcode.Colour(sub), healthcode.Colour(uni)
		if err := json.Unmarshal(clauses, &d.Clauses); err != nil {
			return nil, fmt.Errorf("decode clauses of deviation %d: %w", d.ID, err)
		}
		if !insideAny(d.RegionCode, persons) {
			d.PersonID, d.MaskedName = 0, ""
			for i := range d.Clauses {
				d.Clauses[i].Reason, d.Clauses[i].FactIDs = "", nil
			}
		}
		return &d, nil
	})
}

// DeviationSummary implements healthcode.SubsystemService for staff holding
// deviation.read: per city that overlaps the caller's regions, the open and
// corrected deviations, the records received and the last accepted record,
// counted inside the caller's regions only. No personal data.
// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (city code).
func (s *SubsystemService) DeviationSummary(ctx context.Context, cityCode string) ([]*healthcode.DeviationSummary, error) {
	visible, _, err := s.deviationScope(ctx, cityCode)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `WITH v AS (SELECT unnest($1::text[])::ltree AS path)
		SELECT c.code, c.name,
			(SELECT count(*) FROM subsystem_deviations d WHERE d.city_code = c.code AND d.corrected_at IS NULL
				AND in_regions(d.region_path, $1)),
			(SELECT count(*) FROM subsystem_deviations d WHERE d.city_code = c.code AND d.corrected_at IS NOT NULL
				AND in_regions(d.region_path, $1)),
			(SELECT count(*) FROM subsystem_records r WHERE r.city_code = c.code AND in_regions(r.region_path, $1)),
			(SELECT max(r.received_at) FROM subsystem_records r WHERE r.city_code = c.code AND in_regions(r.region_path, $1))
		FROM regions c
		WHERE c.level = 'CITY' AND ($2 = '' OR c.code = $2)
			AND EXISTS (SELECT 1 FROM v WHERE c.path <@ v.path OR v.path <@ c.path)
		ORDER BY c.code`, ltreePaths(visible), cityCode)
	if err != nil {
		return nil, fmt.Errorf("summarise deviations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*healthcode.DeviationSummary, error) {
		var d healthcode.DeviationSummary
		err := row.Scan(&d.CityCode, &d.CityName, &d.Open, &d.Corrected, &d.Records, &d.LastPushAt)
		return &d, err
	})
	if err != nil {
		return nil, fmt.Errorf("summarise deviations: %w", err)
	}
	if cityCode != "" && len(out) == 0 {
		return nil, healthcode.ErrForbidden
	}
	return out, nil
}
