package demo

import (
	"container/heap"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthcode"
	"healthcode/credential"
	"healthcode/exchange"
	"healthcode/hotline"
	"healthcode/postgres"
	"healthcode/rules"
)

// Activity defaults (healthcode dev on an empty database).
const (
	// DefaultPersons is the synthetic population of the demo province.
	DefaultPersons = 20000
	// DefaultDays is how many days of activity the demo replays before
	// today (today's activity up to now is added).
	DefaultDays = 14
	// DefaultSeed makes the demo province the same on every machine.
	DefaultSeed = 2020
)

// Activity generates a living demo province on an empty dev database:
// a synthetic population, institutions and venues in every city with scans
// over the last Days days (some cities much busier than others,
// a few fevers), hotline tickets in every state, weekly reports, joint
// meeting lists and national pushes, and then the indicators and last
// week's ranking reports computed from all that.
//
// Everything goes through the services (RegisterInstitution, CreateVenue,
// RecordScans with tokens signed by Ring, CreateTicket and Act,
// GenerateWeeklyDrafts and SubmitWeeklyReport, SubmitJointMeetingList,
// NationalPush.Push against the in-process stub receiver) or SeedSynthetic,
// with their encryption, audit records and dirty indicator days, as any
// client of the services would; the reads the services do not offer in bulk
// (the communities, the code ids to sign tokens for) come from narrow
// storage methods. Past activity is replayed in time order on a copy of DB
// whose clock is set to each event's time, so that rows, deadlines and
// audit records carry the times at which they would have happened; the
// indicators and ranking reports are then computed at the real time.
//
// The demo accounts (SeedAccounts) must exist. Deterministic for a seed and
// a clock time; dev mode only.
type Activity struct {
	DB *postgres.DB
	// Ring signs the electronic codes that the venues scan (the platform's
	// key ring).
	Ring *credential.KeyRing
	// Persons, Days and Seed default to DefaultPersons, DefaultDays and
	// DefaultSeed.
	Persons int
	Days    int
	Seed    int64
	// JointMeetingDue and RankingPolicy are the platform's (zero: the
	// defaults of SupervisionService and RankingService).
	JointMeetingDue time.Time
	RankingPolicy   healthcode.RankingPolicy
}

// Summary says what Generate created: persons (always Persons),
// institutions and venues, accepted scans and the fevers among them,
// tickets (always Tickets) and TicketStates (the tickets by state, as
// the ticket service last returned them: at least two ACCEPTED, two
// DISPATCHED and two SIGNED), submitted weekly reports, joint meeting
// lists, acknowledged national pushes (one a day from Days+7 days back to
// yesterday, pushed at 00:30), recomputed indicator days and ranking
// reports. TestActivity holds the database to these counts.
type Summary struct {
	// Skipped is set when the database already held data: nothing was
	// created.
	Skipped                                    bool
	Persons, Institutions, Venues, Scans       int
	Fevers, Tickets, WeeklyReports, JointLists int
	NationalDays, IndicatorDays, Reports       int
	TicketStates                               map[string]int
	Elapsed                                    time.Duration
}

func (s *Summary) String() string {
	if s.Skipped {
		return "demo activity skipped: the database already holds data"
	}
	return fmt.Sprintf("%d persons, %d institutions with %d venues, %d scans (%d fevers), %d tickets, %d weekly reports, "+
		"%d joint meeting lists, %d national pushes, %d indicator days, %d ranking reports in %s",
		s.Persons, s.Institutions, s.Venues, s.Scans, s.Fevers, s.Tickets, s.WeeklyReports, s.JointLists,
		s.NationalDays, s.IndicatorDays, s.Reports, s.Elapsed.Round(time.Millisecond))
}

// demoEvent is one thing that happens at a time of the replay; seq keeps
// the events of one time in the order they were planned.
type demoEvent struct {
	at  time.Time
	seq int
	fn  func(ctx context.Context) error
}

// demoQueue is the replay's events, earliest first (container/heap).
type demoQueue []demoEvent

