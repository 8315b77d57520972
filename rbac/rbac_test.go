package rbac

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"healthcode"
)

// grantStore is an in-memory grant table whose contents tests change.
type grantStore struct {
	mu     sync.Mutex
	grants []healthcode.Grant
	err    error
	loads  atomic.Int64
}

func (s *grantStore) load(context.Context) ([]healthcode.Grant, error) {
	s.loads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return slices.Clone(s.grants), nil
}

func (s *grantStore) add(staffID int64, role healthcode.Role, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants = append(s.grants, healthcode.Grant{ID: int64(len(s.grants) + 1), StaffID: staffID, Role: role, RegionCode: region})
}

func (s *grantStore) remove(staffID int64, role healthcode.Role, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants = slices.DeleteFunc(s.grants, func(g healthcode.Grant) bool {
		return g.StaffID == staffID && g.Role == role && g.RegionCode == region
	})
}

func (s *grantStore) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func staff(id int64) *healthcode.Actor {
	return &healthcode.Actor{Kind: healthcode.ActorStaff, ID: id, Name: "s" + strconv.FormatInt(id, 10)}
}

func newEnforcer(t testing.TB, s *grantStore) *Enforcer {
	t.Helper()
	e, err := New(s.load)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func wantCode(t *testing.T, err error, code string, what string) {
	t.Helper()
	if got := healthcode.ErrorCode(err); got != code {
		t.Errorf("%s: got code %q (err %v), want %q", what, got, err, code)
	}
}

// allPermissions returns the Perm* variables declared in role.go, read from
// the source so that a permission added there is checked here too.
func allPermissions(t *testing.T) map[string]healthcode.Permission {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../role.go", nil, 0)
	if err != nil {
		t.Fatalf("parse role.go: %v", err)
	}
	out := make(map[string]healthcode.Permission)
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if len(name.Name) <= 4 || name.Name[:4] != "Perm" || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.CompositeLit)
			if !ok || len(lit.Elts) != 2 {
				t.Fatalf("%s: not a Permission{object, action} literal", name.Name)
			}
			var parts [2]string
			for j, el := range lit.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					el = kv.Value
				}
				bl, ok := el.(*ast.BasicLit)
				if !ok || bl.Kind != token.STRING {
					t.Fatalf("%s: element %d is not a string literal", name.Name, j)
				}
				parts[j], _ = strconv.Unquote(bl.Value)
			}
			out[name.Name] = healthcode.Permission{Object: parts[0], Action: parts[1]}
		}
		return true
	})
	if len(out) < 30 {
		t.Fatalf("found only %d permissions in role.go", len(out))
	}
	return out
}

func TestPolicyCoversEveryPermissionAndRole(t *testing.T) {
	rows, err := parsePolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}
	inPolicy := make(map[healthcode.Permission]bool)
	byRole := make(map[healthcode.Role]int)
	for _, r := range rows {
		inPolicy[healthcode.Permission{Object: r[1], Action: r[2]}] = true
		byRole[healthcode.Role(r[0])]++
	}
	declared := make(map[healthcode.Permission]bool)
	for name, p := range allPermissions(t) {
		declared[p] = true
		if !inPolicy[p] {
			t.Errorf("%s (%s) is granted by no role in policy.csv", name, p)
		}
	}
	for p := range inPolicy {
		if !declared[p] {
			t.Errorf("policy.csv names %s, which role.go does not declare", p)
		}
	}
	roles := append(slices.Clone(healthcode.StaffRoles), healthcode.RoleSubsystem, healthcode.RoleResident)
	for _, r := range roles {
		if byRole[r] == 0 {
			t.Errorf("role %s has no row in policy.csv", r)
		}
		if len(Permissions(r)) != byRole[r] {
			t.Errorf("Permissions(%s) = %d, want %d", r, len(Permissions(r)), byRole[r])
		}
	}
}

