package postgres

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/migrations"
	"healthcode/pii"
	"healthcode/rules"
)

// SyntheticBatchSize is the number of persons SeedSynthetic writes per
// transaction.
const SyntheticBatchSize = 10000

// SyntheticCause is the cause recorded in code_history for the codes that
// SeedSynthetic issues.
const SyntheticCause = "synthetic"

// SeedSynthetic creates n synthetic persons with their facts and codes and
// returns how many it created. Tests, benchmarks and `healthcode seed
// --synthetic` (dev mode only, enforced by the CLI) call it; it needs db.PII
// and no Authz.
//
// Persons are spread over the communities of the region tree in proportion
// to the 7th-census population of their city (migrations.PopulationCSV;
// within a city uniformly over its communities). Each has a valid-looking
// resident ID number (county prefix of the residence, birth date 1940–2020,
// GB 11643 check character), a Chinese name, usually a phone, all encrypted
// and hashed like a declaration; an ongoing RESIDENCE stay; about 10% a
// TRAVEL stay that ended in the last 14 days (about 1% of all persons
// abroad); 1–3 health records (about 2% abnormal); about 0.2% a medical
// event. Their codes are evaluated with the published rule set (Annex 1 when
// none is) and the area risks in force, exactly as re-evaluation would, and
// written with a code_history row of cause "synthetic". Everything is written
// with COPY, SyntheticBatchSize persons per transaction, with one audit
// record per batch.
//
// The plain data is a deterministic function of seed (and of the ID numbers
// already stored: a generated ID number that is taken is drawn again).
// Batches commit independently: on error the persons of committed batches
// remain and their count is returned with the error. Errors: INVALID (n < 0,
// no PII cipher), CONFLICT (a concurrent writer took a generated ID number),
// and storage errors.
func (db *DB) SeedSynthetic(ctx context.Context, n int, seed int64) (int, error) {
	return db.seedSynthetic(ctx, n, seed, nil)
}

// seedSynthetic is SeedSynthetic with the regions and sequences already
// loaded (world; nil: load them), for callers that seed many times.
func (db *DB) seedSynthetic(ctx context.Context, n int, seed int64, world *synthWorld) (int, error) {
	if n < 0 {
		return 0, healthcode.Errorf(healthcode.EINVALID, "number of persons must not be negative")
	}
	if db.PII == nil {
		return 0, healthcode.Errorf(healthcode.EINVALID, "synthetic persons need the personal-data cipher")
	}
	if n == 0 {
		return 0, nil
	}
	if world == nil {
		var err error
		if world, err = db.loadSynthWorld(ctx); err != nil {
			return 0, err
		}
	}
	actor := healthcode.ActorFromContext(ctx)
	if actor == nil {
		actor = healthcode.SystemActor
	}
	gen := newSynthGenerator(world, seed, db.now())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *synthBatch, 1)
	var genErr error
	go func() {
		defer close(batches)
		for done := 0; done < n; {
			size := min(SyntheticBatchSize, n-done)
			b, err := gen.batch(ctx, db, size)
			if err != nil {
				genErr = err
				return
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			done += size
		}
	}()

	writers := max(1, min(2, runtime.GOMAXPROCS(0)))
	var mu sync.Mutex
	created := 0
	var firstErr error
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				err := db.writeSynthBatch(ctx, b, world, actor, seed)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					cancel()
				} else {
					created += len(b.persons)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && genErr != nil {
		firstErr = genErr
	}
	if firstErr == nil && created < n {
		firstErr = context.Cause(ctx)
		if firstErr == nil {
			firstErr = errors.New("synthetic generation stopped early")
		}
	}
	if firstErr != nil {
		return created, fmt.Errorf("seed synthetic persons: %w", firstErr)
	}
	return created, nil
}

// synthCommunity is a community a synthetic person may live in or visit.
type synthCommunity struct {
	code, name, path string
}

// synthUnit is a census unit (a city, or a county the census counts apart
// from its city such as Yangling) with its communities.
type synthUnit struct {
	code        string
	population  float64
	communities []synthCommunity
}

// synthWorld is the read-only input of generation and evaluation.
type synthWorld struct {
	units []synthUnit
	cum   []float64         // cumulative population, for weighted choice
	seqs  map[string]string // table → its id sequence
}

