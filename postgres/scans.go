package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/credential"
)

// ScanService implements healthcode.ScanService.
type ScanService struct {
	DB          *DB
	Credentials *CredentialService
	// LateWindow is how old a scan may be when it is uploaded (offline
	// scanners); default DefaultLateWindow.
	LateWindow time.Duration
}

var _ healthcode.ScanService = (*ScanService)(nil)

// DefaultLateWindow accepts offline scans uploaded up to three days late.
const DefaultLateWindow = 72 * time.Hour

// MaxScanBatch bounds one upload.
const MaxScanBatch = 1000

// isUUID reports whether s is a UUID in its 36-character text form
// (8-4-4-4-12 hexadecimal digits, either case), as a scan id must be.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

type scanVenue struct {
	institution int64
	region      string
	path        string
	active      bool
}

type acceptedScan struct {
	in     *healthcode.ScanInput
	res    *healthcode.ScanResult
	venue  scanVenue
	claims *credential.Claims // as parsed, nil unless written; verified once settled
	// venueOK marks a scan that passed the venue checks but whose token
	// fails (its reason comes with the signatures).
	venueOK bool
	person  int64
	reeval  bool
}

// RecordScans implements healthcode.ScanService.
func (s *ScanService) RecordScans(ctx context.Context, scans []healthcode.ScanInput) ([]healthcode.ScanResult, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if len(scans) == 0 || len(scans) > MaxScanBatch {
		return nil, healthcode.Errorf(healthcode.EINVALID, "每批上传 1 至 %d 条扫码记录", MaxScanBatch)
	}
	now := s.DB.now()
	window := s.LateWindow
	if window <= 0 {
		window = DefaultLateWindow
	}
	// The checks that need no database come first.
	results := make([]healthcode.ScanResult, len(scans))
	var checked []*acceptedScan
	venueIDs := make([]int64, 0, 1)
	for i := range scans {
		in, res := &scans[i], &results[i]
		res.ScanID = in.ScanID
		reject := func(reason, msg string) { res.Status, res.Reason, res.Message = healthcode.ScanRejected, reason, msg }
		switch {
		case !isUUID(in.ScanID):
			reject(healthcode.ReasonInvalid, "扫码记录编号应为 UUID")
		case in.Role != healthcode.ScanEmployee && in.Role != healthcode.ScanVisitor:
			reject(healthcode.ReasonInvalid, "人员类型应为 EMPLOYEE（员工）或 VISITOR（访客）")
		case in.Temperature != nil && (*in.Temperature < 34 || *in.Temperature > 43):
			reject(healthcode.ReasonInvalid, "体温应在 34.0 至 43.0 ℃ 之间，请重新测量")
		case in.ScannedAt.After(now.Add(credential.DefaultSkew)) || in.ScannedAt.Before(now.Add(-window)):
			reject(healthcode.ReasonOutsideWindow, "扫码时间晚于现在或超过补传时限（3 天）")
		default:
			checked = append(checked, &acceptedScan{in: in, res: res})
			if !slices.Contains(venueIDs, in.VenueID) {
				venueIDs = append(venueIDs, in.VenueID)
			}
		}
	}
	// One round trip reads the inspector's institution, the batch's venues
	// and the revocation state, while the tokens are parsed with the
	// verifier built last (again, should the state have moved since).
	var institution int64
	var state string
	venues := map[int64]scanVenue{}
	b := &pgx.Batch{}
	b.Queue(`SELECT m.institution_id FROM institution_members m JOIN institutions i ON i.id = m.institution_id
		WHERE m.staff_id = $1 AND i.status = 'ACTIVE'`, a.ID).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&institution); errors.Is(err, pgx.ErrNoRows) {
			return healthcode.Errorf(healthcode.EFORBIDDEN, "只有已登记机构的防疫员可以上传扫码记录")
		} else if err != nil {
			return fmt.Errorf("look up institution: %w", err)
		}
		return nil
	})
	b.Queue(`SELECT v.id, v.institution_id, v.region_code, v.region_path::text, v.status = 'ACTIVE' AND i.status = 'ACTIVE'
		FROM venues v JOIN institutions i ON i.id = v.institution_id WHERE v.id = ANY($1)`, venueIDs).Query(func(rows pgx.Rows) error {
		var id int64
		var v scanVenue
		if _, err := pgx.ForEachRow(rows, []any{&id, &v.institution, &v.region, &v.path, &v.active}, func() error {
			venues[id] = v
			return nil
		}); err != nil {
			return fmt.Errorf("load venues: %w", err)
		}
		return nil
	})
	b.Queue(verifierStateSQL).QueryRow(func(row pgx.Row) error { return row.Scan(&state) })
	loaded := make(chan error, 1)
	go func() { loaded <- s.DB.Pool.SendBatch(ctx, b).Close() }()
	// Signatures are the costly part: they are checked in the background
	// while the scans whose other checks pass are written provisionally, in
	// one transaction, which commits only once every signature is settled.
	items := make([]credential.BatchItem, len(checked))
	for i, sc := range checked {
		items[i] = credential.BatchItem{Token: strings.TrimSpace(sc.in.Token), At: sc.in.ScannedAt}
	}
	verifier, verifierState := s.Credentials.cachedVerifier()
	var pending *credential.PendingBatch
	if verifier != nil && len(items) > 0 {
		pending = verifier.StartBatch(items, credential.DefaultSkew)
	}
	if err := <-loaded; err != nil { // FORBIDDEN for anyone but an inspector
		return nil, err
	}
	if len(checked) == 0 {
		return results, nil
	}
	if pending == nil || state != verifierState {
		if verifier, err = s.Credentials.verifierAt(ctx, state); err != nil {
			return nil, err
		}
		pending = verifier.StartBatch(items, credential.DefaultSkew)
	}
	// One authorization per venue region, not per scan.
	allowedIn := map[string]bool{}
	allowed := func(region string) bool {
		ok, seen := allowedIn[region]
		if !seen {
			ok = s.DB.may(ctx, a, healthcode.PermScanRecord, region)
			allowedIn[region] = ok
		}
		return ok
	}
	var ok []*acceptedScan // written provisionally
	for i, r := range pending.Unverified() {
		sc := checked[i]
		v, known := venues[sc.in.VenueID]
		switch {
		case !known || v.institution != institution || !v.active:
			sc.res.Status, sc.res.Reason, sc.res.Message = healthcode.ScanRejected, healthcode.ReasonVenueNotYours, "该查验场所不属于本机构或已停用"
		case !allowed(v.region):
			sc.res.Status, sc.res.Reason, sc.res.Message = healthcode.ScanRejected, healthcode.ReasonVenueNotYours, "无权在该查验场所登记"
		case r.Err == nil:
			sc.venue, sc.claims = v, r.Claims
			sc.res.Colour, sc.res.MaskedName = healthcode.Colour(sc.claims.Colour), sc.claims.MaskedName
			sc.res.Fever = sc.in.Temperature != nil && *sc.in.Temperature > healthcode.FeverThreshold
			ok = append(ok, sc)
		default:
			sc.venueOK = true // its token fails: Wait gives the reason
		}
	}
	// settle waits for the signatures and rejects the scans whose token
	// fails; it reports whether every scan written provisionally passed.
	var final []credential.BatchResult
	settle := func() (bool, error) {
		if final == nil {
			final = pending.Wait()
		}
		passed := true
		for i, r := range final {
			sc := checked[i]
			if r.Err == nil || (sc.claims == nil && !sc.venueOK) {
				continue // good, or rejected for its venue
			}
			ve := credential.AsVerifyError(r.Err)
			if ve == nil {
				return false, r.Err
			}
			sc.res.Status, sc.res.Reason, sc.res.Message = healthcode.ScanRejected, ve.Reason, ve.Message()
			sc.res.Colour, sc.res.MaskedName, sc.res.Fever = "", "", false
			passed = passed && sc.claims == nil // not written provisionally
		}
		return passed, nil
	}
	if len(ok) == 0 {
		if _, err := settle(); err != nil {
			return nil, err
		}
		return results, nil
	}
	// The persons and area risks are read on another connection while the
	// signatures are checked.
	looked := make(chan struct{})
	var look *scanLookup
	var lookErr error
	go func() {
		defer close(looked)
		look, lookErr = s.lookUp(ctx, ok)
	}()
	getLook := func() (*scanLookup, error) {
		<-looked
		return look, lookErr
	}
	err = s.storeBatch(ctx, a, institution, ok, getLook, settle)
	if errors.Is(err, errSignatureFailed) {
		// Rare (a forged or corrupted code): store the batch again
		// without the scans whose signature failed.
		var verified []*acceptedScan
		for _, sc := range ok {
			if sc.res.Status != healthcode.ScanRejected {
				verified = append(verified, sc)
			}
		}
		if err = nil; len(verified) > 0 {
			err = s.storeBatch(ctx, a, institution, verified, getLook, nil)
		}
	}
	if err != nil {
		return nil, err
	}
	return results, nil
}

