// Package rbac implements healthcode.Authorizer over casbin: role-based access
// control with domains, where a domain is a region code. The role →
// permission policy (policy.csv) and the model (model.conf) are embedded and
// versioned with the code; the grants (staff, role, region) are loaded from
// storage through a load function and reloaded after every change.
//
// "Inside region R" means R or a descendant of R. It is answered by an
// ancestor lookup: a staff member holds a permission at region X when one of
// X's ancestors (X itself included, at most six codes) carries a grant of a
// role with the permission. Each lookup is one exact, cached casbin Enforce
// call; no domain pattern is ever matched against the grant set.
package rbac

import (
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"healthcode"
)

//go:embed model.conf
var modelText string

//go:embed policy.csv
var policyText string

// LoadFunc returns every grant of every staff account. Storage implements it
// (postgres.DB.LoadGrants).
type LoadFunc func(ctx context.Context) ([]healthcode.Grant, error)

// Enforcer answers jurisdiction questions for the services: it implements
// healthcode.Authorizer. It is safe for concurrent use. Construct it with New.
type Enforcer struct {
	load    LoadFunc
	ce      *casbin.SyncedCachedEnforcer
	adapter *adapter
	// rolePerms is the role → permission policy as read back from casbin.
	// The policy is embedded, so it never changes after New.
	rolePerms map[healthcode.Role]map[healthcode.Permission]bool

	// mu is held for reading while a question is answered and for writing
	// while a reload swaps the grants, so that no Enforce evaluated against
	// the old grants can store its result in the freshly cleared cache.
	mu        sync.RWMutex
	bySubject map[string][]grantRef // guarded by mu

	// reloadMu serialises reloads. invalidated counts Invalidate calls;
	// loaded is the value invalidated had when the current grants were read.
	// The grants are stale while loaded < invalidated.
	reloadMu    sync.Mutex
	invalidated atomic.Uint64
	loaded      atomic.Uint64

	// suspended is set while the process cannot learn of grant changes
	// (its listener is disconnected): staff questions are refused then.
	suspended atomic.Bool
}

// errSuspended refuses staff questions while grant changes cannot be seen.
var errSuspended = healthcode.Errorf(healthcode.EUNAVAILABLE, "权限服务暂时不可用，请稍后重试")

// Suspend makes every question about a staff member fail with UNAVAILABLE
// until Resume: while this process cannot hear grant changes (its database
// listener is disconnected), a grant revoked elsewhere must not be honoured
// here. Residents, machine clients and the system actor are not affected.
// The listener (postgres.WatchGrants) calls it; it never blocks.
func (e *Enforcer) Suspend() { e.suspended.Store(true) }

// Resume answers staff questions again after Suspend. The listener calls it
// once it has reconnected and reloaded the grants.
func (e *Enforcer) Resume() { e.suspended.Store(false) }

// staffReady returns errSuspended while suspended, else reloads stale grants.
func (e *Enforcer) staffReady(ctx context.Context) error {
	if e.suspended.Load() {
		return errSuspended
	}
	return e.fresh(ctx)
}

var _ healthcode.Authorizer = (*Enforcer)(nil)

// grantRef is one grant of a subject, as indexed for VisibleRegions.
type grantRef struct {
	role   healthcode.Role
	region string
}

