package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
	"healthcode/rules"
)

// BulkPersons is one batch of a bulk import of persons (ImportPersons): their
// plain data and facts, and how the import is recorded.
type BulkPersons struct {
	Persons []BulkPerson
	// Cause is the cause of the codes' first code_history rows and the
	// source_ref of the facts (e.g. "synthetic").
	Cause string
	// MedicalNote is the note of the medical events.
	MedicalNote string
	// AuditAction and AuditReason are those of the batch's one audit record
	// (object "persons:<first id>-<last id>"); AuditDetail is its detail, to
	// which "count" and "ruleSet" are added.
	AuditAction, AuditReason string
	AuditDetail              map[string]any
}

// BulkPerson is a person of a bulk import, in plain data: ImportPersons
// encrypts, hashes and masks it like a declaration.
type BulkPerson struct {
	IDNumber      string // a resident ID number (doc type ID_CARD)
	Name          string
	Phone         string // "" for none
	Address       string
	ResidenceCode string    // a community
	ResidenceFrom time.Time // the start of the ongoing RESIDENCE stay
	Travel        *BulkStay
	Health        []BulkHealth
	Medical       *BulkMedical
}

// BulkStay is a TRAVEL stay: a region code of any province or
// ABROAD:<ISO 3166 alpha-2>.
type BulkStay struct {
	Place    string
	From, To time.Time
}

// BulkHealth is a health record.
type BulkHealth struct {
	At          time.Time
	Temperature float64
	Symptoms    []string
	Source      string // rules.SourceCheckin or rules.SourceDeclaration
}

// BulkMedical is a medical event of one of the rules' kinds.
type BulkMedical struct {
	Kind string
	At   time.Time
}

// TakenIDNumbers returns the resident ID numbers among ids that a stored
// person already has. The bulk import's generator calls it to draw those
// again; it checks no grants (it answers only "taken or not" for numbers the
// caller already holds). Errors: INVALID (no personal-data cipher), storage
// errors.
func (db *DB) TakenIDNumbers(ctx context.Context, ids []string) (map[string]bool, error) {
	if db.PII == nil {
		return nil, healthcode.Errorf(healthcode.EINVALID, "ID numbers need the personal-data cipher")
	}
	hashes := make([][]byte, len(ids))
	byHash := make(map[string]string, len(ids))
	for i, id := range ids {
		hashes[i] = db.PII.Hash("doc:"+string(healthcode.DocIDCard), id)
		byHash[string(hashes[i])] = id
	}
	rows, err := db.Pool.Query(ctx, "SELECT doc_hash FROM persons WHERE doc_type = 'ID_CARD' AND doc_hash = ANY($1)", hashes)
	if err != nil {
		return nil, fmt.Errorf("look up generated ID numbers: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("look up generated ID numbers: %w", err)
	}
	taken := make(map[string]bool, len(found))
	for _, h := range found {
		taken[byHash[string(h)]] = true
	}
	return taken, nil
}

// Communities returns every region of level COMMUNITY, by code. Region
// codes and names are public (residents read the whole tree); the synthetic
// population places its persons with it. Errors: storage errors.
func (db *DB) Communities(ctx context.Context) ([]*healthcode.Region, error) {
	rows, err := db.Pool.Query(ctx, "SELECT "+regionColumns+" FROM regions WHERE level = 'COMMUNITY' ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("load communities: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.Region, error) { return scanRegion(r) })
	if err != nil {
		return nil, fmt.Errorf("load communities: %w", err)
	}
	return list, nil
}

