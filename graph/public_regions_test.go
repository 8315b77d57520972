package graph_test

import (
	"testing"
	"time"

	"healthcode"
	"healthcode/graph"
	"healthcode/graph/apitest"
)

// The public registration form picks its region from publicRegions: anyone,
// also without a session, reads the names of Shaanxi's divisions one level at
// a time down to the communities; compounds are never listed; bad codes are
// refused; anonymous callers are rate limited per address like the other
// public operations.
func TestPublicRegionsAnonymous(t *testing.T) {
	t.Parallel()
	clock := &healthcode.OffsetClock{}
	clock.Set(time.Date(2020, 2, 20, 9, 0, 0, 0, time.UTC))
	rule := graph.DefaultRateLimits["publicRegions"]
	if rule.PerAddress.Events == 0 || rule.PerAccount.Events == 0 {
		t.Fatalf("publicRegions has no rate limit of its own: %+v", rule)
	}
	rule.PerAddress = healthcode.Limit{Events: 8, Per: time.Minute} // small, to reach it here
	b := apitest.Setup(t, apitest.Options{RateLimiter: redisLimiter(t, clock), RateLimits: map[string]graph.RateRule{"publicRegions": rule}})
	const q = `query($p: String) { publicRegions(parent: $p) { code name level parentCode } }`
	list := func(addr string, parent any) []map[string]any {
		t.Helper()
		r := postFrom(t, b, addr, "", q, map[string]any{"p": parent})
		var out []map[string]any
		for _, x := range r.MustData(t)["publicRegions"].([]any) {
			out = append(out, x.(map[string]any))
		}
		return out
	}
	cities := list("192.0.2.1", nil)
	if len(cities) != 10 || cities[0]["code"] != "6101" || cities[0]["name"] != "西安市" || cities[0]["level"] != "CITY" {
		t.Fatalf("the cities: %v", cities)
	}
	counties := list("192.0.2.1", "6101")
	found := false
	for _, c := range counties {
		found = found || (c["code"] == "610113" && c["name"] == "雁塔区" && c["parentCode"] == "6101")
	}
	if !found {
		t.Fatalf("西安市's counties lack 雁塔区: %v", counties)
	}
	streets := list("192.0.2.1", "610113")
	if len(streets) == 0 || streets[0]["level"] != "STREET" {
		t.Fatalf("雁塔区's streets: %v", streets)
	}
	street := streets[0]["code"].(string)
	communities := list("192.0.2.1", street)
	if len(communities) == 0 || communities[0]["level"] != "COMMUNITY" {
		t.Fatalf("the communities of %s: %v", street, communities)
	}
	// A compound made by the community's administrator stays private.
	community := communities[0]["code"].(string)
	_, admin := b.CreateStaff(t, "community_admin", community, apitest.G("ADMIN@"+community))
	compound := b.Do(t, admin, `mutation($c: String!) { createCompound(community: $c, name: "一号院") { code } }`,
		map[string]any{"c": community}).MustData(t)["createCompound"].(map[string]any)["code"]
	if got := list("192.0.2.2", community); len(got) != 0 {
		t.Fatalf("a community's children listed publicly: %v", got)
	}
	for parent, code := range map[any]string{"61x": "INVALID", "999999": "INVALID", "610199": "NOT_FOUND", compound: "NOT_FOUND"} {
		if r := postFrom(t, b, "192.0.2.2", "", q, map[string]any{"p": parent}); r.Code() != code {
			t.Errorf("publicRegions(%v): %q, want %s", parent, r.Code(), code)
		}
	}
	// An address has 8 calls a minute here (600 by default).
	calls := 0
	for ; calls < 20; calls++ {
		if r := postFrom(t, b, "192.0.2.3", "", q, nil); r.Code() == healthcode.ERATELIMITED {
			break
		}
	}
	if calls != 8 {
		t.Fatalf("one address was refused after %d calls in a minute, want 8", calls)
	}
	if got := list("192.0.2.1", nil); len(got) != 10 {
		t.Fatalf("another address: %v", got)
	}
}