// scanLookup is what a batch's transaction needs to know beforehand.
type scanLookup struct {
	persons   map[string]int64 // by code id, of our own codes
	residence map[int64]string // by person
	risks     map[string]*riskEntry
}

// lookUp reads, in one round trip, the persons of our own codes (named by
// code id, which never changes) and the risk designations in force.
func (s *ScanService) lookUp(ctx context.Context, ok []*acceptedScan) (*scanLookup, error) {
	var codeIDs []string
	places := map[string]bool{}
	for _, sc := range ok {
		if sc.claims.Issuer == s.Credentials.Ring.Issuer() {
			codeIDs = append(codeIDs, sc.claims.CodeID)
		}
		places[sc.venue.region] = true
	}
	look := &scanLookup{persons: map[string]int64{}, residence: map[int64]string{}, risks: map[string]*riskEntry{}}
	b := &pgx.Batch{}
	if len(codeIDs) > 0 {
		b.Queue("SELECT code_id, id, residence_code FROM persons WHERE code_id = ANY($1)", codeIDs).Query(func(rows pgx.Rows) error {
			var cid, res string
			var id int64
			if _, err := pgx.ForEachRow(rows, []any{&cid, &id, &res}, func() error {
				look.persons[cid], look.residence[id] = id, res
				return nil
			}); err != nil {
				return fmt.Errorf("look up persons by code: %w", err)
			}
			return nil
		})
	}
	queueAreaRisks(b, s.DB.now(), places, look.risks)
	if err := s.DB.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return look, nil
}