func (q demoQueue) Len() int { return len(q) }
func (q demoQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q demoQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *demoQueue) Push(x any)   { *q = append(*q, x.(demoEvent)) }
func (q *demoQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type demoCity struct {
	code, name string
	activity   float64 // scans per resident per day
	share      float64 // of the census population
	counties   []*demoCounty
}

type demoCounty struct {
	code, name  string
	city        *demoCity
	communities []string
	institution int64
	admin       *healthcode.Actor
	venues      []int64
	unit        int64
}

type demoPerson struct {
	id                int64
	codeID, name, col string
	city, residence   string
}

// demoGen is the state of one Generate run.
type demoGen struct {
	g       *Activity
	db      *postgres.DB // the copy whose clock the replay moves
	clock   *healthcode.OffsetClock
	now     time.Time
	today   time.Time
	start   time.Time // the first replayed day
	rng     *rand.Rand
	sum     *Summary
	queue   demoQueue
	seq     int
	cur     time.Time // the time of the event being replayed
	planned []*demoTicket
	units   map[string]int64 // handling unit by county
	cities  []*demoCity
	staff   map[string]*healthcode.Actor
	persons map[string][]demoPerson // by city
	signer  *credential.Signer
	creds   *postgres.CredentialService
	tickets *postgres.TicketService
	super   *postgres.SupervisionService
	codes   *postgres.CodeService
}

// Generate creates the demo activity unless the database already holds
// persons, institutions or tickets (then it returns a summary with Skipped
// set). Errors: FORBIDDEN outside dev mode, INVALID (no key ring, demo
// accounts missing), and the errors of the services it calls; what was
// created before an error stays.
func (g *Activity) Generate(ctx context.Context) (*Summary, error) {
	started := time.Now()
	if !g.DB.Dev {
		return nil, healthcode.Errorf(healthcode.EFORBIDDEN, "demo activity exists only in dev mode")
	}
	if g.Ring == nil || g.DB.PII == nil || g.DB.Authz == nil {
		return nil, healthcode.Errorf(healthcode.EINVALID, "demo activity needs the key ring, the personal-data cipher and access control")
	}
	// The demo checkpoint (SeedCheckpoint, seeded first) is no activity.
	busy, err := g.DB.HoldsActivity(ctx, checkpointCreditCode())
	if err != nil {
		return nil, err
	}
	if busy {
		return &Summary{Skipped: true}, nil
	}
	persons, days, seed := g.Persons, g.Days, g.Seed
	if persons <= 0 {
		persons = DefaultPersons
	}
	if days <= 0 {
		days = DefaultDays
	}
	if seed == 0 {
		seed = DefaultSeed
	}
	replay := *g.DB
	clock := &healthcode.OffsetClock{}
	replay.Clock = clock
	s := &demoGen{g: g, db: &replay, clock: clock, now: now(g.DB), sum: &Summary{TicketStates: map[string]int{}},
		rng: rand.New(rand.NewPCG(uint64(seed), 0x6465_6d6f)), staff: map[string]*healthcode.Actor{}, units: map[string]int64{}}
	s.today = dayStart(s.now)
	s.start = s.today.AddDate(0, 0, -days)
	if s.signer, err = credential.NewSigner(g.Ring); err != nil {
		return nil, err
	}
	s.creds = &postgres.CredentialService{DB: s.db, Ring: g.Ring}
	s.tickets = postgres.NewTicketService(s.db)
	s.super = &postgres.SupervisionService{DB: s.db, JointMeetingDue: g.JointMeetingDue}
	s.codes = &postgres.CodeService{DB: s.db}
	sys := healthcode.NewContextWithActor(ctx, healthcode.SystemActor)

	if err := s.load(sys); err != nil {
		return nil, err
	}
	// The population moved in three weeks before the replay; a few persons
	// declare every day.
	daily := persons / 10 / (days + 1)
	base := persons - daily*(days+1)
	var world *synthWorld // the regions, loaded once for every day's declarations
	seedPersons := func(n int, seed int64) error {
		if world == nil {
			var err error
			if world, err = loadSynthWorld(ctx, s.db); err != nil {
				return err
			}
		}
		created, err := seedSynthetic(sys, s.db, n, seed, world)
		s.sum.Persons += created
		return err
	}
	s.at(s.start.AddDate(0, 0, -7).Add(8*time.Hour), func(ctx context.Context) error {
		return seedPersons(base, seed)
	})
	for d := 0; d <= days; d++ {
		at := s.start.AddDate(0, 0, d).Add(7 * time.Hour)
		if d == days && at.After(s.now.Add(-2*time.Minute)) {
			at = s.now.Add(-2 * time.Minute) // today's, before 07:00: just now
		}
		s.at(at, func(ctx context.Context) error {
			return seedPersons(daily, seed+int64(d)+1)
		})
	}
	s.planCheckpoints(sys)
	s.planScans(days, persons)
	s.planTickets()
	s.planReports(sys)
	if err := s.planNational(sys, seed); err != nil {
		return nil, err
	}
	if err := s.run(ctx); err != nil {
		return nil, err
	}

	// Indicators and ranking reports at the real time.
	var dayList []time.Time
	for d := s.start.AddDate(0, 0, -7); !d.After(s.today); d = d.AddDate(0, 0, 1) {
		dayList = append(dayList, d)
	}
	ind := &postgres.IndicatorService{DB: g.DB, JointMeetingDue: g.JointMeetingDue}
	if err := ind.MarkDays(ctx, dayList); err != nil {
		return nil, err
	}
	n, err := ind.RecomputeDirty(ctx)
	s.sum.IndicatorDays = n
	if err != nil {
		return nil, err
	}
	lastMonday := mondayOf(s.today.AddDate(0, 0, -7))
	rs := &postgres.RankingService{DB: g.DB, Policy: g.RankingPolicy}
	if s.sum.Reports, err = rs.GenerateWeek(sys, lastMonday); err != nil {
		return nil, err
	}
	for _, tk := range s.planned {
		if tk.t != nil {
			s.sum.TicketStates[tk.t.State]++
		}
	}
	s.sum.Elapsed = time.Since(started)
	return s.sum, nil
}

// at schedules fn at t; events later than now are dropped (they have not
// happened yet). Events may schedule more events during the replay.
func (s *demoGen) at(t time.Time, fn func(ctx context.Context) error) {
	if fn == nil || t.After(s.now.Add(-time.Minute)) {
		return
	}
	s.seq++
	heap.Push(&s.queue, demoEvent{at: t, seq: s.seq, fn: fn})
}

// after schedules fn d after the event being replayed.
func (s *demoGen) after(d time.Duration, fn func(ctx context.Context) error) {
	s.at(s.cur.Add(d), fn)
}

// run replays the events in time order with the clock set to each.
func (s *demoGen) run(ctx context.Context) error {
	for s.queue.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := heap.Pop(&s.queue).(demoEvent)
		s.cur = e.at
		s.clock.Set(e.at)
		if err := e.fn(ctx); err != nil {
			return fmt.Errorf("demo activity at %s: %w", e.at.In(rules.CST).Format("2006-01-02 15:04"), err)
		}
	}
	return nil
}