func TestPolicyMatrix(t *testing.T) {
	e := newEnforcer(t, &grantStore{})
	cases := []struct {
		role healthcode.Role
		perm healthcode.Permission
		want bool
	}{
		{healthcode.RoleAdmin, healthcode.PermGrantManage, true},
		{healthcode.RoleAdmin, healthcode.PermResponseLevel, true},
		{healthcode.RoleAdmin, healthcode.PermPersonUnmask, false},
		{healthcode.RoleAdmin, healthcode.PermAuditRead, false},
		{healthcode.RoleInstitutionAdmin, healthcode.PermInspectorManage, true},
		{healthcode.RoleInspector, healthcode.PermScanRecord, true},
		{healthcode.RoleInspector, healthcode.PermScanRead, false},
		{healthcode.RoleHealthOfficer, healthcode.PermDesignateApprove, true},
		// Community work (附件1 三、附件2): the area's health staff do it.
		{healthcode.RoleHealthOfficer, healthcode.PermPersonDeclare, true},
		{healthcode.RoleHealthOfficer, healthcode.PermPassCardReview, true},
		{healthcode.RoleHealthOfficer, healthcode.PermFeverHandle, true},
		{healthcode.RoleHealthOfficer, healthcode.PermPersonUnmask, false},
		{healthcode.RoleOperator, healthcode.PermFeverHandle, false},
		{healthcode.RoleOperator, healthcode.PermTicketDispatch, true},
		{healthcode.RoleOperator, healthcode.PermTicketHandle, false},
		{healthcode.RoleHandler, healthcode.PermTicketHandle, true},
		{healthcode.RoleSupervisor, healthcode.PermIndicatorRead, true},
		{healthcode.RoleSupervisor, healthcode.PermPersonRead, false},
		{healthcode.RoleSupervisor, healthcode.PermDeviationRead, true},
		{healthcode.RoleAdmin, healthcode.PermDeviationRead, true},
		{healthcode.RoleSubsystem, healthcode.PermDeviationRead, false},
		{healthcode.RoleRuleAdmin, healthcode.PermRuleSetApprove, true},
		{healthcode.RoleAuditor, healthcode.PermAuditRead, true},
		{healthcode.RoleSubsystem, healthcode.PermExchangePush, true},
		{healthcode.RoleResident, healthcode.PermRegionRead, true},
		{healthcode.RoleResident, healthcode.PermPersonRead, false},
	}
	for _, c := range cases {
		if got := e.roleHas(c.role, c.perm); got != c.want {
			t.Errorf("%s has %s = %v, want %v", c.role, c.perm, got, c.want)
		}
	}
	for _, r := range healthcode.StaffRoles {
		if !e.roleHas(r, healthcode.PermRegionRead) {
			t.Errorf("%s lacks region.read", r)
		}
	}
}