// ImportPersons writes a batch of persons with their facts and codes in one
// transaction: ids are allocated, personal data encrypted, hashed and masked
// like a declaration's, every code evaluated with the published rule set
// (Annex 1 when none is) and the area risks in force exactly as
// re-evaluation would, and all rows written with COPY, with a code_history
// row per person and one audit record for the batch. The caller of ctx is
// the actor (the system when there is none). The synthetic population
// (package demo, `healthcode seed --synthetic`, dev mode only, enforced by
// its callers) calls it; it checks no grants. Errors: INVALID (no personal-
// data cipher), CONFLICT (an ID number already stored: see TakenIDNumbers),
// storage errors.
func (db *DB) ImportPersons(ctx context.Context, b BulkPersons) error {
	if db.PII == nil {
		return healthcode.Errorf(healthcode.EINVALID, "persons need the personal-data cipher")
	}
	if len(b.Persons) == 0 {
		return nil
	}
	a := healthcode.ActorFromContext(ctx)
	if a == nil {
		a = healthcode.SystemActor
	}
	return db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return fmt.Errorf("set commit mode: %w", err)
		}
		if err := tx.useLtree(ctx); err != nil {
			return err
		}
		nStays, nHealth, nMedical := 0, 0, 0
		for _, p := range b.Persons {
			nStays++
			if p.Travel != nil {
				nStays++
			}
			nHealth += len(p.Health)
			if p.Medical != nil {
				nMedical++
			}
		}
		ids := map[string][]int64{}
		for table, k := range map[string]int{"persons": len(b.Persons), "stays": nStays, "health_records": nHealth, "medical_events": nMedical} {
			if k == 0 {
				continue
			}
			rows, err := tx.Query(ctx, `SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS seq) q,
				generate_series(1, $2)`, table, k)
			if err != nil {
				return fmt.Errorf("allocate %s ids: %w", table, err)
			}
			list, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return fmt.Errorf("allocate %s ids: %w", table, err)
			}
			ids[table] = list
		}
		rs, err := publishedRuleSet(ctx, tx)
		if err != nil {
			return err
		}
		risks, err := riskInForce(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := db.bulkRows(&b, ids, rs, risks, tx.Now, a.Subject())
		if err != nil {
			return err
		}
		tx.MarkIndicatorDays(tx.Now) // the persons' created_at
		for _, c := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"persons", []string{"id", "doc_type", "doc_hash", "doc_enc", "doc_masked", "name_enc", "name_masked", "phone_hash",
				"phone_enc", "phone_masked", "residence_code", "residence_path", "address_enc", "employer_masked", "created_at", "updated_at"}, rows.persons},
			{"stays", []string{"id", "person_id", "place", "place_path", "from_at", "to_at", "source", "source_ref", "actor", "created_at"}, rows.stays},
			{"health_records", []string{"id", "person_id", "at", "temperature", "symptoms", "source", "source_ref", "actor", "created_at"}, rows.health},
			{"medical_events", []string{"id", "person_id", "kind", "at", "note", "actor", "created_at"}, rows.medical},
			{"codes", []string{"person_id", "colour", "clauses", "rule_set_version", "updated_at", "reevaluate_at"}, rows.codes},
			{"code_history", []string{"person_id", "from_colour", "to_colour", "clause_ids", "rule_set_version", "cause", "actor", "at"}, rows.history},
		} {
			if len(c.rows) == 0 {
				continue
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
				return mapError(fmt.Errorf("copy %s: %w", c.table, err), "")
			}
		}
		first, last := ids["persons"][0], ids["persons"][len(b.Persons)-1]
		detail := map[string]any{"count": len(b.Persons), "ruleSet": rs.Version}
		for k, v := range b.AuditDetail {
			detail[k] = v
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Action: b.AuditAction, Object: "persons:" + strconv.FormatInt(first, 10) +
			"-" + strconv.FormatInt(last, 10), Reason: b.AuditReason, Detail: detail})
	})
}