func (db *DB) loadSynthWorld(ctx context.Context) (*synthWorld, error) {
	units, err := censusUnits()
	if err != nil {
		return nil, err
	}
	rows, err := db.Pool.Query(ctx, "SELECT code, name, path::text FROM regions WHERE level = 'COMMUNITY' ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("load communities: %w", err)
	}
	byCode := map[string]int{}
	for i, u := range units {
		byCode[u.code] = i
	}
	for rows.Next() {
		var c synthCommunity
		if err := rows.Scan(&c.code, &c.name, &c.path); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan community: %w", err)
		}
		// The longest census unit covering the community (Yangling before Xianyang).
		for _, anc := range healthcode.AncestorCodes(c.code) {
			if i, ok := byCode[anc]; ok {
				units[i].communities = append(units[i].communities, c)
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load communities: %w", err)
	}
	w := &synthWorld{seqs: map[string]string{}}
	total := 0.0
	for _, u := range units {
		if len(u.communities) == 0 {
			continue
		}
		total += u.population
		w.units = append(w.units, u)
		w.cum = append(w.cum, total)
	}
	if len(w.units) == 0 {
		return nil, errors.New("no communities to place synthetic persons in")
	}
	for _, t := range []string{"persons", "stays", "health_records", "medical_events"} {
		var seq string
		if err := db.Pool.QueryRow(ctx, "SELECT pg_get_serial_sequence($1, 'id')", t).Scan(&seq); err != nil {
			return nil, fmt.Errorf("look up id sequence of %s: %w", t, err)
		}
		w.seqs[t] = seq
	}
	return w, nil
}

// censusUnits parses the census population per city. A unit below city
// level (a county the census counts apart) is its own unit.
func censusUnits() ([]synthUnit, error) {
	recs, err := csv.NewReader(bytes.NewReader(migrations.PopulationCSV())).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse census populations: %w", err)
	}
	var units []synthUnit
	for i, r := range recs {
		if i == 0 || len(r) < 3 || len(r[0]) < 4 {
			continue // header, the province total
		}
		pop, err := strconv.ParseFloat(r[2], 64)
		if err != nil || pop <= 0 {
			return nil, fmt.Errorf("census population of %s: %q is not a positive number", r[0], r[2])
		}
		units = append(units, synthUnit{code: r[0], population: pop})
	}
	return units, nil
}

// pickCommunity draws a community: a unit in proportion to its population,
// then a community of it uniformly.
func (w *synthWorld) pickCommunity(rng *rand.Rand) *synthCommunity {
	x := rng.Float64() * w.cum[len(w.cum)-1]
	i := sort.SearchFloat64s(w.cum, x)
	if i >= len(w.units) {
		i = len(w.units) - 1
	}
	u := &w.units[i]
	return &u.communities[rng.IntN(len(u.communities))]
}

// Synthetic plain data, before ids, encryption and evaluation.
type synthPerson struct {
	id                 int64
	doc, name, phone   string
	address            string
	docHash            []byte
	home               *synthCommunity
	birth              time.Time
	residenceFrom      time.Time
	travel             *synthStay
	health             []synthHealth
	medical            *synthMedical
	stayIDs, healthIDs []int64
	medicalID          int64
}

type synthStay struct {
	place    string
	path     *string
	from, to time.Time
}

type synthHealth struct {
	at          time.Time
	temperature float64
	symptoms    []string
	source      string
}

type synthMedical struct {
	kind string
	at   time.Time
}

type synthBatch struct {
	persons []*synthPerson
}

// synthGenerator draws persons from one PCG stream; it is used by one
// goroutine at a time.
type synthGenerator struct {
	world *synthWorld
	rng   *rand.Rand
	base  time.Time // facts are dated relative to it
	today time.Time // the start of base's day in CST
	seen  map[uint64]struct{}
	minB  time.Time
	daysB int
}

func newSynthGenerator(w *synthWorld, seed int64, now time.Time) *synthGenerator {
	base := now.UTC().Truncate(time.Microsecond)
	t := base.In(rules.CST)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, rules.CST)
	minB := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	maxB := time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)
	if limit := today.AddDate(0, 0, -1); limit.Before(maxB) {
		maxB = time.Date(limit.Year(), limit.Month(), limit.Day(), 0, 0, 0, 0, time.UTC)
	}
	return &synthGenerator{
		world: w, rng: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		base: base, today: today, seen: map[uint64]struct{}{},
		minB: minB, daysB: int(maxB.Sub(minB)/(24*time.Hour)) + 1,
	}
}

