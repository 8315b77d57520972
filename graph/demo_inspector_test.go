package graph_test

import (
	"context"
	"testing"

	"healthcode/demo"
	"healthcode/graph/apitest"
)

// The demo seed gives the scanner an inspector of a checkpoint in 雁塔区
// with two venues, once however often it runs; the inspector logs in and
// lists the venues the scanner offers.
func TestDemoInspector(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{Dev: true})
	ctx := context.Background()
	for range 2 {
		if err := demo.SeedAccounts(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedCheckpoint(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Enforcer.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	login := b.Do(t, "", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token me { grants { role regionCode } } } }`,
		map[string]any{"u": demo.Inspector, "p": demo.Password}).MustData(t)["login"].(map[string]any)
	grants := login["me"].(map[string]any)["grants"].([]any)
	if len(grants) != 1 || grants[0].(map[string]any)["role"] != "INSPECTOR" || grants[0].(map[string]any)["regionCode"] != "610113" {
		t.Fatalf("demo inspector grants = %v", grants)
	}
	venues := b.Do(t, login["token"].(string), `query { venues { id name typeLabel regionCode status } }`, nil).MustData(t)["venues"].([]any)
	if len(venues) != 2 {
		t.Fatalf("demo inspector's venues = %v", venues)
	}
	for _, v := range venues {
		if v.(map[string]any)["status"] != "ACTIVE" || v.(map[string]any)["regionCode"].(string)[:6] != "610113" {
			t.Fatalf("venue = %v", v)
		}
	}
	var n int
	b.Pool.QueryRow(ctx, "SELECT count(*) FROM institutions").Scan(&n)
	if n != 1 {
		t.Fatalf("%d institutions after seeding twice", n)
	}
}
