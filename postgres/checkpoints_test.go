package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"healthcode"
	"healthcode/credential"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// cpEnv is the stack of one checkpoint test: a fresh database, a real
// enforcer and the service.
type cpEnv struct {
	db  *postgres.DB
	enf *rbac.Enforcer
	svc *postgres.CheckpointService
	seq atomic.Int64
}

var cpKey = bytes.Repeat([]byte{9}, pii.KeySize)

func cpSetup(t testing.TB) *cpEnv {
	t.Helper()
	cipher, err := pii.NewCipher(cpKey)
	if err != nil {
		t.Fatal(err)
	}
	db := &postgres.DB{Pool: pgtest.New(t), PII: cipher}
	enf, err := rbac.New(db.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	db.Authz = enf
	db.GrantsChanged = enf.Invalidate
	return &cpEnv{db: db, enf: enf, svc: &postgres.CheckpointService{DB: db}}
}

// staffCtx returns a context for a staff account.
func cpStaffCtx(id int64, name string) context.Context {
	return healthcode.NewContextWithActor(context.Background(),
		&healthcode.Actor{Kind: healthcode.ActorStaff, ID: id, Name: name})
}

// staff inserts an account homed at region with grants "ROLE@region" (as
// graph/apitest does) and returns its id and a context acting as it.
func (e *cpEnv) staff(t testing.TB, username, region string, grants ...string) (int64, context.Context) {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.Pool.QueryRow(ctx, `INSERT INTO staff (username, display_name, password_hash, region_code, region_path)
		SELECT $1, $1, 'x', code, path FROM regions WHERE code = $2 RETURNING id`, username, region).Scan(&id)
	if err != nil {
		t.Fatalf("create staff %s: %v", username, err)
	}
	for _, g := range grants {
		role, at, _ := strings.Cut(g, "@")
		if _, err := e.db.Pool.Exec(ctx, `INSERT INTO grants (staff_id, role, region_code) VALUES ($1, $2, $3)`, id, role, at); err != nil {
			t.Fatalf("grant %s: %v", g, err)
		}
	}
	e.enf.Invalidate()
	return id, cpStaffCtx(id, username)
}

// cpCode completes a 17-character body with its check character.
func cpCode(t testing.TB, body string) string {
	t.Helper()
	c, ok := healthcode.CreditCodeCheck(body)
	if !ok {
		t.Fatalf("bad credit code body %q", body)
	}
	return body + string(c)
}

// register self-registers an institution (anonymous caller) with a fresh
// credit code and admin username, and approves it as the system.
func (e *cpEnv) register(t testing.TB, name, region string) *healthcode.Registration {
	t.Helper()
	n := e.seq.Add(1)
	reg, err := e.svc.RegisterInstitution(context.Background(), healthcode.NewInstitution{
		Name: name, CreditCode: cpCode(t, fmt.Sprintf("91%sMA6U%05d", region[:6], n)), RegionCode: region,
		ContactName: "张三", ContactPhone: "13800138000",
		AdminUsername: fmt.Sprintf("inst%d.admin", n), AdminDisplayName: name + "管理员", AdminPassword: "secret12345",
	})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	if reg.Institution, err = e.svc.ApproveInstitution(healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor),
		reg.Institution.ID); err != nil {
		t.Fatalf("approve %s: %v", name, err)
	}
	return reg
}

func cpWant(t testing.TB, err error, code string) {
	t.Helper()
	if got := healthcode.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func (e *cpEnv) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreditCode(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"91350100M000100Y43", cpCode(t, "91610113MA6U00001"), " 91350100m000100y43 "} {
		if got, ok := healthcode.NormalizeCreditCode(c); !ok || len(got) != 18 {
			t.Errorf("NormalizeCreditCode(%q) = %q, %v; want valid", c, got, ok)
		}
	}
	for _, c := range []string{
		"91350100M000100Y44",  // wrong check character
		"91350100M000100Y4",   // 17 characters
		"91350100M000100Y433", // 19 characters
		"91350100I000100Y43",  // I is not in the character set
		"91350100O000100Y43",  // nor O
		"", "９1350100M000100Y43",
	} {
		if _, ok := healthcode.NormalizeCreditCode(c); ok {
			t.Errorf("NormalizeCreditCode(%q) valid, want invalid", c)
		}
	}
	// The check character is the one that makes the weighted sum 0 mod 31.
	if c, ok := healthcode.CreditCodeCheck("91350100M000100Y4"); !ok || c != '3' {
		t.Errorf("CreditCodeCheck = %q, %v; want '3'", c, ok)
	}
}