// demoActivity are the cities' scan rates (scans per resident per day), in
// the order of their codes: Xi'an and Baoji busy, Shangluo and Ankang quiet.
var demoActivity = []float64{0.16, 0.03, 0.1, 0.04, 0.07, 0.05, 0.02, 0.06, 0.015, 0.012, 0.05}

// load reads the cities, two counties of each with communities, and the
// demo staff, as the system (ctx's actor).
func (s *demoGen) load(ctx context.Context) error {
	regions := &postgres.RegionService{DB: s.db}
	children := func(parent string) ([]*healthcode.Region, error) {
		list, _, err := regions.ListRegions(ctx, healthcode.RegionFilter{ParentCode: parent, First: 10000})
		if err != nil {
			return nil, fmt.Errorf("load regions: %w", err)
		}
		return list, nil
	}
	communities, err := s.db.Communities(ctx)
	if err != nil {
		return err
	}
	cities, err := children(healthcode.ProvinceCode)
	if err != nil {
		return err
	}
	for _, cr := range cities {
		if cr.Level != healthcode.LevelCity {
			continue
		}
		counties, err := children(cr.Code)
		if err != nil {
			return err
		}
		// 雁塔区 first: the demo accounts of the county work there.
		sort.SliceStable(counties, func(i, j int) bool { return counties[i].Code == "610113" && counties[j].Code != "610113" })
		c := &demoCity{code: cr.Code, name: cr.Name, activity: demoActivity[len(s.cities)%len(demoActivity)]}
		s.cities = append(s.cities, c)
		for _, kr := range counties {
			if kr.Level != healthcode.LevelCounty || len(c.counties) == 2 {
				continue
			}
			var comms []string
			for _, m := range communities {
				if len(comms) < 4 && strings.HasPrefix(m.Code, kr.Code) {
					comms = append(comms, m.Code)
				}
			}
			if len(comms) > 0 {
				c.counties = append(c.counties, &demoCounty{code: kr.Code, name: kr.Name, city: c, communities: comms})
			}
		}
	}
	units, err := censusUnits()
	if err != nil {
		return err
	}
	total := 0.0
	for _, u := range units {
		total += u.population
	}
	for _, u := range units {
		for _, c := range s.cities {
			if strings.HasPrefix(u.code, c.code) {
				c.share += u.population / total
			}
		}
	}
	staff := &postgres.StaffService{DB: s.db}
	want := map[string]bool{"admin": true, "operator": true, "yanta_handler": true, "hotline_handler": true, "xian_admin": true}
	for f := (healthcode.StaffFilter{First: 1000}); ; {
		list, more, err := staff.ListStaff(ctx, f)
		if err != nil {
			return fmt.Errorf("load demo staff: %w", err)
		}
		for _, st := range list {
			if want[st.Username] {
				s.staff[st.Username] = &healthcode.Actor{Kind: healthcode.ActorStaff, ID: st.ID, Name: st.Username}
			}
			f.After = st.ID
		}
		if !more {
			break
		}
	}
	for _, u := range []string{"admin", "operator", "yanta_handler", "hotline_handler"} {
		if s.staff[u] == nil {
			return healthcode.Errorf(healthcode.EINVALID, "demo account %s is missing: seed the demo accounts first", u)
		}
	}
	return nil
}