// riskInForce returns the area designations in force now, by region (LOW
// ones left out), as loadFacts sees them.
func riskInForce(ctx context.Context, tx *Tx) (map[string]rules.AreaRisk, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (region_code) region_code, level, from_at FROM area_risks
		WHERE from_at <= $1 ORDER BY region_code, from_at DESC, id DESC`, tx.Now)
	if err != nil {
		return nil, fmt.Errorf("load area risks: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rules.AreaRisk, error) {
		var a rules.AreaRisk
		err := r.Scan(&a.Region, &a.Level, &a.From)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("load area risks: %w", err)
	}
	out := map[string]rules.AreaRisk{}
	for _, r := range list {
		if r.Level != rules.Low {
			out[r.Region] = r
		}
	}
	return out, nil
}

// bulkRows are the COPY rows of one batch.
type bulkRows struct {
	persons, stays, health, medical, codes, history [][]any
}

// bulkIDs are the ids allocated to one person of a batch.
type bulkIDs struct {
	person, medical int64
	stays, health   []int64
}

// bulkRows assigns the allocated ids, encrypts the personal data and
// evaluates every person, splitting the work over the available cores.
func (db *DB) bulkRows(b *BulkPersons, ids map[string][]int64, rs *rules.RuleSet, risks map[string]rules.AreaRisk,
	now time.Time, actor string) (*bulkRows, error) {
	assigned := make([]bulkIDs, len(b.Persons))
	si, hi, mi := 0, 0, 0
	for i, p := range b.Persons {
		a := &assigned[i]
		a.person = ids["persons"][i]
		a.stays = append(a.stays, ids["stays"][si])
		si++
		if p.Travel != nil {
			a.stays = append(a.stays, ids["stays"][si])
			si++
		}
		for range p.Health {
			a.health = append(a.health, ids["health_records"][hi])
			hi++
		}
		if p.Medical != nil {
			a.medical = ids["medical_events"][mi]
			mi++
		}
	}
	parts := max(1, runtime.GOMAXPROCS(0))
	out := make([]bulkRows, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	chunk := (len(b.Persons) + parts - 1) / parts
	for k := range parts {
		lo, hi := k*chunk, min((k+1)*chunk, len(b.Persons))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = db.bulkRowsOf(b, b.Persons[lo:hi], assigned[lo:hi], rs, risks, now, actor, &out[k])
		}()
	}
	wg.Wait()
	all := &bulkRows{}
	for k := range out {
		if errs[k] != nil {
			return nil, errs[k]
		}
		all.persons = append(all.persons, out[k].persons...)
		all.stays = append(all.stays, out[k].stays...)
		all.health = append(all.health, out[k].health...)
		all.medical = append(all.medical, out[k].medical...)
		all.codes = append(all.codes, out[k].codes...)
		all.history = append(all.history, out[k].history...)
	}
	return all, nil
}

func (db *DB) bulkRowsOf(b *BulkPersons, persons []BulkPerson, assigned []bulkIDs, rs *rules.RuleSet,
	risks map[string]rules.AreaRisk, now time.Time, actor string, out *bulkRows) error {
	ref := b.Cause
	for i := range persons {
		p, id := &persons[i], &assigned[i]
		var phoneHash, phoneEnc []byte
		if p.Phone != "" {
			phoneHash, phoneEnc = db.PII.Hash("phone", p.Phone), db.PII.Encrypt(p.Phone)
		}
		home := ltreePath(p.ResidenceCode)
		out.persons = append(out.persons, []any{id.person, string(healthcode.DocIDCard),
			db.PII.Hash("doc:"+string(healthcode.DocIDCard), p.IDNumber), db.PII.Encrypt(p.IDNumber),
			pii.MaskID(p.IDNumber), db.PII.Encrypt(p.Name), pii.MaskName(p.Name), phoneHash, phoneEnc, pii.MaskPhone(p.Phone),
			p.ResidenceCode, home, db.PII.Encrypt(p.Address), "", now, now})

		// The facts, in the order loadFacts reads them back (insertion order).
		f := &rules.Facts{Stays: []rules.Stay{{ID: id.stays[0], Place: p.ResidenceCode, From: p.ResidenceFrom, Source: rules.SourceResidence}}}
		out.stays = append(out.stays, []any{id.stays[0], id.person, p.ResidenceCode, home, p.ResidenceFrom, nil,
			rules.SourceResidence, ref, actor, now})
		if t := p.Travel; t != nil {
			to := t.To
			f.Stays = append(f.Stays, rules.Stay{ID: id.stays[1], Place: t.Place, From: t.From, To: &to, Source: rules.SourceTravel})
			var path any
			if pp := placePath(t.Place); pp != nil {
				path = *pp
			}
			out.stays = append(out.stays, []any{id.stays[1], id.person, t.Place, path, t.From, t.To, rules.SourceTravel, ref, actor, now})
		}
		for k, h := range p.Health {
			temp := h.Temperature
			f.Health = append(f.Health, rules.HealthRecord{ID: id.health[k], At: h.At, Temperature: &temp, Symptoms: h.Symptoms, Source: h.Source})
			out.health = append(out.health, []any{id.health[k], id.person, h.At, h.Temperature, h.Symptoms, h.Source, ref, actor, now})
		}
		if m := p.Medical; m != nil {
			f.Medical = []rules.MedicalEvent{{ID: id.medical, Kind: m.Kind, At: m.At}}
			out.medical = append(out.medical, []any{id.medical, id.person, m.Kind, m.At, b.MedicalNote, actor, now})
		}
		if len(risks) > 0 {
			seen := map[string]bool{}
			for _, s := range f.Stays {
				for _, a := range placeAncestors(s.Place) {
					if r, ok := risks[a]; ok && !seen[a] {
						f.AreaRisks = append(f.AreaRisks, r)
						seen[a] = true
					}
				}
			}
		}

		res := rules.Evaluate(f, rs, now)
		code := codeFromResult(id.person, &res, now)
		clauses, err := json.Marshal(code.Clauses)
		if err != nil {
			return fmt.Errorf("encode clauses: %w", err)
		}
		out.codes = append(out.codes, []any{id.person, string(code.Colour), clauses, code.RuleSetVersion, now, code.ReevaluateAt})
		clauseIDs := make([]string, len(code.Clauses))
		for k, c := range code.Clauses {
			clauseIDs[k] = c.ID
		}
		out.history = append(out.history, []any{id.person, nil, string(code.Colour), clauseIDs, code.RuleSetVersion,
			b.Cause, actor, now})
	}
	return nil
}