// New builds an Enforcer from the embedded model and policy and loads all
// grants through load. The process entry point calls it once at start-up and
// wires Invalidate to grant changes (postgres.DB.GrantsChanged and
// postgres.WatchGrants). Errors: whatever load returns (wrapped), or an
// internal error when the embedded model or policy is broken.
func New(load LoadFunc) (*Enforcer, error) {
	if load == nil {
		return nil, errors.New("rbac: nil load function")
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("parse rbac model: %w", err)
	}
	policy, err := embeddedPolicy()
	if err != nil {
		return nil, err
	}
	ad := &adapter{policy: policy}
	ce, err := casbin.NewSyncedCachedEnforcer(m, ad)
	if err != nil {
		return nil, fmt.Errorf("create casbin enforcer: %w", err)
	}
	ce.SetCache(newBoundedCache(defaultCacheEntries))
	e := &Enforcer{load: load, ce: ce, adapter: ad}

	rows, err := ce.GetPolicy()
	if err != nil {
		return nil, fmt.Errorf("read rbac policy: %w", err)
	}
	e.rolePerms = make(map[healthcode.Role]map[healthcode.Permission]bool)
	for _, r := range rows {
		role := healthcode.Role(r[0])
		if e.rolePerms[role] == nil {
			e.rolePerms[role] = make(map[healthcode.Permission]bool)
		}
		e.rolePerms[role][healthcode.Permission{Object: r[1], Action: r[2]}] = true
	}

	if err := e.Reload(context.Background()); err != nil {
		return nil, err
	}
	return e, nil
}

// Invalidate marks the grant set stale: the next question about a staff
// member reloads all grants before it is answered. Anyone may call it; it
// never blocks and returns nothing. Storage calls it after a transaction that
// changed grants commits, and the grants_changed listener on every
// notification.
func (e *Enforcer) Invalidate() {
	e.invalidated.Add(1)
}

// Reload loads all grants now and clears the decision cache. Anyone may call
// it. Errors: whatever the load function returns (wrapped; INTERNAL unless it
// carries a domain code); on error the previous grants stay in force and stay
// marked stale if they were.
func (e *Enforcer) Reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	return e.reloadLocked(ctx)
}