var (
	synthSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤")
	synthGiven    = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志文红玉兰梅鹏飞宇浩然子轩欣怡晨阳佳琪思雨博涵婷雪峰辉斌波亮成林海燕萍丹凯鑫蕾倩荣")
	// Other provinces' counties a traveller may have visited.
	synthOutside = []string{"110105", "110108", "310115", "310104", "420106", "420111", "440305", "440106",
		"510107", "500103", "410105", "620102", "640104", "140105", "120101", "330106", "320106", "370202"}
	synthCountries = []string{"US", "GB", "IT", "KR", "JP", "FR", "DE", "ES", "IR", "TH", "RU", "AU"}
	synthMedKinds  = []struct {
		kind string
		days int // how far back the event may lie
	}{{rules.CloseContact, 14}, {rules.Suspected, 7}, {rules.Confirmed, 21}, {rules.Asymptomatic, 10}, {rules.Discharged, 40}}
)

// batch draws size persons whose ID numbers are new in this run and not yet
// stored.
func (g *synthGenerator) batch(ctx context.Context, db *DB, size int) (*synthBatch, error) {
	b := &synthBatch{persons: make([]*synthPerson, size)}
	for i := range b.persons {
		b.persons[i] = g.person()
	}
	// Draw again the ID numbers that are already stored (an earlier run).
	pending := b.persons
	for len(pending) > 0 {
		hashes := make([][]byte, len(pending))
		for i, p := range pending {
			p.docHash = db.PII.Hash("doc:"+string(healthcode.DocIDCard), p.doc)
			hashes[i] = p.docHash
		}
		rows, err := db.Pool.Query(ctx, "SELECT doc_hash FROM persons WHERE doc_type = 'ID_CARD' AND doc_hash = ANY($1)", hashes)
		if err != nil {
			return nil, fmt.Errorf("look up generated ID numbers: %w", err)
		}
		taken := map[string]bool{}
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan ID number hash: %w", err)
			}
			taken[string(h)] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("look up generated ID numbers: %w", err)
		}
		var again []*synthPerson
		for _, p := range pending {
			if taken[string(p.docHash)] {
				p.doc = g.idNumber(p.home.code[:6], p.birth)
				again = append(again, p)
			}
		}
		pending = again
	}
	return b, nil
}

// person draws one person's plain data.
func (g *synthGenerator) person() *synthPerson {
	r := g.rng
	p := &synthPerson{home: g.world.pickCommunity(r)}
	p.birth = g.minB.AddDate(0, 0, r.IntN(g.daysB))
	p.doc = g.idNumber(p.home.code[:6], p.birth)

	name := []rune{synthSurnames[r.IntN(len(synthSurnames))], synthGiven[r.IntN(len(synthGiven))]}
	if r.IntN(3) > 0 {
		name = append(name, synthGiven[r.IntN(len(synthGiven))])
	}
	p.name = string(name)

	age := g.today.Year() - p.birth.Year()
	noPhone := (age < 12 && r.IntN(10) < 7) || (age >= 80 && r.IntN(10) < 4)
	if !noPhone {
		p.phone = fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
	}
	p.address = fmt.Sprintf("%s%d号楼%d单元%d%02d室", p.home.name, 1+r.IntN(30), 1+r.IntN(6), 1+r.IntN(33), 1+r.IntN(4))
	p.residenceFrom = g.today.AddDate(0, 0, -30-r.IntN(3650)).UTC()

	if r.IntN(10) == 0 { // about 10% travelled in the last 14 days
		end := g.today.AddDate(0, 0, -r.IntN(13))
		s := &synthStay{from: end.AddDate(0, 0, -1-r.IntN(5)).UTC(), to: end.UTC()}
		switch x := r.IntN(10); {
		case x == 0: // about 1% of persons: abroad
			s.place = rules.AbroadPrefix + synthCountries[r.IntN(len(synthCountries))]
		case x <= 3:
			s.place = synthOutside[r.IntN(len(synthOutside))]
		default:
			c := g.world.pickCommunity(r)
			s.place, s.path = c.code, &c.path
		}
		p.travel = s
	}

	for range 1 + r.IntN(3) {
		h := synthHealth{source: rules.SourceCheckin, symptoms: []string{}}
		if r.IntN(10) < 3 {
			h.source = rules.SourceDeclaration
		}
		h.at = g.base.Add(-time.Duration(r.Int64N(int64(72*time.Hour/time.Microsecond))) * time.Microsecond)
		tenths := 360 + r.IntN(13) // 36.0–37.2 °C
		if r.IntN(50) == 0 {       // about 2% abnormal
			switch r.IntN(3) {
			case 0:
				tenths = 374 + r.IntN(17) // 37.4–39.0 °C
				h.symptoms = []string{rules.SymptomFever}
			case 1:
				h.symptoms = []string{rules.SymptomCough}
			default:
				h.symptoms = []string{rules.SymptomDryCough}
			}
		}
		h.temperature = float64(tenths) / 10
		p.health = append(p.health, h)
	}

	if r.IntN(500) == 0 { // about 0.2%
		k := synthMedKinds[r.IntN(len(synthMedKinds))]
		p.medical = &synthMedical{kind: k.kind,
			at: g.base.Add(-time.Duration(r.Int64N(int64(time.Duration(k.days)*24*time.Hour/time.Microsecond))) * time.Microsecond)}
	}
	return p
}