func TestAuthorizeStaff(t *testing.T) {
	s := &grantStore{}
	s.add(1, healthcode.RoleAdmin, "610113")           // Yanta district admin
	s.add(2, healthcode.RoleAdmin, "61")               // province admin
	s.add(3, healthcode.RoleHealthOfficer, "6101")     // Xi'an health officer
	s.add(4, healthcode.RoleOperator, "610113001")     // street operator
	s.add(5, healthcode.RoleInspector, "610113001001") // community inspector
	e := newEnforcer(t, s)
	ctx := context.Background()

	cases := []struct {
		staff  int64
		perm   healthcode.Permission
		region string
		want   bool
	}{
		{1, healthcode.PermPersonRead, "610113", true},
		{1, healthcode.PermPersonRead, "610113001001", true},
		{1, healthcode.PermPersonRead, "610113001001001", true},
		{1, healthcode.PermPersonRead, "610103", false}, // Beilin, a sibling district
		{1, healthcode.PermPersonRead, "6101", false},   // the city above
		{1, healthcode.PermPersonRead, "61", false},
		{1, healthcode.PermPersonRead, "6101130", false}, // malformed, checked below
		{1, healthcode.PermPersonUnmask, "610113", false},
		{2, healthcode.PermGrantManage, "61", true},
		{2, healthcode.PermGrantManage, "6109", true},
		{2, healthcode.PermGrantManage, "610923100201", true},
		{2, healthcode.PermTrustManage, "61", true},
		{2, healthcode.PermTicketHandle, "6101", false},
		{3, healthcode.PermAreaRiskWrite, "610113001", true},
		{3, healthcode.PermAreaRiskWrite, "6104", false},
		{3, healthcode.PermGrantManage, "6101", false},
		{4, healthcode.PermTicketCreate, "610113001", true},
		{4, healthcode.PermTicketCreate, "610113002", false},
		{4, healthcode.PermTicketCreate, "610113", false},
		{5, healthcode.PermScanRecord, "610113001001", true},
		{5, healthcode.PermScanRecord, "610113001001005", true},
		{5, healthcode.PermScanRecord, "610113001002", false},
		{6, healthcode.PermRegionRead, "61", false}, // no grants at all
	}
	for _, c := range cases {
		err := e.Authorize(ctx, staff(c.staff), c.perm, c.region)
		if c.region == "6101130" {
			wantCode(t, err, healthcode.EINVALID, "malformed region")
			continue
		}
		if c.want && err != nil {
			t.Errorf("staff %d %s at %s: %v, want allowed", c.staff, c.perm, c.region, err)
		}
		if !c.want && !errors.Is(err, healthcode.ErrForbidden) {
			t.Errorf("staff %d %s at %s: %v, want ErrForbidden", c.staff, c.perm, c.region, err)
		}
		// A second answer comes from the cache and must be the same.
		if err2 := e.Authorize(ctx, staff(c.staff), c.perm, c.region); (err == nil) != (err2 == nil) {
			t.Errorf("staff %d %s at %s: cached answer differs", c.staff, c.perm, c.region)
		}
	}

	wantCode(t, e.Authorize(ctx, nil, healthcode.PermRegionRead, "61"), healthcode.EUNAUTHENTICATED, "nil actor")
	for _, bad := range []string{"", "62", "6", "61a1", "6101131", "61011300100100"} {
		err := e.Authorize(ctx, staff(2), healthcode.PermRegionRead, bad)
		wantCode(t, err, healthcode.EINVALID, "region "+strconv.Quote(bad))
		if healthcode.ErrorMessage(err) != "地区代码格式不正确" {
			t.Errorf("region %q: message %q", bad, healthcode.ErrorMessage(err))
		}
	}
}