// errSignatureFailed aborts a transaction that wrote a scan provisionally
// whose signature then failed.
var errSignatureFailed = errors.New("a provisionally written scan failed its signature check")

// storeBatch stores the scans in one transaction (see store), first with
// COPY, and again with INSERT when a scan was uploaded before.
func (s *ScanService) storeBatch(ctx context.Context, a *healthcode.Actor, institution int64, ok []*acceptedScan,
	look func() (*scanLookup, error), settle func() (bool, error)) error {
	// The lookup has its own connection: it ends before the transaction
	// takes one, so that no upload holds a connection while it waits for
	// another (uploads filling the pool would wait on each other).
	if _, err := look(); err != nil {
		return err
	}
	err := s.DB.InTx(ctx, func(tx *Tx) error {
		return s.store(ctx, tx, a, institution, ok, look, true, settle)
	})
	if isUniqueViolation(err) { // a scan uploaded before: skip the duplicates
		err = s.DB.InTx(ctx, func(tx *Tx) error {
			return s.store(ctx, tx, a, institution, ok, look, false, settle)
		})
	}
	if pgCode(err) == pgerrcode.CheckViolation {
		s.DB.scanPartitions().Clear() // no partition for a row: one was dropped
	}
	return err
}

// store writes the accepted scans of a batch in one transaction: the scans
// (duplicates skipped; a scan of our own person is also their stay), the
// fever reports and their health records, and the re-evaluation of the
// persons whose colour the scan can change.
//
// With byCopy the scans are streamed with COPY, the fast path of a first
// upload; it fails with a unique violation when any of them is stored
// already, and the batch is then stored again with byCopy false, which
// skips those with INSERT ... ON CONFLICT DO NOTHING.
//
// When settle is not nil the scans' signatures are still being checked:
// store calls it once the scans are written, and returns errSignatureFailed
// when one of them failed.
func (s *ScanService) store(ctx context.Context, tx *Tx, a *healthcode.Actor, institution int64, ok []*acceptedScan,
	look func() (*scanLookup, error), byCopy bool, settle func() (bool, error)) error {
	days := map[time.Time]bool{}
	for _, sc := range ok {
		days[healthcode.DayStart(sc.in.ScannedAt)] = true
	}
	for d := range days {
		if err := ensureScanPartition(ctx, tx, d); err != nil {
			return err
		}
		tx.MarkIndicatorDays(d) // scans per 1,000 residents of the scans' days
	}
	if byCopy {
		if err := tx.useLtree(ctx); err != nil {
			return err
		}
	}
	lk, err := look()
	if err != nil {
		return err
	}
	persons, residence, risks := lk.persons, lk.residence, lk.risks
	var ids, codes, issuers, colours, roles, paths []string
	var ats []time.Time
	var venueIDs []int64
	var personIDs []*int64
	var temps []*float64
	var fevers []bool
	for _, sc := range ok {
		var pid *int64
		if sc.claims.Issuer == s.Credentials.Ring.Issuer() {
			if id, found := persons[sc.claims.CodeID]; found {
				sc.person, pid = id, &id
			}
		}
		ids = append(ids, strings.ToLower(sc.in.ScanID))
		ats = append(ats, sc.in.ScannedAt)
		venueIDs = append(venueIDs, sc.in.VenueID)
		issuers = append(issuers, sc.claims.Issuer)
		codes = append(codes, sc.claims.CodeID)
		personIDs = append(personIDs, pid)
		colours = append(colours, sc.claims.Colour)
		temps = append(temps, sc.in.Temperature)
		roles = append(roles, sc.in.Role)
		fevers = append(fevers, sc.res.Fever)
		paths = append(paths, sc.venue.path)
	}
	type scanKey struct {
		id string
		at int64 // microseconds, as stored
	}
	// A scan repeated in the batch (same id and time) is written once: its
	// first copy is new, the others are duplicates.
	fresh := make([]bool, len(ok))
	if byCopy {
		first := map[scanKey]bool{}
		var rows [][]any
		for i, sc := range ok {
			k := scanKey{ids[i], sc.in.ScannedAt.UnixMicro()}
			if first[k] {
				continue
			}
			first[k], fresh[i] = true, true
			var temp any
			if temps[i] != nil {
				temp = *temps[i]
			}
			var pid any
			if personIDs[i] != nil {
				pid = *personIDs[i]
			}
			rows = append(rows, []any{ids[i], ats[i], tx.Now, venueIDs[i], institution, a.ID, issuers[i], codes[i], pid,
				colours[i], temp, roles[i], fevers[i], paths[i]})
		}
		// Fails with a unique violation when a scan is already stored (or
		// is being stored by a concurrent upload); RecordScans then runs
		// the batch again with byCopy false.
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"scans"}, scanCopyColumns, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy scans: %w", err)
		}
	} else {
		rows, err := tx.Query(ctx, `INSERT INTO scans (scan_id, scanned_at, received_at, venue_id, institution_id, inspector_id, issuer,
				code_id, person_id, colour, temperature, scan_role, fever, region_path)
			SELECT i, t, $13, v, $14, $15, iss, c, p, col, tmp, r, f, path::ltree
			FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[],
			            $8::numeric[], $9::text[], $10::boolean[], $11::text[], $12::int[]) AS x(i, t, v, iss, c, p, col, tmp, r, f, path, ord)
			ORDER BY ord
			ON CONFLICT (scan_id, scanned_at) DO NOTHING RETURNING scan_id::text, scanned_at`,
			ids, ats, venueIDs, issuers, codes, personIDs, colours, temps, roles, fevers, paths, seq(len(ids)), tx.Now, institution, a.ID)
		if err != nil {
			return fmt.Errorf("insert scans: %w", err)
		}
		inserted := map[scanKey]bool{}
		var id string
		var at time.Time
		if _, err := pgx.ForEachRow(rows, []any{&id, &at}, func() error {
			inserted[scanKey{id, at.UnixMicro()}] = true
			return nil
		}); err != nil {
			return fmt.Errorf("insert scans: %w", err)
		}
		for i, sc := range ok {
			k := scanKey{ids[i], sc.in.ScannedAt.UnixMicro()}
			fresh[i], inserted[k] = inserted[k], false
		}
	}
	if settle != nil {
		if passed, err := settle(); err != nil {
			return err
		} else if !passed {
			return errSignatureFailed
		}
	}
	// The scan of one of our persons is their stay at the venue's region
	// (its row is the fact, see loadFacts); a fever is also a health record.
	var reeval []int64
	var hPids []int64
	var hAts []time.Time
	var hTemps []float64
	var hRefs []string
	for i, sc := range ok {
		sc.reeval = false
		if !fresh[i] {
			sc.res.Status, sc.res.Message = healthcode.ScanDuplicate, "该扫码记录已上传过"
			continue
		}
		sc.res.Status = healthcode.ScanAccepted
		ref := "scan:" + ids[i] // ids are lower-case
		if sc.person != 0 {
			if sc.res.Fever {
				hPids, hAts, hTemps, hRefs = append(hPids, sc.person), append(hAts, sc.in.ScannedAt),
					append(hTemps, *sc.in.Temperature), append(hRefs, ref)
			}
			reeval = append(reeval, sc.person)
			sc.reeval = true
		}
		if sc.res.Fever {
			region := sc.venue.region
			if r, found := residence[sc.person]; found {
				region = r // the person's community is responsible
			}
			var person any
			if sc.person != 0 {
				person = sc.person
			}
			if _, err := tx.Exec(ctx, `INSERT INTO fever_reports (scan_id, scanned_at, person_id, venue_id, region_code, region_path, temperature, created_at)
				VALUES ($1, $2, $3, $4, $5, $6::text::ltree, $7, $8) ON CONFLICT (scan_id) DO NOTHING`,
				strings.ToLower(sc.in.ScanID), sc.in.ScannedAt, person, sc.in.VenueID, region, ltreePath(region), *sc.in.Temperature, tx.Now); err != nil {
				return fmt.Errorf("record fever report: %w", err)
			}
			if err := notifyFever(ctx, tx, region, strings.ToLower(sc.in.ScanID), *sc.in.Temperature, sc.res.MaskedName); err != nil {
				return err
			}
			if err := tx.Audit(ctx, healthcode.AuditRecord{Role: healthcode.RoleInspector, RegionCode: region, Action: "fever.report",
				Object: ref, Detail: map[string]any{"temperature": *sc.in.Temperature, "venue": sc.in.VenueID}}); err != nil {
				return err
			}
		}
	}
	if len(hPids) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO health_records (person_id, at, temperature, symptoms, source, source_ref, actor, created_at)
			SELECT p, t, tmp, '{}', 'SCAN', r, $5, $6 FROM unnest($1::bigint[], $2::timestamptz[], $3::numeric[], $4::text[]) AS x(p, t, tmp, r)`,
			hPids, hAts, hTemps, hRefs, a.Subject(), tx.Now); err != nil {
			return fmt.Errorf("record scan temperatures: %w", err)
		}
	}
	// Work proportional to what changed: a scan with a normal temperature at
	// a place with no risk designation in force cannot change a colour (the
	// new stay enters no clause, a checkpoint temperature never counts as a
	// check-in), so only fevers and scans in designated areas re-evaluate.
	if len(reeval) > 0 {
		reeval = reeval[:0]
		for _, sc := range ok {
			if !sc.reeval {
				continue
			}
			risky := sc.res.Fever
			for _, a := range placeAncestors(sc.venue.region) {
				risky = risky || risks[a] != nil
			}
			if risky {
				reeval = append(reeval, sc.person)
			}
		}
	}
	if len(reeval) > 0 {
		codes, err := s.DB.reevaluate(ctx, tx, reeval, "scan")
		if err != nil {
			return err
		}
		for _, sc := range ok {
			if c, found := codes[sc.person]; found && sc.res.Status == healthcode.ScanAccepted {
				sc.res.Colour = c.Colour
			}
		}
	}
	return nil
}

// scanPartitionsByPool holds, per database (pool), the names of the scan
// partitions found to exist: a *sync.Map of name → true.
var scanPartitionsByPool sync.Map

func (db *DB) scanPartitions() *sync.Map {
	m, _ := scanPartitionsByPool.LoadOrStore(db.Pool, new(sync.Map))
	return m.(*sync.Map)
}

// scanCopyColumns are the columns RecordScans writes with COPY (stay_id
// takes its default, the next id of the stays sequence).
var scanCopyColumns = []string{"scan_id", "scanned_at", "received_at", "venue_id", "institution_id", "inspector_id", "issuer",
	"code_id", "person_id", "colour", "temperature", "scan_role", "fever", "region_path"}

func isUniqueViolation(err error) bool { return pgCode(err) == pgerrcode.UniqueViolation }

func seq(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// ensureScanPartition creates the day's partition of scans when missing,
// through the SECURITY DEFINER function create_scan_partition (the
// application role holds no DDL privilege). Concurrent first uploads of a
// day take turns on the function's advisory lock: a bare CREATE TABLE IF NOT
// EXISTS fails in all but one of them.
//
// Partitions found to exist are remembered by the process: partitions are
// not dropped while their days can still be uploaded, and should one be, the
// write that finds no partition for its row makes RecordScans forget them.
func ensureScanPartition(ctx context.Context, tx *Tx, day time.Time) error {
	name := "scans_" + day.Format("20060102")
	if _, ok := tx.db.scanPartitions().Load(name); ok {
		return nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up scan partition %s: %w", name, err)
	}
	if exists {
		tx.db.scanPartitions().Store(name, true)
		return nil
	}
	// The application role has no DDL privilege: the function (migration
	// 000030) creates the partition as its owner, under a per-day lock.
	if _, err := tx.Exec(ctx, "SELECT create_scan_partition($1::date)", day.In(healthcode.CST).Format("2006-01-02")); err != nil {
		return fmt.Errorf("create scan partition %s: %w", name, err)
	}
	return nil
}

const feverColumns = `f.id, f.scan_id::text, f.scanned_at, COALESCE(f.person_id, 0), COALESCE(p.name_masked, ''), f.venue_id, v.name,
	f.region_code, f.temperature::float8, f.status, COALESCE(f.handled_by, ''), f.handled_at, COALESCE(f.reason, ''), f.created_at`

const feverFrom = ` FROM fever_reports f JOIN venues v ON v.id = f.venue_id LEFT JOIN persons p ON p.id = f.person_id`

func scanFever(row pgx.Row) (*healthcode.FeverReport, error) {
	var r healthcode.FeverReport
	err := row.Scan(&r.ID, &r.ScanID, &r.ScannedAt, &r.PersonID, &r.MaskedName, &r.VenueID, &r.VenueName, &r.RegionCode,
		&r.Temperature, &r.Status, &r.HandledBy, &r.HandledAt, &r.Reason, &r.CreatedAt)
	return &r, err
}

// FeverReports implements healthcode.ScanService.
func (s *ScanService) FeverReports(ctx context.Context, region, status string) ([]*healthcode.FeverReport, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermFeverRead, region)
	if err != nil {
		return nil, err
	}
	if status == "" {
		status = "OPEN"
	}
	if status != "OPEN" && status != "TRANSFERRED" && status != "FALSE_ALARM" {
		return nil, healthcode.Errorf(healthcode.EINVALID, "状态应为 OPEN、TRANSFERRED 或 FALSE_ALARM")
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+feverColumns+feverFrom+`
		WHERE in_regions(f.region_path, $1) AND f.status = $2 ORDER BY f.id DESC LIMIT 500`, ltreePaths(visible), status)
	if err != nil {
		return nil, fmt.Errorf("list fever reports: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.FeverReport, error) { return scanFever(r) })
}

// HandleFeverReport implements healthcode.ScanService.
func (s *ScanService) HandleFeverReport(ctx context.Context, id int64, outcome, reason string) (*healthcode.FeverReport, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if outcome != "TRANSFERRED" && outcome != "FALSE_ALARM" {
		return nil, healthcode.Errorf(healthcode.EINVALID, "处理结果应为 TRANSFERRED（已转运至发热门诊）或 FALSE_ALARM（误报）")
	}
	if outcome == "FALSE_ALARM" && reason == "" {
		return nil, healthcode.Errorf(healthcode.EINVALID, "判定为误报须填写原因")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "原因不超过 500 个字")
	}
	var out *healthcode.FeverReport
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		r, err := scanFever(tx.QueryRow(ctx, "SELECT "+feverColumns+feverFrom+" WHERE f.id = $1 FOR UPDATE OF f", id))
		if err != nil {
			return mapError(err, "发热报告不存在")
		}
		// Staff who list fever reports or read persons there see the
		// report (FORBIDDEN without fever.handle); others do not.
		if err := s.DB.authorize(ctx, a, healthcode.PermFeverHandle, r.RegionCode, seenWith("发热报告不存在", healthcode.PermFeverRead, healthcode.PermPersonRead)); err != nil {
			return err
		}
		if r.Status != "OPEN" {
			return healthcode.Errorf(healthcode.ECONFLICT, "该发热报告已处理")
		}
		if _, err := tx.Exec(ctx, `UPDATE fever_reports SET status = $2, handled_by = $3, handled_at = $4, reason = $5 WHERE id = $1`,
			id, outcome, a.Subject(), tx.Now, reason); err != nil {
			return fmt.Errorf("handle fever report: %w", err)
		}
		r.Status, r.HandledBy, r.HandledAt, r.Reason = outcome, a.Subject(), &tx.Now, reason
		out = r
		return tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermFeverHandle, r.RegionCode),
			RegionCode: r.RegionCode, Action: "fever.handle", Object: "fever:" + strconv.FormatInt(id, 10), Reason: reason,
			Detail: map[string]any{"outcome": outcome}})
	})
	return out, err
}

// retractionWhy says why a fact was retracted, for the fever report it
// settles: the appeal ticket when the retraction resolves one (ref
// "ticket:N"), else the retraction's reason.
func retractionWhy(reason, ref string) string {
	if n, ok := strings.CutPrefix(ref, "ticket:"); ok {
		return "申诉工单 #" + n + " 核实"
	}
	return reason
}

// settleFeverReports keeps the fever report of a checkpoint scan true to the
// facts when one of the scan's facts is retracted; RetractFactTx calls it in
// its transaction, so every retraction path (an appeal's correction, a
// health officer's retractFact) settles the report alike. Retracting the
// temperature that raised an open report (kind HEALTH, source SCAN) closes
// it as FALSE_ALARM by the retracting actor, saying why. Retracting only the
// scan's stay (scan true) leaves the temperature on record: the open report
// stays open and its reason says why. Reports already handled are left as
// they are. Each change is audited under role, the retracting actor's.
func settleFeverReports(ctx context.Context, tx *Tx, a *healthcode.Actor, role healthcode.Role, kind string, scan bool,
	factID int64, why, cause string) error {
	var scanID, sql, text, action string
	var args []any
	switch {
	case kind == "HEALTH":
		var source, ref string
		if err := tx.QueryRow(ctx, "SELECT source, COALESCE(source_ref, '') FROM health_records WHERE id = $1",
			factID).Scan(&source, &ref); err != nil {
			return fmt.Errorf("load health record %d: %w", factID, err)
		}
		id, ok := strings.CutPrefix(ref, "scan:")
		if source != "SCAN" || !ok {
			return nil
		}
		scanID, action = id, "fever.close"
		text = "引发本报告的体温记录已撤销（" + why + "），报告随之关闭"
		sql = `UPDATE fever_reports SET status = 'FALSE_ALARM', handled_by = $3, handled_at = $4, reason = $2
			WHERE scan_id = $1::uuid AND status = 'OPEN' RETURNING id, region_code`
		args = []any{scanID, text, a.Subject(), tx.Now}
	case kind == "STAY" && scan:
		if err := tx.QueryRow(ctx, "SELECT scan_id::text FROM scans WHERE stay_id = $1 AND person_id IS NOT NULL",
			factID).Scan(&scanID); err != nil {
			return fmt.Errorf("load scan of stay %d: %w", factID, err)
		}
		action = "fever.note"
		text = "该次扫码已撤销（" + why + "），但本次测温的体温记录仍然有效，报告保持待处理；如体温系误记，请一并撤销该体温记录"
		sql = `UPDATE fever_reports f SET reason = $2 WHERE scan_id = $1::uuid AND status = 'OPEN'
			AND EXISTS (SELECT 1 FROM health_records h WHERE h.person_id = f.person_id AND h.source = 'SCAN'
			            AND h.source_ref = 'scan:' || f.scan_id::text AND h.retracted_at IS NULL)
			RETURNING id, region_code`
		args = []any{scanID, text}
	default:
		return nil
	}
	var id int64
	var region string
	err := tx.QueryRow(ctx, sql, args...).Scan(&id, &region)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // no report, or one already handled
	} else if err != nil {
		return fmt.Errorf("settle fever report of scan %s: %w", scanID, err)
	}
	detail := map[string]any{"fact": cause}
	if action == "fever.close" {
		detail["outcome"] = "FALSE_ALARM"
	}
	return tx.Audit(ctx, healthcode.AuditRecord{Role: role, RegionCode: region, Action: action,
		Object: "fever:" + strconv.FormatInt(id, 10), Reason: text, Detail: detail})
}

// feverContactRoles are the roles whose policy holds fever.handle
// (rbac/policy.csv, docs/roles.md; a test keeps them equal): their holders at
// a report's community, street or compound are texted.
var feverContactRoles = []string{string(healthcode.RoleAdmin), string(healthcode.RoleHealthOfficer)}

// notifyFever texts the staff who handle fever reports of the region (those
// granted a role with fever.handle at its compound, community or street)
// through the outbox, once per report and person.
func notifyFever(ctx context.Context, tx *Tx, region, scanID string, temperature float64, name string) error {
	anc := healthcode.AncestorCodes(region)
	var near []string
	for _, c := range anc {
		if lv, _ := healthcode.LevelOfCode(c); lv == healthcode.LevelCommunity || lv == healthcode.LevelStreet || lv == healthcode.LevelCompound {
			near = append(near, c)
		}
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT s.id, s.phone_enc FROM staff s JOIN grants g ON g.staff_id = s.id
		WHERE g.role = ANY($2) AND g.region_code = ANY($1) AND s.phone_enc IS NOT NULL AND NOT s.disabled`, near, feverContactRoles)
	if err != nil {
		return fmt.Errorf("find fever contacts: %w", err)
	}
	type contact struct {
		id    int64
		phone []byte
	}
	contacts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (contact, error) {
		var c contact
		err := row.Scan(&c.id, &c.phone)
		return c, err
	})
	if err != nil {
		return err
	}
	var msgs []healthcode.SMSMessage
	for _, c := range contacts {
		phone, err := tx.db.PII.Decrypt(c.phone)
		if err != nil {
			return fmt.Errorf("decrypt staff phone: %w", err)
		}
		msgs = append(msgs, healthcode.SMSMessage{Phone: phone,
			Text: fmt.Sprintf("【陕西健康码】发热上报：%s 在查验点体温 %.1f℃，请及时安排转运至发热门诊并在平台处理。", name, temperature),
			Key:  fmt.Sprintf("fever:%s:%d", scanID, c.id)})
	}
	return tx.QueueSMSBatch(ctx, msgs)
}