// fresh reloads the grants when Invalidate was called since they were read.
// Concurrent callers wait for one reload.
func (e *Enforcer) fresh(ctx context.Context) error {
	want := e.invalidated.Load()
	if e.loaded.Load() >= want {
		return nil
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if e.loaded.Load() >= want {
		return nil // another caller reloaded meanwhile
	}
	return e.reloadLocked(ctx)
}

func (e *Enforcer) reloadLocked(ctx context.Context) error {
	gen := e.invalidated.Load() // read before the grants: a later Invalidate reloads again
	grants, err := e.load(ctx)
	if err != nil {
		return fmt.Errorf("load grants: %w", err)
	}
	rows := make([][]string, 0, len(grants))
	index := make(map[string][]grantRef)
	seen := make(map[[3]string]bool, len(grants))
	for _, g := range grants {
		// Fail closed on rows no service could have written: a role that is
		// not grantable to staff, or a malformed region.
		if !slices.Contains(healthcode.StaffRoles, g.Role) {
			continue
		}
		if _, ok := healthcode.LevelOfCode(g.RegionCode); !ok {
			continue
		}
		sub := (&healthcode.Actor{Kind: healthcode.ActorStaff, ID: g.StaffID}).Subject()
		k := [3]string{sub, string(g.Role), g.RegionCode}
		if seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, k[:])
		index[sub] = append(index[sub], grantRef{role: g.Role, region: g.RegionCode})
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.adapter.grants = rows
	// SyncedCachedEnforcer.LoadPolicy clears the decision cache itself; clear
	// it again once the new grants are in place, since the cache is the one
	// thing a revocation must never survive.
	if err := e.ce.LoadPolicy(); err != nil {
		return fmt.Errorf("load casbin policy: %w", err)
	}
	if err := e.ce.InvalidateCache(); err != nil {
		return fmt.Errorf("clear decision cache: %w", err)
	}
	e.bySubject = index
	for {
		cur := e.loaded.Load()
		if cur >= gen || e.loaded.CompareAndSwap(cur, gen) {
			break
		}
	}
	return nil
}

// invalidRegion is the error for a malformed region code.
func invalidRegion() error {
	return healthcode.Errorf(healthcode.EINVALID, "地区代码格式不正确")
}

// roleHas reports whether the policy gives role the permission.
func (e *Enforcer) roleHas(role healthcode.Role, perm healthcode.Permission) bool {
	return e.rolePerms[role][perm]
}

// Authorize implements healthcode.Authorizer: it returns nil when the actor
// holds perm at regionCode. Staff hold it through a grant at regionCode or one
// of its ancestors; residents when the RESIDENT role has it (province-wide;
// the service then restricts them to their own data); machine clients when
// SUBSYSTEM has it and regionCode is inside their city; the system actor
// always. Every service calls it before acting.
// Errors: UNAUTHENTICATED (nil actor), INVALID (malformed region code),
// FORBIDDEN, UNAVAILABLE (suspended, see Suspend), INTERNAL (the grants could
// not be reloaded).
func (e *Enforcer) Authorize(ctx context.Context, actor *healthcode.Actor, perm healthcode.Permission, regionCode string) error {
	if actor == nil {
		return healthcode.ErrUnauthenticated
	}
	if _, ok := healthcode.LevelOfCode(regionCode); !ok {
		return invalidRegion()
	}
	switch actor.Kind {
	case healthcode.ActorStaff:
		if err := e.staffReady(ctx); err != nil {
			return err
		}
		sub := actor.Subject()
		e.mu.RLock()
		defer e.mu.RUnlock()
		for _, code := range healthcode.AncestorCodes(regionCode) {
			ok, err := e.ce.Enforce(sub, code, perm.Object, perm.Action)
			if err != nil {
				return fmt.Errorf("enforce %s at %s: %w", perm, code, err)
			}
			if ok {
				return nil
			}
		}
	case healthcode.ActorResident:
		if e.roleHas(healthcode.RoleResident, perm) {
			return nil
		}
	case healthcode.ActorMachine:
		if e.roleHas(actor.MachineRole(), perm) && healthcode.RegionInside(regionCode, actor.RegionCode) {
			return nil
		}
	case healthcode.ActorSystem:
		return nil
	}
	return healthcode.ErrForbidden
}

// VisibleRegions implements healthcode.Authorizer: the minimal set of regions
// inside which the actor holds perm (no code in the result is inside another),
// sorted. Staff get the regions of their grants whose role has perm;
// residents ["61"] when RESIDENT has perm; machine clients their city when
// SUBSYSTEM has perm; the system actor ["61"]. Services call it to filter
// lists in SQL; an empty result means nothing is visible.
// Errors: UNAUTHENTICATED (nil actor), UNAVAILABLE (suspended), INTERNAL
// (the grants could not be reloaded).
func (e *Enforcer) VisibleRegions(ctx context.Context, actor *healthcode.Actor, perm healthcode.Permission) ([]string, error) {
	if actor == nil {
		return nil, healthcode.ErrUnauthenticated
	}
	switch actor.Kind {
	case healthcode.ActorStaff:
		if err := e.staffReady(ctx); err != nil {
			return nil, err
		}
		set := make(map[string]bool)
		e.mu.RLock()
		for _, g := range e.bySubject[actor.Subject()] {
			if e.roleHas(g.role, perm) {
				set[g.region] = true
			}
		}
		e.mu.RUnlock()
		return minimize(set), nil
	case healthcode.ActorResident:
		if e.roleHas(healthcode.RoleResident, perm) {
			return []string{healthcode.ProvinceCode}, nil
		}
	case healthcode.ActorMachine:
		if e.roleHas(actor.MachineRole(), perm) {
			if _, ok := healthcode.LevelOfCode(actor.RegionCode); ok {
				return []string{actor.RegionCode}, nil
			}
		}
	case healthcode.ActorSystem:
		return []string{healthcode.ProvinceCode}, nil
	}
	return []string{}, nil
}

// minimize returns the codes of set that are not inside another code of set,
// sorted.
func minimize(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for code := range set {
		covered := false
		for _, a := range healthcode.AncestorCodes(code)[1:] {
			if set[a] {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}

// RolesAt implements healthcode.Authorizer: the actor's roles that give perm
// at regionCode, sorted, for audit records. Staff roles come from the grants
// at regionCode and its ancestors; residents get [RESIDENT], machine clients
// [SUBSYSTEM] where Authorize would allow them; the system actor holds no
// role (empty result). An actor without the permission gets an empty result,
// not an error. Errors: UNAUTHENTICATED (nil actor), INVALID (malformed
// region code), UNAVAILABLE (suspended), INTERNAL (the grants could not be
// reloaded).
func (e *Enforcer) RolesAt(ctx context.Context, actor *healthcode.Actor, perm healthcode.Permission, regionCode string) ([]healthcode.Role, error) {
	if actor == nil {
		return nil, healthcode.ErrUnauthenticated
	}
	if _, ok := healthcode.LevelOfCode(regionCode); !ok {
		return nil, invalidRegion()
	}
	out := []healthcode.Role{}
	switch actor.Kind {
	case healthcode.ActorStaff:
		if err := e.staffReady(ctx); err != nil {
			return nil, err
		}
		sub := actor.Subject()
		e.mu.RLock()
		for _, code := range healthcode.AncestorCodes(regionCode) {
			for _, r := range e.ce.GetRolesForUserInDomain(sub, code) {
				role := healthcode.Role(r)
				if e.roleHas(role, perm) && !slices.Contains(out, role) {
					out = append(out, role)
				}
			}
		}
		e.mu.RUnlock()
		slices.Sort(out)
	case healthcode.ActorResident:
		if e.roleHas(healthcode.RoleResident, perm) {
			out = append(out, healthcode.RoleResident)
		}
	case healthcode.ActorMachine:
		if e.roleHas(actor.MachineRole(), perm) && healthcode.RegionInside(regionCode, actor.RegionCode) {
			out = append(out, actor.MachineRole())
		}
	}
	return out, nil
}

// Permissions returns the permissions the embedded policy gives role, in
// policy order (nil for an unknown role). Anyone may call it, for instance to
// show what a role allows. Errors: none.
func Permissions(role healthcode.Role) []healthcode.Permission {
	rows, err := embeddedPolicy()
	if err != nil {
		return nil
	}
	var out []healthcode.Permission
	for _, r := range rows {
		if r[0] == string(role) {
			out = append(out, healthcode.Permission{Object: r[1], Action: r[2]})
		}
	}
	return out
}

// embeddedPolicy is policy.csv, parsed once.
var embeddedPolicy = sync.OnceValues(func() ([][]string, error) { return parsePolicy(policyText) })

// parsePolicy reads policy.csv: lines "p, ROLE, object, action", blank lines
// and # comments. It returns rows (role, object, action).
func parsePolicy(text string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("parse rbac policy: %w", err)
		}
		if len(rec) != 4 || rec[0] != "p" {
			return nil, fmt.Errorf("parse rbac policy: bad row %q", strings.Join(rec, ", "))
		}
		if !healthcode.Role(rec[1]).Valid() {
			return nil, fmt.Errorf("parse rbac policy: unknown role %q", rec[1])
		}
		rows = append(rows, rec[1:])
	}
	return rows, nil
}

// adapter feeds casbin the embedded policy and the grants of the current
// reload. It is read-only: grants change in storage, never through casbin.
type adapter struct {
	policy [][]string // (role, object, action)
	grants [][]string // (subject, role, region); set under Enforcer.mu before LoadPolicy
}

var errReadOnly = errors.New("rbac: the casbin policy is read-only; change grants in storage")

func (a *adapter) LoadPolicy(m model.Model) error {
	for _, r := range a.policy {
		if err := persist.LoadPolicyArray([]string{"p", r[0], r[1], r[2]}, m); err != nil {
			return err
		}
	}
	for _, g := range a.grants {
		if err := m.AddPolicy("g", "g", g); err != nil {
			return err
		}
	}
	return nil
}

func (a *adapter) SavePolicy(model.Model) error                              { return errReadOnly }
func (a *adapter) AddPolicy(string, string, []string) error                  { return errReadOnly }
func (a *adapter) RemovePolicy(string, string, []string) error               { return errReadOnly }
func (a *adapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }
