package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"healthcode"
	"healthcode/migrations"
	"healthcode/postgres"
	"healthcode/rules"
)

// SyntheticBatchSize is the number of persons SeedSynthetic writes per
// transaction.
const SyntheticBatchSize = 10000

// SyntheticCause is the cause recorded in code_history for the codes that
// SeedSynthetic issues.
const SyntheticCause = "synthetic"

// SeedSynthetic creates n synthetic persons with their facts and codes in db
// and returns how many it created. Tests, benchmarks and `healthcode seed
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
// written with a code_history row of cause "synthetic" (db.ImportPersons).
// Everything is written with COPY, SyntheticBatchSize persons per
// transaction, with one audit record per batch.
//
// The plain data is a deterministic function of seed (and of the ID numbers
// already stored: a generated ID number that is taken is drawn again).
// Batches commit independently: on error the persons of committed batches
// remain and their count is returned with the error. Errors: INVALID (n < 0,
// no PII cipher), CONFLICT (a concurrent writer took a generated ID number),
// and storage errors.
func SeedSynthetic(ctx context.Context, db *postgres.DB, n int, seed int64) (int, error) {
	return seedSynthetic(ctx, db, n, seed, nil)
}

// seedSynthetic is SeedSynthetic with the regions already loaded (world;
// nil: load them), for callers that seed many times.
func seedSynthetic(ctx context.Context, db *postgres.DB, n int, seed int64, world *synthWorld) (int, error) {
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
		if world, err = loadSynthWorld(ctx, db); err != nil {
			return 0, err
		}
	}
	gen := newSynthGenerator(world, seed, now(db))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []postgres.BulkPerson, 1)
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
				err := db.ImportPersons(ctx, postgres.BulkPersons{Persons: b, Cause: SyntheticCause, MedicalNote: "合成数据",
					AuditAction: "seed.synthetic", AuditReason: "synthetic population", AuditDetail: map[string]any{"seed": seed}})
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					cancel()
				} else {
					created += len(b)
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

// now is db's time.
func now(db *postgres.DB) time.Time {
	if db.Clock == nil {
		return time.Now()
	}
	return db.Clock.Now()
}

// synthCommunity is a community a synthetic person may live in or visit.
type synthCommunity struct {
	code, name string
}

// synthUnit is a census unit (a city, or a county the census counts apart
// from its city such as Yangling) with its communities.
type synthUnit struct {
	code        string
	population  float64
	communities []synthCommunity
}

// synthWorld is the read-only input of generation.
type synthWorld struct {
	units []synthUnit
	cum   []float64 // cumulative population, for weighted choice
}

func loadSynthWorld(ctx context.Context, db *postgres.DB) (*synthWorld, error) {
	units, err := censusUnits()
	if err != nil {
		return nil, err
	}
	communities, err := db.Communities(ctx)
	if err != nil {
		return nil, err
	}
	byCode := map[string]int{}
	for i, u := range units {
		byCode[u.code] = i
	}
	for _, r := range communities {
		// The longest census unit covering the community (Yangling before Xianyang).
		for _, anc := range healthcode.AncestorCodes(r.Code) {
			if i, ok := byCode[anc]; ok {
				units[i].communities = append(units[i].communities, synthCommunity{code: r.Code, name: r.Name})
				break
			}
		}
	}
	w := &synthWorld{}
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
func (g *synthGenerator) batch(ctx context.Context, db *postgres.DB, size int) ([]postgres.BulkPerson, error) {
	persons := make([]postgres.BulkPerson, size)
	birth := make([]time.Time, size)
	for i := range persons {
		persons[i], birth[i] = g.person()
	}
	// Draw again the ID numbers that are already stored (an earlier run).
	pending := make([]int, size)
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		docs := make([]string, len(pending))
		for k, i := range pending {
			docs[k] = persons[i].IDNumber
		}
		taken, err := db.TakenIDNumbers(ctx, docs)
		if err != nil {
			return nil, err
		}
		var again []int
		for _, i := range pending {
			if taken[persons[i].IDNumber] {
				persons[i].IDNumber = g.idNumber(persons[i].ResidenceCode[:6], birth[i])
				again = append(again, i)
			}
		}
		pending = again
	}
	return persons, nil
}

// person draws one person's plain data, and the birth date of its ID number.
func (g *synthGenerator) person() (postgres.BulkPerson, time.Time) {
	r := g.rng
	home := g.world.pickCommunity(r)
	p := postgres.BulkPerson{ResidenceCode: home.code}
	birth := g.minB.AddDate(0, 0, r.IntN(g.daysB))
	p.IDNumber = g.idNumber(home.code[:6], birth)

	name := []rune{synthSurnames[r.IntN(len(synthSurnames))], synthGiven[r.IntN(len(synthGiven))]}
	if r.IntN(3) > 0 {
		name = append(name, synthGiven[r.IntN(len(synthGiven))])
	}
	p.Name = string(name)

	age := g.today.Year() - birth.Year()
	noPhone := (age < 12 && r.IntN(10) < 7) || (age >= 80 && r.IntN(10) < 4)
	if !noPhone {
		p.Phone = fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
	}
	p.Address = fmt.Sprintf("%s%d号楼%d单元%d%02d室", home.name, 1+r.IntN(30), 1+r.IntN(6), 1+r.IntN(33), 1+r.IntN(4))
	p.ResidenceFrom = g.today.AddDate(0, 0, -30-r.IntN(3650)).UTC()

	if r.IntN(10) == 0 { // about 10% travelled in the last 14 days
		end := g.today.AddDate(0, 0, -r.IntN(13))
		s := &postgres.BulkStay{From: end.AddDate(0, 0, -1-r.IntN(5)).UTC(), To: end.UTC()}
		switch x := r.IntN(10); {
		case x == 0: // about 1% of persons: abroad
			s.Place = rules.AbroadPrefix + synthCountries[r.IntN(len(synthCountries))]
		case x <= 3:
			s.Place = synthOutside[r.IntN(len(synthOutside))]
		default:
			s.Place = g.world.pickCommunity(r).code
		}
		p.Travel = s
	}

	for range 1 + r.IntN(3) {
		h := postgres.BulkHealth{Source: rules.SourceCheckin, Symptoms: []string{}}
		if r.IntN(10) < 3 {
			h.Source = rules.SourceDeclaration
		}
		h.At = g.base.Add(-time.Duration(r.Int64N(int64(72*time.Hour/time.Microsecond))) * time.Microsecond)
		tenths := 360 + r.IntN(13) // 36.0–37.2 °C
		if r.IntN(50) == 0 {       // about 2% abnormal
			switch r.IntN(3) {
			case 0:
				tenths = 374 + r.IntN(17) // 37.4–39.0 °C
				h.Symptoms = []string{rules.SymptomFever}
			case 1:
				h.Symptoms = []string{rules.SymptomCough}
			default:
				h.Symptoms = []string{rules.SymptomDryCough}
			}
		}
		h.Temperature = float64(tenths) / 10
		p.Health = append(p.Health, h)
	}

	if r.IntN(500) == 0 { // about 0.2%
		k := synthMedKinds[r.IntN(len(synthMedKinds))]
		p.Medical = &postgres.BulkMedical{Kind: k.kind,
			At: g.base.Add(-time.Duration(r.Int64N(int64(time.Duration(k.days)*24*time.Hour/time.Microsecond))) * time.Microsecond)}
	}
	return p, birth
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