func (s *demoGen) as(ctx context.Context, username string) context.Context {
	return healthcode.NewContextWithActor(ctx, s.staff[username])
}

// creditCode draws a valid unified social credit code.
func (s *demoGen) creditCode(county string) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	body := "91" + county
	for len(body) < 17 {
		body += string(chars[s.rng.IntN(len(chars))])
	}
	c, _ := healthcode.CreditCodeCheck(body)
	return body + string(c)
}

var demoVenues = []struct{ kind, name string }{
	{healthcode.VenueResidentialEntrance, "小区东门"}, {healthcode.VenueIndoorPublic, "综合超市"},
	{healthcode.VenueMedical, "社区卫生服务中心"}, {healthcode.VenueEntrance, "办公楼入口"},
	{healthcode.VenueBusStation, "汽车站"}, {healthcode.VenueRailwayStation, "火车站"},
	{healthcode.VenueMetroStation, "地铁站"}, {healthcode.VenueTrafficCheckpoint, "高速出口查验点"},
}

// planCheckpoints registers an institution with venues and a handling unit
// in each county the day before the replay.
func (s *demoGen) planCheckpoints(sys context.Context) {
	day := s.start.AddDate(0, 0, -1)
	i := 0
	for _, c := range s.cities {
		for _, k := range c.counties {
			i++
			at := day.Add(9*time.Hour + time.Duration(i)*7*time.Minute)
			nVenues := 2 + s.rng.IntN(len(demoVenues)-1)
			credit := s.creditCode(k.code[:6])
			username := "demo_inst_" + k.code
			phone := fmt.Sprintf("139%08d", s.rng.IntN(100_000_000))
			s.at(at, func(ctx context.Context) error {
				cs := &postgres.CheckpointService{DB: s.db}
				reg, err := cs.RegisterInstitution(sys, healthcode.NewInstitution{
					Name: k.name + "联防联控查验点管理中心", CreditCode: credit, RegionCode: k.code,
					ContactName: "联络员", ContactPhone: phone,
					AdminUsername: username, AdminDisplayName: k.name + "机构管理员", AdminPassword: Password})
				if err != nil {
					return fmt.Errorf("register institution in %s: %w", k.code, err)
				}
				s.sum.Institutions++
				k.institution = reg.Institution.ID
				k.admin = &healthcode.Actor{Kind: healthcode.ActorStaff, ID: reg.Admin.ID, Name: reg.Admin.Username}
				actx := healthcode.NewContextWithActor(ctx, k.admin)
				for v := 0; v < nVenues; v++ {
					vt := demoVenues[(v+i)%len(demoVenues)]
					comm := k.communities[v%len(k.communities)]
					venue, err := cs.CreateVenue(actx, k.institution, healthcode.NewVenue{Name: k.name + vt.name, Type: vt.kind, RegionCode: comm})
					if err != nil {
						return fmt.Errorf("create venue in %s: %w", comm, err)
					}
					s.sum.Venues++
					k.venues = append(k.venues, venue.ID)
				}
				u, err := s.tickets.CreateHandlingUnit(s.as(ctx, "admin"), k.code, k.name+"卫生健康局12320承办组")
				if err != nil {
					return fmt.Errorf("create handling unit in %s: %w", k.code, err)
				}
				k.unit = u.ID
				s.units[k.code] = u.ID
				return nil
			})
		}
	}
}

// loadPersons reads the persons created so far, by city, to be scanned.
func (s *demoGen) loadPersons(ctx context.Context) error {
	holders, err := s.codes.CodeHolders(healthcode.NewContextWithActor(ctx, healthcode.SystemActor))
	if err != nil {
		return err
	}
	s.persons = map[string][]demoPerson{}
	for _, h := range holders {
		p := demoPerson{id: h.PersonID, codeID: h.CodeID, name: h.MaskedName, col: string(h.Colour),
			residence: h.ResidenceCode, city: h.ResidenceCode[:4]}
		s.persons[p.city] = append(s.persons[p.city], p)
	}
	return nil
}