func FuzzCreditCode(f *testing.F) {
	for _, s := range []string{"91350100M000100Y43", "91350100M000100Y4", "", "IIIIIIIIIIIIIIIIII", "000000000000000000"} {
		f.Add(s)
	}
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := healthcode.NormalizeCreditCode(s)
		if ok {
			if len(code) != 18 {
				t.Fatalf("valid code %q has length %d", code, len(code))
			}
			// Exactly one check character fits the body.
			for i := 0; i < len(chars); i++ {
				alt := code[:17] + string(chars[i])
				if _, ok := healthcode.NormalizeCreditCode(alt); ok != (chars[i] == code[17]) {
					t.Fatalf("check character %c of %q: valid = %v", chars[i], code[:17], ok)
				}
			}
		}
		if len(s) >= 17 {
			body := s[:17]
			if c, ok := healthcode.CreditCodeCheck(body); ok {
				if !strings.ContainsRune(chars, rune(c)) {
					t.Fatalf("check character %q outside the character set", c)
				}
				if _, valid := healthcode.NormalizeCreditCode(body + string(c)); !valid {
					t.Fatalf("%q + its check %c is invalid", body, c)
				}
			}
		}
	})
}

func TestInstitutionRegistration(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	ctx := context.Background()
	code := cpCode(t, "91610113MA6U0000A")
	in := healthcode.NewInstitution{
		Name: "雁塔区某科技有限公司", CreditCode: strings.ToLower(code), RegionCode: "610113001",
		ContactName: "李四", ContactPhone: "13912345678",
		AdminUsername: "Keji.Admin", AdminDisplayName: "王五", AdminPassword: "secret12345",
	}
	reg, err := e.svc.RegisterInstitution(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	inst := reg.Institution
	if inst.Status != healthcode.StatusPending || inst.CreditCode != code || inst.RegionCode != "610113001" ||
		inst.ContactPhone != "139****5678" || inst.CreatedBy != "system" {
		t.Fatalf("institution = %+v", inst)
	}
	if reg.Admin.Username != "keji.admin" || reg.Admin.RegionCode != "610113001" {
		t.Fatalf("admin = %+v", reg.Admin)
	}
	var hash, enc []byte
	var path string
	if err := e.db.Pool.QueryRow(ctx, `SELECT contact_phone_hash, contact_phone_enc, region_path::text FROM institutions WHERE id = $1`,
		inst.ID).Scan(&hash, &enc, &path); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, e.db.PII.Hash("phone", "13912345678")) || path != "61.6101.610113.610113001" {
		t.Fatalf("stored phone hash or path wrong: %q", path)
	}
	if plain, err := e.db.PII.Decrypt(enc); err != nil || plain != "13912345678" {
		t.Fatalf("stored phone = %q, %v", plain, err)
	}
	var role string
	var memberInst int64
	if err := e.db.Pool.QueryRow(ctx, `SELECT institution_id, role FROM institution_members WHERE staff_id = $1`,
		reg.Admin.ID).Scan(&memberInst, &role); err != nil || memberInst != inst.ID || role != "INSTITUTION_ADMIN" {
		t.Fatalf("member row = %d %q, %v", memberInst, role, err)
	}
	admin := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: reg.Admin.ID, Name: reg.Admin.Username}
	if err := e.enf.Authorize(ctx, admin, healthcode.PermInspectorManage, "610113001"); err != nil {
		t.Fatalf("new admin lacks inspector.manage: %v", err)
	}
	if err := e.enf.Authorize(ctx, admin, healthcode.PermInspectorManage, "610113002"); err == nil {
		t.Fatal("new admin has inspector.manage outside the institution's region")
	}
	var audits int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('institution.register', 'staff.create', 'grant.create')`).Scan(&audits); err != nil || audits != 3 {
		t.Fatalf("audit records = %d, %v", audits, err)
	}
	got, memberRole, err := e.svc.InstitutionOf(cpStaffCtx(reg.Admin.ID, "keji.admin"), reg.Admin.ID)
	if err != nil || got.ID != inst.ID || memberRole != "INSTITUTION_ADMIN" {
		t.Fatalf("InstitutionOf = %v %q %v", got, memberRole, err)
	}

	institutions, staff, grants, audit := e.count(t, "institutions"), e.count(t, "staff"), e.count(t, "grants"), e.count(t, "audit_log")
	fresh := func(mut func(*healthcode.NewInstitution)) healthcode.NewInstitution {
		n := in
		n.CreditCode = cpCode(t, "91610113MA6U0000B")
		n.AdminUsername = "other.admin"
		mut(&n)
		return n
	}
	bad := []struct {
		name string
		in   healthcode.NewInstitution
		code string
	}{
		{"check digit", fresh(func(n *healthcode.NewInstitution) {
			n.CreditCode = n.CreditCode[:17] + map[bool]string{true: "1", false: "0"}[n.CreditCode[17] == '0']
		}), healthcode.EINVALID},
		{"unknown region", fresh(func(n *healthcode.NewInstitution) { n.RegionCode = "610199" }), healthcode.EINVALID},
		{"city region", fresh(func(n *healthcode.NewInstitution) { n.RegionCode = "6101" }), healthcode.EINVALID},
		{"outside Shaanxi", fresh(func(n *healthcode.NewInstitution) { n.RegionCode = "110101" }), healthcode.EINVALID},
		{"bad phone", fresh(func(n *healthcode.NewInstitution) { n.ContactPhone = "1234567" }), healthcode.EINVALID},
		{"no name", fresh(func(n *healthcode.NewInstitution) { n.Name = " " }), healthcode.EINVALID},
		{"weak password", fresh(func(n *healthcode.NewInstitution) { n.AdminPassword = "short" }), healthcode.EINVALID},
		{"bad username", fresh(func(n *healthcode.NewInstitution) { n.AdminUsername = "a" }), healthcode.EINVALID},
		{"duplicate code", fresh(func(n *healthcode.NewInstitution) { n.CreditCode = code }), healthcode.ECONFLICT},
		{"username taken", fresh(func(n *healthcode.NewInstitution) { n.AdminUsername = "keji.admin" }), healthcode.ECONFLICT},
	}
	for _, b := range bad {
		_, err := e.svc.RegisterInstitution(ctx, b.in)
		if healthcode.ErrorCode(err) != b.code {
			t.Errorf("%s: error %v, want %s", b.name, err, b.code)
		}
	}
	resident := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorResident, ID: 1})
	_, err = e.svc.RegisterInstitution(resident, fresh(func(*healthcode.NewInstitution) {}))
	cpWant(t, err, healthcode.EFORBIDDEN)
	if e.count(t, "institutions") != institutions || e.count(t, "staff") != staff || e.count(t, "grants") != grants ||
		e.count(t, "audit_log") != audit {
		t.Fatal("a refused registration wrote something")
	}
}

func TestVenueAndInspectorByInstitutionAdmin(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	a := e.register(t, "甲公司", "610113")
	b := e.register(t, "乙公司", "610113")
	ctxA := cpStaffCtx(a.Admin.ID, a.Admin.Username)

	v, err := e.svc.CreateVenue(ctxA, a.Institution.ID, healthcode.NewVenue{Name: "甲公司大门", Type: healthcode.VenueEntrance, RegionCode: "610113001"})
	if err != nil {
		t.Fatal(err)
	}
	if v.InstitutionID != a.Institution.ID || v.Status != healthcode.StatusActive || v.Type != "ENTRANCE" {
		t.Fatalf("venue = %+v", v)
	}
	_, err = e.svc.CreateVenue(ctxA, a.Institution.ID, healthcode.NewVenue{Name: "x", Type: "CINEMA", RegionCode: "610113001"})
	cpWant(t, err, healthcode.EINVALID)
	_, err = e.svc.CreateVenue(ctxA, a.Institution.ID, healthcode.NewVenue{Name: "碑林门店", Type: healthcode.VenueOther, RegionCode: "610103001"})
	cpWant(t, err, healthcode.EINVALID)
	_, err = e.svc.CreateVenue(ctxA, a.Institution.ID, healthcode.NewVenue{Name: "不存在", Type: healthcode.VenueOther, RegionCode: "610113999"})
	cpWant(t, err, healthcode.EINVALID)
	_, err = e.svc.CreateVenue(context.Background(), a.Institution.ID, healthcode.NewVenue{Name: "x", Type: healthcode.VenueOther, RegionCode: "610113"})
	cpWant(t, err, healthcode.EUNAUTHENTICATED)
	_, err = e.svc.CreateVenue(ctxA, 99999, healthcode.NewVenue{Name: "x", Type: healthcode.VenueOther, RegionCode: "610113"})
	cpWant(t, err, healthcode.ENOTFOUND)

	insp, err := e.svc.CreateInspector(ctxA, a.Institution.ID, "jia.inspector", "赵六", "secret12345")
	if err != nil {
		t.Fatal(err)
	}
	if insp.RegionCode != "610113" {
		t.Fatalf("inspector homed at %s", insp.RegionCode)
	}
	_, err = e.svc.CreateInspector(ctxA, a.Institution.ID, "jia.inspector", "赵六", "secret12345")
	cpWant(t, err, healthcode.ECONFLICT)
	inspCtx := cpStaffCtx(insp.ID, insp.Username)
	if err := e.enf.Authorize(inspCtx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: insp.ID}, healthcode.PermScanRecord, "610113001"); err != nil {
		t.Fatalf("inspector cannot record scans: %v", err)
	}
	got, role, err := e.svc.InstitutionOf(inspCtx, insp.ID)
	if err != nil || got.ID != a.Institution.ID || role != "INSPECTOR" {
		t.Fatalf("InstitutionOf = %v %q %v", got, role, err)
	}
	_, _, err = e.svc.InstitutionOf(inspCtx, a.Admin.ID)
	cpWant(t, err, healthcode.ENOTFOUND)
	list, err := e.svc.Inspectors(ctxA, a.Institution.ID)
	if err != nil || len(list) != 1 || list[0].ID != insp.ID {
		t.Fatalf("Inspectors = %v, %v", list, err)
	}
	venues, err := e.svc.Venues(ctxA, 0, "")
	if err != nil || len(venues) != 1 || venues[0].ID != v.ID {
		t.Fatalf("Venues = %v, %v", venues, err)
	}
	insts, err := e.svc.Institutions(inspCtx, "")
	if err != nil || len(insts) != 1 || insts[0].ID != a.Institution.ID {
		t.Fatalf("inspector's Institutions = %v, %v", insts, err)
	}

	// An inspector manages nothing.
	_, err = e.svc.CreateVenue(inspCtx, a.Institution.ID, healthcode.NewVenue{Name: "x", Type: healthcode.VenueOther, RegionCode: "610113"})
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.Inspectors(inspCtx, a.Institution.ID)
	cpWant(t, err, healthcode.EFORBIDDEN)

	// The admin of A, in the same region, is refused on B.
	_, err = e.svc.CreateVenue(ctxA, b.Institution.ID, healthcode.NewVenue{Name: "乙公司大门", Type: healthcode.VenueEntrance, RegionCode: "610113"})
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.CreateInspector(ctxA, b.Institution.ID, "yi.inspector", "钱七", "secret12345")
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.Inspectors(ctxA, b.Institution.ID)
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.Venues(ctxA, b.Institution.ID, "")
	cpWant(t, err, healthcode.EFORBIDDEN)
	err = e.svc.RemoveInspector(ctxA, b.Institution.ID, insp.ID)
	cpWant(t, err, healthcode.EFORBIDDEN)
	ctxB := cpStaffCtx(b.Admin.ID, b.Admin.Username)
	err = e.svc.RemoveInspector(ctxB, b.Institution.ID, insp.ID)
	cpWant(t, err, healthcode.ENOTFOUND)
	_, err = e.svc.SuspendInstitution(ctxA, a.Institution.ID, "自行停用")
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, _, err = e.svc.InstitutionOf(ctxB, insp.ID)
	cpWant(t, err, healthcode.ENOTFOUND)
	if n := e.count(t, "venues"); n != 1 {
		t.Fatalf("%d venues", n)
	}
}

func TestInstitutionScopeAndSuspension(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	y1 := e.register(t, "雁塔一", "610113001")
	y2 := e.register(t, "雁塔二", "610113002")
	bl := e.register(t, "碑林一", "610103001")
	_, yanta := e.staff(t, "yanta.admin", "610113", "ADMIN@610113")
	_, beilin := e.staff(t, "beilin.admin", "610103", "ADMIN@610103")
	_, xian := e.staff(t, "xian.admin", "6101", "ADMIN@6101")
	_, officer := e.staff(t, "yanta.health", "610113", "HEALTH_OFFICER@610113")

	ids := func(list []*healthcode.Institution) []int64 {
		var out []int64
		for _, i := range list {
			out = append(out, i.ID)
		}
		return out
	}
	got, err := e.svc.Institutions(yanta, "")
	if err != nil || !slices.Equal(ids(got), []int64{y1.Institution.ID, y2.Institution.ID}) {
		t.Fatalf("Yanta sees %v, %v", ids(got), err)
	}
	got, err = e.svc.Institutions(yanta, "610113002")
	if err != nil || !slices.Equal(ids(got), []int64{y2.Institution.ID}) {
		t.Fatalf("Yanta in 610113002 sees %v, %v", ids(got), err)
	}
	got, err = e.svc.Institutions(yanta, "610103")
	if err != nil || len(got) != 0 {
		t.Fatalf("Yanta in Beilin sees %v, %v", ids(got), err)
	}
	got, err = e.svc.Institutions(xian, "")
	if err != nil || len(got) != 3 {
		t.Fatalf("Xi'an sees %v, %v", ids(got), err)
	}
	_, err = e.svc.Institutions(officer, "")
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.Institutions(yanta, "61x")
	cpWant(t, err, healthcode.EINVALID)

	ctxY1 := cpStaffCtx(y1.Admin.ID, y1.Admin.Username)
	v, err := e.svc.CreateVenue(ctxY1, y1.Institution.ID, healthcode.NewVenue{Name: "小区东门", Type: healthcode.VenueResidentialEntrance, RegionCode: "610113001"})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := e.svc.Venues(yanta, 0, ""); err != nil || len(list) != 1 {
		t.Fatalf("Yanta venues = %v, %v", list, err)
	}
	if list, err := e.svc.Venues(beilin, 0, ""); err != nil || len(list) != 0 {
		t.Fatalf("Beilin venues = %v, %v", list, err)
	}
	if list, err := e.svc.Inspectors(yanta, y1.Institution.ID); err != nil || len(list) != 0 {
		t.Fatalf("Yanta inspectors = %v, %v", list, err)
	}
	_, err = e.svc.Inspectors(beilin, y1.Institution.ID)
	cpWant(t, err, healthcode.EFORBIDDEN)
	if inst, role, err := e.svc.InstitutionOf(yanta, y1.Admin.ID); err != nil || inst.ID != y1.Institution.ID || role != "INSTITUTION_ADMIN" {
		t.Fatalf("InstitutionOf by Yanta admin = %v %q %v", inst, role, err)
	}
	_, _, err = e.svc.InstitutionOf(beilin, y1.Admin.ID)
	cpWant(t, err, healthcode.ENOTFOUND)

	// Suspension: the region's six-level administrators only.
	_, err = e.svc.SuspendInstitution(beilin, y1.Institution.ID, "未落实查验")
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.SuspendVenue(beilin, v.ID, "未落实查验")
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.SuspendInstitution(yanta, y1.Institution.ID, " ")
	cpWant(t, err, healthcode.EINVALID)
	sv, err := e.svc.SuspendVenue(yanta, v.ID, "场所装修")
	if err != nil || sv.Status != healthcode.StatusSuspended {
		t.Fatalf("SuspendVenue = %v, %v", sv, err)
	}
	_, err = e.svc.SuspendVenue(yanta, v.ID, "场所装修")
	cpWant(t, err, healthcode.ECONFLICT)
	si, err := e.svc.SuspendInstitution(yanta, y1.Institution.ID, "未落实查验")
	if err != nil || si.Status != healthcode.StatusSuspended || si.SuspendReason != "未落实查验" {
		t.Fatalf("SuspendInstitution = %+v, %v", si, err)
	}
	_, err = e.svc.SuspendInstitution(yanta, y1.Institution.ID, "再次")
	cpWant(t, err, healthcode.ECONFLICT)
	_, err = e.svc.CreateVenue(ctxY1, y1.Institution.ID, healthcode.NewVenue{Name: "新门", Type: healthcode.VenueOther, RegionCode: "610113001"})
	cpWant(t, err, healthcode.ECONFLICT)
	if _, err := e.svc.SuspendInstitution(beilin, bl.Institution.ID, "测试"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action IN ('institution.suspend', 'venue.suspend')`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("suspension audit records = %d, %v", n, err)
	}
}