func TestAuthorizeResidentMachineSystem(t *testing.T) {
	e := newEnforcer(t, &grantStore{})
	ctx := context.Background()
	resident := &healthcode.Actor{Kind: healthcode.ActorResident, ID: 7}
	xian := &healthcode.Actor{Kind: healthcode.ActorMachine, ID: 3, RegionCode: "6101"}
	unscoped := &healthcode.Actor{Kind: healthcode.ActorMachine, ID: 4}
	unknown := &healthcode.Actor{Kind: "ROBOT", ID: 1}

	allow := func(a *healthcode.Actor, p healthcode.Permission, region string) {
		t.Helper()
		if err := e.Authorize(ctx, a, p, region); err != nil {
			t.Errorf("%s %s at %s: %v, want allowed", a.Subject(), p, region, err)
		}
	}
	deny := func(a *healthcode.Actor, p healthcode.Permission, region string) {
		t.Helper()
		if err := e.Authorize(ctx, a, p, region); !errors.Is(err, healthcode.ErrForbidden) {
			t.Errorf("%s %s at %s: %v, want ErrForbidden", a.Subject(), p, region, err)
		}
	}
	allow(resident, healthcode.PermRegionRead, "61")
	allow(resident, healthcode.PermRegionRead, "610113001001")
	deny(resident, healthcode.PermPersonRead, "610113")
	deny(resident, healthcode.PermGrantManage, "61")

	allow(xian, healthcode.PermExchangePush, "6101")
	allow(xian, healthcode.PermExchangePush, "610113001")
	deny(xian, healthcode.PermExchangePush, "6104")
	deny(xian, healthcode.PermExchangePush, "61")
	deny(xian, healthcode.PermPersonRead, "6101")
	deny(unscoped, healthcode.PermExchangePush, "6101")

	allow(healthcode.SystemActor, healthcode.PermResponseLevel, "61")
	allow(healthcode.SystemActor, healthcode.PermPersonUnmask, "610113001001")
	deny(unknown, healthcode.PermRegionRead, "61")

	wantCode(t, e.Authorize(ctx, resident, healthcode.PermRegionRead, "x"), healthcode.EINVALID, "resident malformed")

	vis := func(a *healthcode.Actor, p healthcode.Permission, want ...string) {
		t.Helper()
		got, err := e.VisibleRegions(ctx, a, p)
		if err != nil {
			t.Fatalf("VisibleRegions: %v", err)
		}
		if want == nil {
			want = []string{}
		}
		if !slices.Equal(got, want) {
			t.Errorf("VisibleRegions(%s, %s) = %v, want %v", a.Subject(), p, got, want)
		}
	}
	vis(resident, healthcode.PermRegionRead, "61")
	vis(resident, healthcode.PermPersonRead)
	vis(xian, healthcode.PermExchangePush, "6101")
	vis(xian, healthcode.PermTicketRead)
	vis(unscoped, healthcode.PermExchangePush)
	vis(healthcode.SystemActor, healthcode.PermAuditRead, "61")
	vis(unknown, healthcode.PermRegionRead)
	if _, err := e.VisibleRegions(ctx, nil, healthcode.PermRegionRead); healthcode.ErrorCode(err) != healthcode.EUNAUTHENTICATED {
		t.Errorf("VisibleRegions(nil): %v", err)
	}

	roles, err := e.RolesAt(ctx, xian, healthcode.PermExchangePush, "610113")
	if err != nil || !slices.Equal(roles, []healthcode.Role{healthcode.RoleSubsystem}) {
		t.Errorf("RolesAt machine = %v, %v", roles, err)
	}
	roles, err = e.RolesAt(ctx, resident, healthcode.PermRegionRead, "610113")
	if err != nil || !slices.Equal(roles, []healthcode.Role{healthcode.RoleResident}) {
		t.Errorf("RolesAt resident = %v, %v", roles, err)
	}
}

func TestVisibleRegionsAndRolesAt(t *testing.T) {
	s := &grantStore{}
	s.add(1, healthcode.RoleAdmin, "6101")
	s.add(1, healthcode.RoleAdmin, "610113")            // inside 6101: dropped
	s.add(1, healthcode.RoleHealthOfficer, "610113001") // inside 6101: dropped
	s.add(1, healthcode.RoleHealthOfficer, "6104")
	s.add(1, healthcode.RoleOperator, "610402001") // inside 6104: dropped for person.read
	s.add(1, healthcode.RoleOperator, "610923")
	s.add(1, healthcode.RoleAuditor, "61")
	s.add(2, healthcode.RoleAdmin, "610113001001")
	e := newEnforcer(t, s)
	ctx := context.Background()

	cases := []struct {
		staff int64
		perm  healthcode.Permission
		want  []string
	}{
		{1, healthcode.PermPersonRead, []string{"6101", "6104", "610923"}},
		{1, healthcode.PermGrantManage, []string{"6101"}},
		{1, healthcode.PermFactWrite, []string{"610113001", "6104"}}, // ADMIN lacks fact.write
		{1, healthcode.PermTicketCreate, []string{"610402001", "610923"}},
		{1, healthcode.PermStaffRead, []string{"61"}},
		{1, healthcode.PermRegionRead, []string{"61"}},
		{1, healthcode.PermTicketHandle, []string{}},
		{2, healthcode.PermPersonRead, []string{"610113001001"}},
		{3, healthcode.PermRegionRead, []string{}},
	}
	for _, c := range cases {
		got, err := e.VisibleRegions(ctx, staff(c.staff), c.perm)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("VisibleRegions(staff %d, %s) = %v, want %v", c.staff, c.perm, got, c.want)
		}
	}

	roles, err := e.RolesAt(ctx, staff(1), healthcode.PermPersonRead, "610113002001")
	if err != nil {
		t.Fatal(err)
	}
	if want := []healthcode.Role{healthcode.RoleAdmin}; !slices.Equal(roles, want) {
		t.Errorf("RolesAt = %v, want %v", roles, want)
	}
	roles, _ = e.RolesAt(ctx, staff(1), healthcode.PermPersonRead, "610113001001")
	if want := []healthcode.Role{healthcode.RoleAdmin, healthcode.RoleHealthOfficer}; !slices.Equal(roles, want) {
		t.Errorf("RolesAt = %v, want %v", roles, want)
	}
	roles, _ = e.RolesAt(ctx, staff(1), healthcode.PermRegionRead, "610113001001")
	if want := []healthcode.Role{healthcode.RoleAdmin, healthcode.RoleAuditor, healthcode.RoleHealthOfficer}; !slices.Equal(roles, want) {
		t.Errorf("RolesAt = %v, want %v", roles, want)
	}
	roles, _ = e.RolesAt(ctx, staff(2), healthcode.PermPersonRead, "610113")
	if len(roles) != 0 {
		t.Errorf("RolesAt above the grant = %v, want none", roles)
	}
	if _, err := e.RolesAt(ctx, staff(2), healthcode.PermPersonRead, "61x"); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("RolesAt malformed: %v", err)
	}
	if _, err := e.RolesAt(ctx, nil, healthcode.PermPersonRead, "61"); healthcode.ErrorCode(err) != healthcode.EUNAUTHENTICATED {
		t.Errorf("RolesAt nil: %v", err)
	}
}

func TestLoadSkipsUngrantableRows(t *testing.T) {
	s := &grantStore{}
	s.add(1, healthcode.RoleResident, "61")  // not a staff role
	s.add(1, healthcode.RoleSubsystem, "61") // not a staff role
	s.add(1, "ROOT", "61")                   // unknown role
	s.add(1, healthcode.RoleAdmin, "6x")     // malformed region
	s.add(2, healthcode.RoleAdmin, "6101")
	s.add(2, healthcode.RoleAdmin, "6101") // duplicate
	e := newEnforcer(t, s)
	ctx := context.Background()
	if err := e.Authorize(ctx, staff(1), healthcode.PermRegionRead, "61"); !errors.Is(err, healthcode.ErrForbidden) {
		t.Errorf("staff 1: %v, want ErrForbidden", err)
	}
	if err := e.Authorize(ctx, staff(2), healthcode.PermRegionRead, "6101"); err != nil {
		t.Errorf("staff 2: %v", err)
	}
}

// TestRevocationTakesEffectOnNextRequest proves the DESIGN requirement: once a
// grant is gone from storage and Invalidate has been called, the very next
// Authorize refuses, although the earlier decision sits in the cache.
func TestRevocationTakesEffectOnNextRequest(t *testing.T) {
	s := &grantStore{}
	s.add(1, healthcode.RoleAdmin, "610113")
	e := newEnforcer(t, s)
	ctx := context.Background()
	a := staff(1)

	for range 3 { // the decision is now cached
		if err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610113001001"); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
	}
	s.remove(1, healthcode.RoleAdmin, "610113")
	// Without Invalidate the enforcer does not know yet (nothing told it).
	if err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610113001001"); err != nil {
		t.Fatalf("before Invalidate: %v", err)
	}
	loads := s.loads.Load()
	e.Invalidate()
	if err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610113001001"); !errors.Is(err, healthcode.ErrForbidden) {
		t.Fatalf("first request after revocation: %v, want ErrForbidden", err)
	}
	if got := s.loads.Load() - loads; got != 1 {
		t.Errorf("reloads after one Invalidate = %d, want 1", got)
	}
	if vis, _ := e.VisibleRegions(ctx, a, healthcode.PermPersonRead); len(vis) != 0 {
		t.Errorf("VisibleRegions after revocation = %v", vis)
	}
	if roles, _ := e.RolesAt(ctx, a, healthcode.PermPersonRead, "610113"); len(roles) != 0 {
		t.Errorf("RolesAt after revocation = %v", roles)
	}

	// A new grant takes effect the same way.
	s.add(1, healthcode.RoleAdmin, "6101")
	e.Invalidate()
	if err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610113001001"); err != nil {
		t.Fatalf("after new grant: %v", err)
	}
	if got := s.loads.Load() - loads; got != 2 {
		t.Errorf("reloads = %d, want 2", got)
	}
}