// planScans scans residents at their city's venues every day; each
// county's institution uploads its day in the evening. About one scan in
// 700 finds a fever.
func (s *demoGen) planScans(days, persons int) {
	for d := 0; d <= days; d++ {
		day := s.start.AddDate(0, 0, d)
		upload := day.Add(21 * time.Hour)
		last := upload
		if d == days { // today: what happened until now
			upload = s.now.Add(-2 * time.Minute)
			last = upload.Add(-5 * time.Minute)
		}
		if last.Before(day.Add(8 * time.Hour)) {
			continue
		}
		weekday := 1.0
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekday = 0.7
		}
		// Draw the day's scans now, so the plan does not depend on what
		// the replay finds; persons are picked when the upload runs.
		type plannedScan struct {
			venue int64
			at    time.Time
			pick  uint64
			temp  float64
		}
		var cities []*demoCity
		plan := map[*demoCounty][]plannedScan{}
		for _, c := range s.cities {
			cities = append(cities, c)
			for _, k := range c.counties {
				span := last.Sub(day.Add(7 * time.Hour))
				residents := float64(persons) * c.share / float64(len(c.counties))
				n := int(residents*c.activity*weekday*(0.8+0.4*s.rng.Float64())) + 1
				for range n {
					tenths := 360 + s.rng.IntN(12)
					if s.rng.IntN(700) == 0 {
						tenths = 374 + s.rng.IntN(15)
					}
					plan[k] = append(plan[k], plannedScan{pick: s.rng.Uint64(), temp: float64(tenths) / 10,
						at: day.Add(7*time.Hour + time.Duration(s.rng.Int64N(int64(span)))).Truncate(time.Second)})
				}
			}
		}
		s.at(upload, func(ctx context.Context) error {
			if s.persons == nil {
				if err := s.loadPersons(ctx); err != nil {
					return err
				}
			}
			svc := &postgres.ScanService{DB: s.db, Credentials: s.creds}
			for _, c := range cities {
				pool := s.persons[c.code]
				if len(pool) == 0 {
					continue
				}
				for _, k := range c.counties {
					if k.admin == nil || len(plan[k]) == 0 {
						continue
					}
					var batch []healthcode.ScanInput
					for i, p := range plan[k] {
						person := pool[p.pick%uint64(len(pool))]
						iat := p.at.Add(-time.Minute).UTC()
						token, err := s.signer.Sign(credential.Claims{Issuer: s.g.Ring.Issuer(), CodeID: person.codeID,
							Colour: person.col, MaskedName: person.name, Kind: credential.KindElectronic,
							IssuedAt: iat, ExpiresAt: iat.Add(postgres.DefaultElectronicTTL)})
						if err != nil {
							return err
						}
						temp := p.temp
						role := healthcode.ScanVisitor
						if i%5 == 0 {
							role = healthcode.ScanEmployee
						}
						batch = append(batch, healthcode.ScanInput{ScanID: demoUUID(s.rng), VenueID: k.venues[int(p.pick>>32)%len(k.venues)],
							Token: token, ScannedAt: p.at, Temperature: &temp, Role: role})
					}
					actx := healthcode.NewContextWithActor(ctx, k.admin)
					for len(batch) > 0 {
						part := batch[:min(len(batch), postgres.MaxScanBatch)]
						batch = batch[len(part):]
						res, err := svc.RecordScans(actx, part)
						if err != nil {
							return fmt.Errorf("record scans in %s: %w", k.code, err)
						}
						for _, r := range res {
							if r.Status == healthcode.ScanAccepted {
								s.sum.Scans++
								if r.Fever {
									s.sum.Fevers++
								}
							} else if r.Status == healthcode.ScanRejected {
								return fmt.Errorf("scan rejected in %s: %s %s", k.code, r.Reason, r.Message)
							}
						}
					}
				}
			}
			return nil
		})
	}
}

// demoUUID draws a version-4 UUID from rng (deterministic scan ids).
func demoUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Tickets is how many hotline tickets the demo opens, on every date and at
// every size: all of them are opened before the clock's time.
const Tickets = 36

var demoTicketTexts = []struct {
	kind, subject, description string
}{
	{"CONSULTATION", "健康码转码咨询", "来电人询问从外省返回后健康码何时转为绿码，需要提供哪些材料。"},
	{"CONSULTATION", "老人没有智能手机如何出行", "来电人为其父母咨询，老人没有智能手机，乘车和进超市时如何出示健康码。"},
	{"COMPLAINT", "小区门口查验排队过长", "来电人反映早高峰小区门口扫码查验只有一人，排队超过二十分钟，要求增加人手。"},
	{"COMPLAINT", "超市未查验健康码", "来电人反映某超市入口无人查验健康码和体温，存在防控隐患。"},
	{"SUGGESTION", "建议增设纸质健康码办理点", "来电人建议在社区服务中心增设纸质健康码（通行卡）办理窗口，方便老年人。"},
	{"COMPLAINT", "查验点工作人员态度生硬", "来电人反映查验点工作人员态度生硬，未说明黄码原因。"},
	{"CODE_APPEAL", "健康码显示黄码申诉", "来电人称近14天未离开本市，健康码却显示黄码，申请核实。"},
}

