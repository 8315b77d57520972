package rbac

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"healthcode"
)

// benchSetup is shared by BenchmarkAuthorize and BenchmarkAuthorizeBaseline:
// about 10,000 grants of 5,000 staff members over a synthetic tree, and 512
// questions about compounds (six ancestors each) of which about half are
// allowed.
type benchSetup struct {
	grants    []healthcode.Grant
	questions []benchQuestion
}

type benchQuestion struct {
	actor  *healthcode.Actor
	region string
}

var benchPerm = healthcode.PermPersonRead

func newBenchSetup() *benchSetup {
	rng := rand.New(rand.NewPCG(1, 2))
	compound := func() string {
		return fmt.Sprintf("61%02d%02d%03d%03d%03d", 1+rng.IntN(10), 1+rng.IntN(20), 1+rng.IntN(20), 1+rng.IntN(20), 1+rng.IntN(20))
	}
	s := &benchSetup{}
	const staffN = 5000
	for id := int64(1); id <= staffN; id++ {
		for range 2 {
			code := compound()
			anc := healthcode.AncestorCodes(code)
			s.grants = append(s.grants, healthcode.Grant{
				StaffID:    id,
				Role:       healthcode.StaffRoles[rng.IntN(len(healthcode.StaffRoles))],
				RegionCode: anc[rng.IntN(len(anc)-1)], // city … compound
			})
		}
	}
	for range 512 {
		g := s.grants[rng.IntN(len(s.grants))]
		region := compound()
		if rng.IntN(2) == 0 && len(g.RegionCode) < 15 {
			// A compound inside the grant.
			region = g.RegionCode + region[len(g.RegionCode):]
		}
		s.questions = append(s.questions, benchQuestion{
			actor:  &healthcode.Actor{Kind: healthcode.ActorStaff, ID: g.StaffID},
			region: region,
		})
	}
	return s
}

// baseline is the equivalent check without casbin: a plain Go map of
// (subject, region, role) probed for each ancestor and each role with the
// permission.
type baseline struct {
	grants    map[baselineKey]struct{}
	rolesWith []healthcode.Role
}

type baselineKey struct {
	subject string
	region  string
	role    healthcode.Role
}

func newBaseline(s *benchSetup, perm healthcode.Permission) *baseline {
	b := &baseline{grants: make(map[baselineKey]struct{}, len(s.grants))}
	for _, g := range s.grants {
		sub := (&healthcode.Actor{Kind: healthcode.ActorStaff, ID: g.StaffID}).Subject()
		b.grants[baselineKey{sub, g.RegionCode, g.Role}] = struct{}{}
	}
	for _, r := range healthcode.StaffRoles {
		for _, p := range Permissions(r) {
			if p == perm {
				b.rolesWith = append(b.rolesWith, r)
			}
		}
	}
	return b
}

func (b *baseline) authorize(a *healthcode.Actor, region string) error {
	if _, ok := healthcode.LevelOfCode(region); !ok {
		return healthcode.Errorf(healthcode.EINVALID, "地区代码格式不正确")
	}
	sub := a.Subject()
	for _, code := range healthcode.AncestorCodes(region) {
		for _, r := range b.rolesWith {
			if _, ok := b.grants[baselineKey{sub, code, r}]; ok {
				return nil
			}
		}
	}
	return healthcode.ErrForbidden
}

// measure returns the mean time of n calls of f over the questions.
func measure(s *benchSetup, n int, f func(q benchQuestion) error) time.Duration {
	start := time.Now()
	for i := range n {
		_ = f(s.questions[i%len(s.questions)])
	}
	return time.Since(start) / time.Duration(n)
}

// BenchmarkAuthorize measures a staff Authorize (warm decision cache) with
// about 10,000 grants loaded. Besides ns/op it reports x_baseline: the ratio
// of Authorize to the plain-map baseline, both timed over the same fixed
// number of calls in this run, so the ratio does not depend on -benchtime.
func BenchmarkAuthorize(b *testing.B) {
	s := newBenchSetup()
	e, err := New(func(context.Context) ([]healthcode.Grant, error) { return s.grants, nil })
	if err != nil {
		b.Fatal(err)
	}
	base := newBaseline(s, benchPerm)
	ctx := context.Background()
	authz := func(q benchQuestion) error { return e.Authorize(ctx, q.actor, benchPerm, q.region) }
	// Both agree on every question; this also warms the decision cache.
	allowed := 0
	for _, q := range s.questions {
		got, want := authz(q), base.authorize(q.actor, q.region)
		if (got == nil) != (want == nil) {
			b.Fatalf("%s at %s: enforcer %v, baseline %v", q.actor.Subject(), q.region, got, want)
		}
		if got == nil {
			allowed++
		}
	}
	const calls = 20000
	ratio := float64(measure(s, calls, authz)) / float64(measure(s, calls, func(q benchQuestion) error {
		return base.authorize(q.actor, q.region)
	}))

	b.ResetTimer()
	for i := range b.N {
		_ = authz(s.questions[i%len(s.questions)])
	}
	b.StopTimer()
	b.ReportMetric(ratio, "x_baseline")
	b.ReportMetric(float64(allowed)/float64(len(s.questions)), "allowed_share")
}

// BenchmarkAuthorizeBaseline measures the plain-map check that
// BenchmarkAuthorize compares itself with.
func BenchmarkAuthorizeBaseline(b *testing.B) {
	s := newBenchSetup()
	base := newBaseline(s, benchPerm)
	b.ResetTimer()
	for i := range b.N {
		q := s.questions[i%len(s.questions)]
		_ = base.authorize(q.actor, q.region)
	}
}