func TestReloadFailureFailsClosedAndRetries(t *testing.T) {
	s := &grantStore{}
	s.add(1, healthcode.RoleAdmin, "610113")
	e := newEnforcer(t, s)
	ctx := context.Background()
	a := staff(1)

	s.setErr(errors.New("database down"))
	e.Invalidate()
	err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610113")
	if err == nil || healthcode.ErrorCode(err) != healthcode.EINTERNAL {
		t.Fatalf("Authorize with failing reload: %v, want INTERNAL", err)
	}
	if _, err := e.VisibleRegions(ctx, a, healthcode.PermPersonRead); err == nil {
		t.Fatal("VisibleRegions with failing reload: nil error")
	}
	if err := e.Reload(ctx); err == nil {
		t.Fatal("Reload with failing load: nil error")
	}
	// Residents do not depend on grants.
	if err := e.Authorize(ctx, &healthcode.Actor{Kind: healthcode.ActorResident, ID: 1}, healthcode.PermRegionRead, "61"); err != nil {
		t.Errorf("resident during outage: %v", err)
	}

	s.setErr(nil)
	if err := e.Authorize(ctx, a, healthcode.PermPersonRead, "610113"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}

	if _, err := New(func(context.Context) ([]healthcode.Grant, error) { return nil, errors.New("boom") }); err == nil {
		t.Error("New with failing load: nil error")
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil): nil error")
	}
}

func TestConcurrentUseReloadsOnce(t *testing.T) {
	s := &grantStore{}
	for id := int64(1); id <= 50; id++ {
		s.add(id, healthcode.RoleAdmin, "610113")
	}
	e := newEnforcer(t, s)
	ctx := context.Background()

	// Many callers after one Invalidate: one reload.
	loads := s.loads.Load()
	e.Invalidate()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for id := int64(1); id <= 50; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := e.Authorize(ctx, staff(id), healthcode.PermPersonRead, "610113001"); err != nil {
				t.Errorf("staff %d: %v", id, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if got := s.loads.Load() - loads; got != 1 {
		t.Errorf("reloads = %d, want 1", got)
	}

	// Questions, revocations and reloads interleaved (run with -race).
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for id := int64(1); id <= 8; id++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = e.Authorize(ctx, staff(id), healthcode.PermPersonRead, "610113001001")
				_, _ = e.VisibleRegions(ctx, staff(id), healthcode.PermPersonRead)
				_, _ = e.RolesAt(ctx, staff(id), healthcode.PermPersonRead, "610113")
			}
		}()
	}
	for id := int64(1); id <= 8; id++ {
		s.remove(id, healthcode.RoleAdmin, "610113")
		e.Invalidate()
	}
	close(stop)
	readers.Wait()
	for id := int64(1); id <= 8; id++ {
		if err := e.Authorize(ctx, staff(id), healthcode.PermPersonRead, "610113001001"); !errors.Is(err, healthcode.ErrForbidden) {
			t.Errorf("staff %d after revocation: %v", id, err)
		}
	}
	if err := e.Authorize(ctx, staff(9), healthcode.PermPersonRead, "610113001001"); err != nil {
		t.Errorf("staff 9 kept its grant: %v", err)
	}
}

func TestBoundedCache(t *testing.T) {
	c := newBoundedCache(3)
	for i := range 3 {
		_ = c.Set(strconv.Itoa(i), true)
	}
	if v, err := c.Get("2"); err != nil || !v {
		t.Fatalf("Get = %v, %v", v, err)
	}
	_ = c.Set("3", false) // full: starts over
	if _, err := c.Get("0"); err == nil {
		t.Error("old entry survived the reset")
	}
	if v, err := c.Get("3"); err != nil || v {
		t.Errorf("Get(3) = %v, %v", v, err)
	}
	if err := c.Delete("3"); err != nil {
		t.Error(err)
	}
	if err := c.Delete("3"); err == nil {
		t.Error("second Delete: nil error")
	}
}