// demoTicket is one ticket of the demo: what was drawn for it when the
// replay was planned, and, once opened, the ticket as the service last
// returned it. Its actions are chosen from that ticket's real kind and
// state (demoTicket.next), never from the plan's positions.
type demoTicket struct {
	county  *demoCounty // where the caller's matter lies (an appeal: the person's county)
	kind    string      // the kind asked for; an appeal without a person becomes a complaint
	subject string
	text    string
	phone   string
	place   string // a community of county
	pick    uint64 // draws the appellant among the county's persons

	// quick: a consultation answered at once (直接办结); returns: returned
	// once by the handler (wrong jurisdiction) and dispatched again;
	// reopens: the caller is dissatisfied once (重办); basic: the final
	// callback says 基本满意.
	quick, returns, reopens, basic bool
	// maxSteps bounds the actions (the newest tickets wait in the queues);
	// negative: no bound.
	maxSteps int
	// the waits: before the first action, and after each kind of step
	firstStep, signAfter, startAfter, replyAfter, callbackAfter time.Duration

	t                  *healthcode.Ticket // nil until opened
	steps              int
	returned, reopened bool
}

// planTickets opens Tickets tickets and moves each along its lifecycle
// as far as the time allows: the six newest wait in the queues (two not
// dispatched, two not signed for, two signed), the older ones were opened
// on the days before today and are closed unless their next step lies
// ahead (some after a return, a reopening or a late signature: the quieter
// cities' units sign after a couple of days).
func (s *demoGen) planTickets() {
	var all []*demoCounty
	for _, c := range s.cities {
		all = append(all, c.counties...)
	}
	if len(all) == 0 {
		return
	}
	days := int(s.today.Sub(s.start).Hours() / 24) // the days before today
	for i := range Tickets {
		k := all[s.rng.IntN(len(all))]
		if i%4 == 0 { // the demo handler of 雁塔区 has a queue
			for _, c := range all {
				if c.code == "610113" {
					k = c
				}
			}
		}
		text := demoTicketTexts[s.rng.IntN(len(demoTicketTexts))]
		d := s.rng.IntN(max(days, 1))
		created := s.start.AddDate(0, 0, d).Add(time.Duration(8*60+s.rng.IntN(9*60)) * time.Minute)
		signAfter := time.Duration(10+s.rng.IntN(110)) * time.Minute
		if k.city.activity < 0.04 && s.rng.IntN(2) == 0 {
			signAfter = time.Duration(48+s.rng.IntN(48)) * time.Hour
		}
		scenario := s.rng.IntN(10)
		tk := &demoTicket{county: k, kind: text.kind, subject: text.subject, text: text.description,
			phone: fmt.Sprintf("13%d%08d", 5+s.rng.IntN(4), s.rng.IntN(100_000_000)),
			place: k.communities[s.rng.IntN(len(k.communities))], pick: s.rng.Uint64(),
			quick: text.kind == string(hotline.Consultation) && scenario < 4, returns: scenario == 9,
			reopens: scenario == 8, basic: scenario%3 == 0, maxSteps: -1,
			firstStep: time.Duration(5+s.rng.IntN(20)) * time.Minute, signAfter: signAfter,
			startAfter:    time.Duration(1+s.rng.IntN(20)) * time.Hour,
			replyAfter:    time.Duration(4+s.rng.IntN(40)) * time.Hour,
			callbackAfter: time.Duration(2+s.rng.IntN(30)) * time.Hour}
		if tk.quick {
			tk.firstStep = 6 * time.Minute
		}
		if i < 6 { // the newest: opened in the last hours, prompt handlers
			created = s.now.Add(-time.Duration(i+1) * 47 * time.Minute)
			tk.maxSteps, tk.quick, tk.returns = i/2, false, false
			tk.signAfter = time.Duration(10+s.rng.IntN(20)) * time.Minute
		}
		s.planned = append(s.planned, tk)
		s.at(created, func(ctx context.Context) error {
			if err := s.openTicket(ctx, tk); err != nil {
				return err
			}
			s.after(tk.firstStep, s.advance(tk))
			return nil
		})
	}
}

// openTicket registers tk as the operator. An appeal concerns a person of
// its county (else of another demo county, which then handles it); with
// nobody to appeal for, the caller complains instead.
func (s *demoGen) openTicket(ctx context.Context, tk *demoTicket) error {
	in := healthcode.NewTicket{Kind: tk.kind, Channel: string(hotline.ChannelHotline), CallerPhone: tk.phone,
		Subject: tk.subject, Description: tk.text, PlaceCode: tk.place}
	if tk.kind == string(hotline.CodeAppeal) {
		pid, err := s.appellant(ctx, tk)
		if err != nil {
			return err
		}
		if pid == 0 {
			in.Kind = string(hotline.Complaint)
		} else {
			in.PersonID, in.PlaceCode = pid, ""
		}
	}
	t, err := s.tickets.CreateTicket(s.as(ctx, "operator"), in)
	if err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	tk.t = t
	s.sum.Tickets++
	return nil
}

// appellant draws a person living in tk's county, else in any county with
// a handling unit, registered by now; 0 when there is none.
func (s *demoGen) appellant(ctx context.Context, tk *demoTicket) (int64, error) {
	var served []string
	for _, c := range s.cities {
		for _, k := range c.counties {
			if k.unit != 0 {
				served = append(served, k.code)
			}
		}
	}
	sys := healthcode.NewContextWithActor(ctx, healthcode.SystemActor)
	for _, counties := range [][]string{{tk.county.code}, served} {
		var ids []int64
		for _, county := range counties {
			for f := (healthcode.PersonFilter{RegionCode: county, First: 10000}); ; {
				list, more, err := s.codes.ListPersons(sys, f)
				if err != nil {
					return 0, fmt.Errorf("draw an appellant: %w", err)
				}
				for _, p := range list {
					ids = append(ids, p.ID)
					f.After = p.ID
				}
				if !more {
					break
				}
			}
		}
		if len(ids) > 0 {
			slices.Sort(ids)
			return ids[tk.pick%uint64(len(ids))], nil
		}
	}
	return 0, nil
}

// demoReply is the answer of a handler; an appeal is answered by 驳回申诉
// (the code was right).
func demoReply(kind string) healthcode.TicketAction {
	if kind == string(hotline.CodeAppeal) {
		return healthcode.TicketAction{Action: string(hotline.RejectAppeal), Text: "经核实，申诉人近14天有中风险地区行程，黄码赋码无误。"}
	}
	return healthcode.TicketAction{Action: string(hotline.Reply), Text: "已联系事发地社区核实处理，并向来电人说明情况。"}
}

// next chooses the next action on the ticket from its real kind and state
// (and from what already happened to it): who takes it, the action, and
// how long after it the following one comes. ok is false when the ticket
// is finished (closed or merged).
func (tk *demoTicket) next(units map[string]int64) (who string, in healthcode.TicketAction, wait time.Duration, ok bool) {
	t := tk.t
	handler := "hotline_handler"
	if t.Unit != nil && t.Unit.RegionCode == "610113" {
		handler = "yanta_handler"
	}
	switch hotline.State(t.State) {
	case hotline.Accepted:
		if tk.quick && t.Kind == string(hotline.Consultation) {
			return "operator", healthcode.TicketAction{Action: string(hotline.Close),
				Text: "已当场解答：按本省规定，返陕人员核酸检测阴性且无异常后健康码自动转绿。"}, 0, true
		}
		wait = tk.signAfter
		if tk.returns && !tk.returned {
			wait = 40 * time.Minute
		}
		return "operator", healthcode.TicketAction{Action: string(hotline.Dispatch), TargetUnit: units[t.RegionCode]}, wait, true
	case hotline.Dispatched:
		if tk.returns && !tk.returned {
			return handler, healthcode.TicketAction{Action: string(hotline.Return), Reason: "事发地不在本单位辖区，请核实后重新派单"}, 30 * time.Minute, true
		}
		if tk.reopened {
			return handler, healthcode.TicketAction{Action: string(hotline.Sign)}, 20 * time.Hour, true
		}
		return handler, healthcode.TicketAction{Action: string(hotline.Sign)}, tk.startAfter, true
	case hotline.Signed:
		if tk.reopened { // redone: answered again without more ado
			return handler, demoReply(t.Kind), 24 * time.Hour, true
		}
		return handler, healthcode.TicketAction{Action: string(hotline.Start)}, tk.replyAfter, true
	case hotline.InProgress:
		return handler, demoReply(t.Kind), tk.callbackAfter, true
	case hotline.Replied:
		if tk.reopens && !tk.reopened {
			return "operator", healthcode.TicketAction{Action: string(hotline.Callback), Satisfaction: string(hotline.Dissatisfied),
				Reason: "来电人表示问题仍未解决"}, time.Duration(1+int(tk.pick%3)) * time.Hour, true
		}
		sat := hotline.Satisfied
		if tk.basic || tk.reopened {
			sat = hotline.BasicallySatisfied
		}
		return "operator", healthcode.TicketAction{Action: string(hotline.Callback), Satisfaction: string(sat)}, 0, true
	}
	return "", healthcode.TicketAction{}, 0, false
}

// advance takes the ticket's next action and schedules the one after.
func (s *demoGen) advance(tk *demoTicket) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if tk.maxSteps >= 0 && tk.steps >= tk.maxSteps {
			return nil
		}
		who, in, wait, ok := tk.next(s.units)
		if !ok {
			return nil
		}
		t, err := s.tickets.Act(s.as(ctx, who), tk.t.ID, in)
		if err != nil {
			return fmt.Errorf("ticket %d (%s, %s) %s: %w", tk.t.ID, tk.t.Kind, tk.t.State, in.Action, err)
		}
		switch {
		case in.Action == string(hotline.Return):
			tk.returned = true
		case in.Action == string(hotline.Callback) && in.Satisfaction == string(hotline.Dissatisfied):
			tk.reopened = true
		}
		tk.t = t
		tk.steps++
		if hotline.State(t.State).Open() {
			s.after(wait, s.advance(tk))
		}
		return nil
	}
}

var demoMembers = []healthcode.JointMeetingMember{
	{Department: "卫生健康委员会", Name: "王建国", Role: "召集人", Contact: "029-86781234"},
	{Department: "大数据管理局", Name: "李娜", Role: "成员", Contact: "029-86785678"},
	{Department: "公安局", Name: "张伟", Role: "成员", Contact: "029-86789012"},
}

// planReports drafts the weekly reports every Friday morning and has most
// cities submit them on time, one city late and one not at all; about two
// thirds of the cities and some counties have joint meeting lists.
func (s *demoGen) planReports(sys context.Context) {
	for d := s.start; !d.After(s.today); d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Friday {
			continue
		}
		friday := d
		s.at(friday.Add(8*time.Hour), func(ctx context.Context) error {
			_, err := s.super.GenerateWeeklyDrafts(sys, friday)
			return err
		})
		for i, c := range s.cities {
			var at time.Time
			switch {
			case i == len(s.cities)-1: // never submitted
				continue
			case i == len(s.cities)-3: // late: the next morning
				at = friday.Add(33 * time.Hour)
			default:
				at = friday.Add(9*time.Hour + time.Duration(i)*25*time.Minute)
			}
			s.at(at, func(ctx context.Context) error {
				if _, err := s.super.SubmitWeeklyReport(s.as(ctx, "admin"), c.code, friday, c.name+"本周健康码推广应用和查验工作正常开展。"); err != nil {
					return fmt.Errorf("submit weekly report of %s: %w", c.code, err)
				}
				s.sum.WeeklyReports++
				return nil
			})
		}
	}
	// Joint meeting lists: before the deadline when it lies ahead of the
	// replay, else when the lists were due.
	due := s.g.jointMeetingDue()
	at := due.Add(-72 * time.Hour)
	if due.After(s.start) {
		at = s.start.Add(10 * time.Hour)
	}
	var regions []string
	for i, c := range s.cities {
		if i%3 != 2 {
			regions = append(regions, c.code)
		}
		if i%2 == 0 && len(c.counties) > 0 {
			regions = append(regions, c.counties[0].code)
		}
	}
	s.at(at, func(ctx context.Context) error {
		for _, r := range regions {
			if _, err := s.super.SubmitJointMeetingList(s.as(ctx, "admin"), r, slices.Clone(demoMembers)); err != nil {
				return fmt.Errorf("joint meeting list of %s: %w", r, err)
			}
			s.sum.JointLists++
		}
		return nil
	})
}

// planNational pushes every replayed day at 00:30 the next morning to the
// national stub; one day's push is acknowledged late (after 10:00).
func (s *demoGen) planNational(sys context.Context, seed int64) error {
	keySeed := make([]byte, ed25519.SeedSize)
	copy(keySeed, "healthcode-demo-national-"+strconv.FormatInt(seed, 10))
	key := ed25519.NewKeyFromSeed(keySeed)
	stub := exchange.NewStub(key.Public().(ed25519.PublicKey))
	stub.Now = s.clock.Now
	push := &postgres.NationalPush{DB: s.db, Key: key, Sender: stub}
	lateDay := s.start.AddDate(0, 0, 4)
	for d := s.start.AddDate(0, 0, -7); d.Before(s.today); d = d.AddDate(0, 0, 1) {
		day := d
		at := day.AddDate(0, 0, 1).Add(30 * time.Minute)
		if day.Equal(lateDay) {
			at = day.AddDate(0, 0, 1).Add(11 * time.Hour)
		}
		s.at(at, func(ctx context.Context) error {
			if err := push.Push(sys, day); err != nil {
				return err
			}
			s.sum.NationalDays++
			return nil
		})
	}
	return nil
}

// jointMeetingDue is the deadline of the joint meeting lists.
func (g *Activity) jointMeetingDue() time.Time {
	if g.JointMeetingDue.IsZero() {
		return postgres.DefaultJointMeetingDue
	}
	return g.JointMeetingDue
}

// dayStart is the start of t's day in China Standard Time.
func dayStart(t time.Time) time.Time {
	t = t.In(rules.CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, rules.CST)
}

// mondayOf is the Monday 00:00 (China Standard Time) of t's week.
func mondayOf(t time.Time) time.Time {
	d := dayStart(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