// idNumber draws a resident ID number of a county and birth date that this
// run has not drawn before.
func (g *synthGenerator) idNumber(county string, birth time.Time) string {
	for {
		first17 := county + birth.Format("20060102") + fmt.Sprintf("%03d", g.rng.IntN(1000))
		key, _ := strconv.ParseUint(first17, 10, 64)
		if _, dup := g.seen[key]; dup {
			continue
		}
		g.seen[key] = struct{}{}
		check, _ := healthcode.IDCheckChar(first17)
		return first17 + string(check)
	}
}

// synthRows are the COPY rows of one batch.
type synthRows struct {
	persons, stays, health, medical, codes, history [][]any
}

// writeSynthBatch allocates ids, encrypts, evaluates and COPYs one batch in
// one transaction.
func (db *DB) writeSynthBatch(ctx context.Context, b *synthBatch, w *synthWorld, actor *healthcode.Actor, seed int64) error {
	return db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return fmt.Errorf("set commit mode: %w", err)
		}
		if err := tx.useLtree(ctx); err != nil {
			return err
		}
		nStays, nHealth, nMedical := 0, 0, 0
		for _, p := range b.persons {
			nStays++
			if p.travel != nil {
				nStays++
			}
			nHealth += len(p.health)
			if p.medical != nil {
				nMedical++
			}
		}
		ids := map[string][]int64{}
		for table, k := range map[string]int{"persons": len(b.persons), "stays": nStays, "health_records": nHealth, "medical_events": nMedical} {
			if k == 0 {
				continue
			}
			rows, err := tx.Query(ctx, "SELECT nextval($1::regclass) FROM generate_series(1, $2)", w.seqs[table], k)
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
		rows, err := buildSynthRows(db, b, ids, rs, risks, tx.Now, actor.Subject())
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
				"phone_enc", "phone_masked", "residence_code", "residence_path", "address_enc", "employer", "created_at", "updated_at"}, rows.persons},
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
		first, last := b.persons[0].id, b.persons[len(b.persons)-1].id
		return tx.Audit(ctx, healthcode.AuditRecord{Action: "seed.synthetic",
			Object: fmt.Sprintf("persons:%d-%d", first, last), Reason: "synthetic population",
			Detail: map[string]any{"count": len(b.persons), "seed": seed, "ruleSet": rs.Version}})
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
	defer rows.Close()
	out := map[string]rules.AreaRisk{}
	for rows.Next() {
		var r rules.AreaRisk
		if err := rows.Scan(&r.Region, &r.Level, &r.From); err != nil {
			return nil, fmt.Errorf("scan area risk: %w", err)
		}
		if r.Level != rules.Low {
			out[r.Region] = r
		}
	}
	return out, rows.Err()
}

// buildSynthRows assigns the allocated ids, encrypts the personal data and
// evaluates every person, splitting the work over the available cores.
func buildSynthRows(db *DB, b *synthBatch, ids map[string][]int64, rs *rules.RuleSet, risks map[string]rules.AreaRisk,
	now time.Time, actor string) (*synthRows, error) {
	si, hi, mi := 0, 0, 0
	for i, p := range b.persons {
		p.id = ids["persons"][i]
		p.stayIDs = append(p.stayIDs[:0], ids["stays"][si])
		si++
		if p.travel != nil {
			p.stayIDs = append(p.stayIDs, ids["stays"][si])
			si++
		}
		p.healthIDs = p.healthIDs[:0]
		for range p.health {
			p.healthIDs = append(p.healthIDs, ids["health_records"][hi])
			hi++
		}
		if p.medical != nil {
			p.medicalID = ids["medical_events"][mi]
			mi++
		}
	}
	parts := max(1, runtime.GOMAXPROCS(0))
	out := make([]synthRows, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	chunk := (len(b.persons) + parts - 1) / parts
	for k := range parts {
		lo, hi := k*chunk, min((k+1)*chunk, len(b.persons))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = synthRowsOf(db, b.persons[lo:hi], rs, risks, now, actor, &out[k])
		}()
	}
	wg.Wait()
	all := &synthRows{}
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

func synthRowsOf(db *DB, persons []*synthPerson, rs *rules.RuleSet, risks map[string]rules.AreaRisk,
	now time.Time, actor string, out *synthRows) error {
	const ref = SyntheticCause
	for _, p := range persons {
		var phoneHash, phoneEnc []byte
		if p.phone != "" {
			phoneHash, phoneEnc = db.PII.Hash("phone", p.phone), db.PII.Encrypt(p.phone)
		}
		out.persons = append(out.persons, []any{p.id, string(healthcode.DocIDCard), p.docHash, db.PII.Encrypt(p.doc),
			pii.MaskID(p.doc), db.PII.Encrypt(p.name), pii.MaskName(p.name), phoneHash, phoneEnc, pii.MaskPhone(p.phone),
			p.home.code, p.home.path, db.PII.Encrypt(p.address), "", now, now})

		// The facts, in the order loadFacts reads them back (insertion order).
		f := &rules.Facts{Stays: []rules.Stay{{ID: p.stayIDs[0], Place: p.home.code, From: p.residenceFrom, Source: rules.SourceResidence}}}
		out.stays = append(out.stays, []any{p.stayIDs[0], p.id, p.home.code, p.home.path, p.residenceFrom, nil,
			rules.SourceResidence, ref, actor, now})
		if t := p.travel; t != nil {
			to := t.to
			f.Stays = append(f.Stays, rules.Stay{ID: p.stayIDs[1], Place: t.place, From: t.from, To: &to, Source: rules.SourceTravel})
			var path any
			if t.path != nil {
				path = *t.path
			}
			out.stays = append(out.stays, []any{p.stayIDs[1], p.id, t.place, path, t.from, t.to, rules.SourceTravel, ref, actor, now})
		}
		for i, h := range p.health {
			temp := h.temperature
			f.Health = append(f.Health, rules.HealthRecord{ID: p.healthIDs[i], At: h.at, Temperature: &temp, Symptoms: h.symptoms, Source: h.source})
			out.health = append(out.health, []any{p.healthIDs[i], p.id, h.at, h.temperature, h.symptoms, h.source, ref, actor, now})
		}
		if m := p.medical; m != nil {
			f.Medical = []rules.MedicalEvent{{ID: p.medicalID, Kind: m.kind, At: m.at}}
			out.medical = append(out.medical, []any{p.medicalID, p.id, m.kind, m.at, "合成数据", actor, now})
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
		code := codeFromResult(p.id, &res, now)
		clauses, err := json.Marshal(code.Clauses)
		if err != nil {
			return fmt.Errorf("encode clauses: %w", err)
		}
		out.codes = append(out.codes, []any{p.id, string(code.Colour), clauses, code.RuleSetVersion, now, code.ReevaluateAt})
		clauseIDs := make([]string, len(code.Clauses))
		for i, c := range code.Clauses {
			clauseIDs[i] = c.ID
		}
		out.history = append(out.history, []any{p.id, nil, string(code.Colour), clauseIDs, code.RuleSetVersion,
			SyntheticCause, actor, now})
	}
	return nil
}