func TestInspectorRemovalDisablesAccount(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	ctx := context.Background()
	a := e.register(t, "丙医院", "610113003")
	ctxA := cpStaffCtx(a.Admin.ID, a.Admin.Username)
	insp, err := e.svc.CreateInspector(ctxA, a.Institution.ID, "bing.inspector", "孙八", "secret12345")
	if err != nil {
		t.Fatal(err)
	}
	inspector := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: insp.ID, Name: insp.Username}
	if err := e.enf.Authorize(ctx, inspector, healthcode.PermScanRecord, "610113003"); err != nil {
		t.Fatalf("before removal: %v", err)
	}
	if err := e.svc.RemoveInspector(ctxA, a.Institution.ID, a.Admin.ID); healthcode.ErrorCode(err) != healthcode.ENOTFOUND {
		t.Fatalf("removing the admin as an inspector: %v", err)
	}
	if err := e.svc.RemoveInspector(ctxA, a.Institution.ID, insp.ID); err != nil {
		t.Fatal(err)
	}
	cpWant(t, e.enf.Authorize(ctx, inspector, healthcode.PermScanRecord, "610113003"), healthcode.EFORBIDDEN)
	var disabled bool
	var grants, members int
	if err := e.db.Pool.QueryRow(ctx, `SELECT disabled, (SELECT count(*) FROM grants WHERE staff_id = $1),
		(SELECT count(*) FROM institution_members WHERE staff_id = $1) FROM staff WHERE id = $1`, insp.ID).Scan(&disabled, &grants, &members); err != nil {
		t.Fatal(err)
	}
	if !disabled || grants != 0 || members != 0 {
		t.Fatalf("after removal: disabled=%v grants=%d members=%d", disabled, grants, members)
	}
	if list, err := e.svc.Inspectors(ctxA, a.Institution.ID); err != nil || len(list) != 0 {
		t.Fatalf("Inspectors = %v, %v", list, err)
	}
	cpWant(t, e.svc.RemoveInspector(ctxA, a.Institution.ID, insp.ID), healthcode.ENOTFOUND)
	var audited int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'inspector.remove' AND object = $1`,
		fmt.Sprintf("staff:%d", insp.ID)).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("inspector.remove audited %d times, %v", audited, err)
	}
}

func TestResponseLevel(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	ctx := context.Background()
	if lv, err := e.svc.CurrentResponseLevel(ctx); err != nil || lv != 3 {
		t.Fatalf("default level = %d, %v", lv, err)
	}
	_, err := e.svc.ResponseLevels(ctx)
	cpWant(t, err, healthcode.EUNAUTHENTICATED)
	_, province := e.staff(t, "province.admin", "61", "ADMIN@61")
	_, yanta := e.staff(t, "yanta.admin", "610113", "ADMIN@610113")
	_, err = e.svc.SetResponseLevel(yanta, 2, "降级")
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.SetResponseLevel(province, 4, "无效")
	cpWant(t, err, healthcode.EINVALID)
	_, err = e.svc.SetResponseLevel(province, -1, "无效")
	cpWant(t, err, healthcode.EINVALID)
	_, err = e.svc.SetResponseLevel(province, 2, "")
	cpWant(t, err, healthcode.EINVALID)
	for _, lv := range []int{2, 0} {
		if _, err := e.svc.SetResponseLevel(province, lv, fmt.Sprintf("调整为%d级", lv)); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := e.svc.ResponseLevels(yanta)
	if err != nil || len(hist) != 2 || hist[0].Level != 0 || hist[1].Level != 2 || hist[0].Actor == "" {
		t.Fatalf("history = %v, %v", hist, err)
	}
	if lv, err := e.svc.CurrentResponseLevel(ctx); err != nil || lv != 0 {
		t.Fatalf("current level = %d, %v", lv, err)
	}
	if n := e.count(t, "audit_log"); n != 2 {
		t.Fatalf("%d audit records, want 2", n)
	}

	for _, lv := range []int{1, 2, 3} {
		if got := healthcode.RequiredCheckpointTypes(lv); !slices.Equal(got, healthcode.VenueTypes) {
			t.Errorf("level %d requires %v", lv, got)
		}
	}
	if got := healthcode.RequiredCheckpointTypes(0); got == nil || len(got) != 0 {
		t.Errorf("level 0 requires %v", got)
	}
	if got := healthcode.RequiredCheckpointTypes(4); got != nil {
		t.Errorf("level 4 requires %v", got)
	}
	for _, ty := range healthcode.VenueTypes {
		if healthcode.VenueTypeLabel(ty) == ty {
			t.Errorf("type %s has no label", ty)
		}
	}
}

func TestCheckpointRegisteredTypes(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	a := e.register(t, "丁商场", "610113")
	b := e.register(t, "戊车站", "610113002")
	c := e.register(t, "己医院", "610103")
	mk := func(reg *healthcode.Registration, ty, region string) *healthcode.Venue {
		v, err := e.svc.CreateVenue(cpStaffCtx(reg.Admin.ID, reg.Admin.Username), reg.Institution.ID,
			healthcode.NewVenue{Name: ty, Type: ty, RegionCode: region})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	mk(a, healthcode.VenueIndoorPublic, "610113001")
	mk(a, healthcode.VenueIndoorPublic, "610113002")
	closed := mk(a, healthcode.VenueEntrance, "610113001")
	mk(b, healthcode.VenueBusStation, "610113002")
	mk(c, healthcode.VenueMedical, "610103001")
	_, yanta := e.staff(t, "yanta.admin", "610113", "ADMIN@610113")
	_, province := e.staff(t, "province.admin", "61", "ADMIN@61")
	_, supervisor := e.staff(t, "yanta.supervisor", "610113", "SUPERVISOR@610113")
	if _, err := e.svc.SuspendVenue(yanta, closed.ID, "停用"); err != nil {
		t.Fatal(err)
	}
	counts := func(ctx context.Context, region string) map[string]int {
		t.Helper()
		cov, err := e.svc.RegisteredTypes(ctx, region)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, c := range cov {
			out[c.Type] = c.ActiveVenues
		}
		return out
	}
	got := counts(yanta, "610113")
	if len(got) != len(healthcode.VenueTypes) || got[healthcode.VenueIndoorPublic] != 2 || got[healthcode.VenueBusStation] != 1 ||
		got[healthcode.VenueEntrance] != 0 || got[healthcode.VenueMedical] != 0 {
		t.Fatalf("Yanta coverage = %v", got)
	}
	if got := counts(supervisor, "610113002"); got[healthcode.VenueIndoorPublic] != 1 || got[healthcode.VenueBusStation] != 1 {
		t.Fatalf("supervisor coverage of 610113002 = %v", got)
	}
	if got := counts(province, "61"); got[healthcode.VenueMedical] != 1 || got[healthcode.VenueIndoorPublic] != 2 {
		t.Fatalf("province coverage = %v", got)
	}
	_, err := e.svc.RegisteredTypes(yanta, "610103")
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.RegisteredTypes(cpStaffCtx(a.Admin.ID, a.Admin.Username), "610113")
	cpWant(t, err, healthcode.EFORBIDDEN)
	if _, err := e.svc.SetResponseLevel(province, 0, "解除响应"); err != nil {
		t.Fatal(err)
	}
	if got := counts(yanta, "610113"); len(got) != 0 {
		t.Fatalf("level 0 coverage = %v", got)
	}
}

func TestTrustedIssuerList(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	now := time.Now()
	national, err := credential.NewMemoryKeyRing("national")
	if err != nil {
		t.Fatal(err)
	}
	other, err := credential.NewMemoryKeyRing("6201")
	if err != nil {
		t.Fatal(err)
	}
	// The national document also lists an issuer it trusts; trust is not transitive.
	doc, err := json.Marshal(credential.BuildKeySet(national, []credential.TrustedIssuerKeys{other.Trusted("甘肃", now)}, now))
	if err != nil {
		t.Fatal(err)
	}
	_, province := e.staff(t, "province.admin", "61", "ADMIN@61")
	_, yanta := e.staff(t, "yanta.admin", "610113", "ADMIN@610113")
	_, officer := e.staff(t, "yanta.health", "610113", "HEALTH_OFFICER@610113")

	in := healthcode.NewTrustedIssuer{IssuerID: "national", Name: "国家政务服务平台", KeysJSON: doc}
	_, err = e.svc.AddTrustedIssuer(yanta, in)
	cpWant(t, err, healthcode.EFORBIDDEN)
	_, err = e.svc.AddTrustedIssuer(context.Background(), in)
	cpWant(t, err, healthcode.EUNAUTHENTICATED)
	for name, bad := range map[string]healthcode.NewTrustedIssuer{
		"garbage":    {IssuerID: "national", KeysJSON: []byte("{")},
		"not listed": {IssuerID: "6501", KeysJSON: doc},
		"own":        {IssuerID: "61", KeysJSON: doc},
		"bad id":     {IssuerID: "", KeysJSON: doc},
		"window":     {IssuerID: "national", KeysJSON: doc, ValidFrom: &now, ValidUntil: &now},
	} {
		if _, err := e.svc.AddTrustedIssuer(province, bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%s: %v, want INVALID", name, err)
		}
	}
	entry, err := e.svc.AddTrustedIssuer(province, in)
	if err != nil {
		t.Fatal(err)
	}
	if entry.IssuerID != "national" || len(entry.KeyIDs) != 1 || entry.KeyIDs[0] != national.Active().Kid {
		t.Fatalf("entry = %+v", entry)
	}
	_, err = e.svc.AddTrustedIssuer(province, in)
	cpWant(t, err, healthcode.ECONFLICT)

	list, err := e.svc.TrustList(officer)
	if err != nil || len(list) != 1 || list[0].ID != entry.ID || list[0].Name != "国家政务服务平台" {
		t.Fatalf("TrustList = %v, %v", list, err)
	}
	_, err = e.svc.TrustList(healthcode.NewContextWithActor(context.Background(), &healthcode.Actor{Kind: healthcode.ActorResident, ID: 1}))
	cpWant(t, err, healthcode.EFORBIDDEN)
	trusted, err := e.svc.TrustedIssuers(context.Background())
	if err != nil || len(trusted) != 1 || trusted[0].Issuer.ID != "national" || len(trusted[0].Keys) != 1 ||
		trusted[0].Keys[0].X != national.Active().X {
		t.Fatalf("TrustedIssuers = %+v, %v", trusted, err)
	}
	own, err := credential.NewMemoryKeyRing(credential.IssuerProvince)
	if err != nil {
		t.Fatal(err)
	}
	ks := credential.BuildKeySet(own, trusted, now)
	if len(ks.Issuers) != 2 || len(ks.Keys) != 2 {
		t.Fatalf("merged key set = %+v", ks)
	}

	// A window bounds the trust: an entry already expired is not in force.
	past := now.Add(-time.Hour)
	expired, err := e.svc.AddTrustedIssuer(province, healthcode.NewTrustedIssuer{IssuerID: "6201",
		KeysJSON: mustJSON(t, credential.BuildKeySet(other, nil, now)), ValidUntil: &past})
	if err != nil {
		t.Fatal(err)
	}
	if trusted, _ := e.svc.TrustedIssuers(context.Background()); len(trusted) != 1 {
		t.Fatalf("expired entry in force: %+v", trusted)
	}

	cpWant(t, e.svc.RetireTrustedIssuer(yanta, entry.ID), healthcode.EFORBIDDEN)
	if err := e.svc.RetireTrustedIssuer(province, entry.ID); err != nil {
		t.Fatal(err)
	}
	cpWant(t, e.svc.RetireTrustedIssuer(province, entry.ID), healthcode.ECONFLICT)
	cpWant(t, e.svc.RetireTrustedIssuer(province, 99999), healthcode.ENOTFOUND)
	if trusted, err := e.svc.TrustedIssuers(context.Background()); err != nil || len(trusted) != 0 {
		t.Fatalf("after retiring: %+v, %v", trusted, err)
	}
	if list, err := e.svc.TrustList(officer); err != nil || len(list) != 1 || list[0].ID != expired.ID {
		t.Fatalf("TrustList after retiring = %v, %v", list, err)
	}
	// Retired, the issuer may be trusted again.
	if _, err := e.svc.AddTrustedIssuer(province, in); err != nil {
		t.Fatal(err)
	}
	var audited int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action LIKE 'trust.%'`).Scan(&audited); err != nil || audited != 4 {
		t.Fatalf("trust audit records = %d, %v", audited, err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInstitutionAdminNeverSeesOthers: whatever institution and region an
// institution administrator asks about, every venue and inspector it gets
// belongs to its own institution; asking about another one is FORBIDDEN.
func TestInstitutionAdminNeverSeesOthers(t *testing.T) {
	t.Parallel()
	e := cpSetup(t)
	ctx := context.Background()
	regions := []string{"610113", "610113001", "610113002", "610103001"}
	type inst struct {
		id    int64
		admin context.Context
	}
	var insts []inst
	// Institutions, admins, venues and inspectors straight in SQL (fast): two
	// per region, the first two sharing 610113 with the others below it.
	for i, region := range append(regions, regions...) {
		var id int64
		if err := e.db.Pool.QueryRow(ctx, `INSERT INTO institutions (name, credit_code, region_code, region_path, contact_name, created_by, created_at)
			SELECT $1, $2, code, path, '联系人', 'test', now() FROM regions WHERE code = $3 RETURNING id`,
			fmt.Sprintf("机构%d", i), cpCode(t, fmt.Sprintf("91610113MA6P%05d", i)), region).Scan(&id); err != nil {
			t.Fatal(err)
		}
		adminID, adminCtx := e.staff(t, fmt.Sprintf("p%d.admin", i), region, "INSTITUTION_ADMIN@"+region)
		inspID, _ := e.staff(t, fmt.Sprintf("p%d.inspector", i), region, "INSPECTOR@"+region)
		for _, m := range []struct {
			id   int64
			role string
		}{{adminID, "INSTITUTION_ADMIN"}, {inspID, "INSPECTOR"}} {
			if _, err := e.db.Pool.Exec(ctx, `INSERT INTO institution_members (staff_id, institution_id, role, created_by, created_at)
				VALUES ($1, $2, $3, 'test', now())`, m.id, id, m.role); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.db.Pool.Exec(ctx, `INSERT INTO venues (institution_id, name, type, region_code, region_path, created_by, created_at)
			SELECT $1, '场所', 'OTHER', code, path, 'test', now() FROM regions WHERE code = $2`, id, region); err != nil {
			t.Fatal(err)
		}
		insts = append(insts, inst{id, adminCtx})
	}
	rapid.Check(t, func(rt *rapid.T) {
		me := rapid.SampledFrom(insts).Draw(rt, "admin")
		target := rapid.SampledFrom(insts).Draw(rt, "target")
		region := rapid.SampledFrom(append([]string{"", "61", "6101"}, regions...)).Draw(rt, "region")
		switch rapid.IntRange(0, 4).Draw(rt, "op") {
		case 0: // list all venues
			vs, err := e.svc.Venues(me.admin, 0, region)
			if err != nil {
				rt.Fatal(err)
			}
			for _, v := range vs {
				if v.InstitutionID != me.id {
					rt.Fatalf("institution %d sees venue %d of %d", me.id, v.ID, v.InstitutionID)
				}
			}
		case 1: // one institution's venues
			vs, err := e.svc.Venues(me.admin, target.id, region)
			if target.id != me.id {
				if healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
					rt.Fatalf("institution %d lists venues of %d: %v %v", me.id, target.id, vs, err)
				}
				return
			}
			for _, v := range vs {
				if v.InstitutionID != me.id {
					rt.Fatalf("institution %d sees venue of %d", me.id, v.InstitutionID)
				}
			}
		case 2: // inspectors
			list, err := e.svc.Inspectors(me.admin, target.id)
			if target.id != me.id {
				if healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
					rt.Fatalf("institution %d lists inspectors of %d: %v %v", me.id, target.id, list, err)
				}
				return
			}
			if err != nil || len(list) != 1 {
				rt.Fatalf("own inspectors = %v, %v", list, err)
			}
			if of, _, err := e.svc.InstitutionOf(healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor), list[0].ID); err != nil || of.ID != me.id {
				rt.Fatalf("inspector %d belongs to %v, %v", list[0].ID, of, err)
			}
		case 3: // institutions
			list, err := e.svc.Institutions(me.admin, region)
			if err != nil {
				rt.Fatal(err)
			}
			for _, i := range list {
				if i.ID != me.id {
					rt.Fatalf("institution %d sees institution %d", me.id, i.ID)
				}
			}
		case 4: // creating a venue in another institution
			if target.id == me.id {
				return
			}
			_, err := e.svc.CreateVenue(me.admin, target.id, healthcode.NewVenue{Name: "越权", Type: healthcode.VenueOther, RegionCode: "610113001"})
			if healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
				rt.Fatalf("institution %d created a venue for %d: %v", me.id, target.id, err)
			}
		}
	})
}
