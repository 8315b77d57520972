package graph_test

import (
	"context"
	"regexp"
	"testing"

	"healthcode/demo"
	"healthcode/graph/apitest"
)

// The payload of login resolves as the new session: the caller of login has
// no session (or another one), yet `me { grants { region } }` and
// `me { staff { region } }` read the regions as the account that just logged
// in (docs/api.md's first example). The same for a resident's SMS login.
func TestLoginPayloadResolvesAsNewSession(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{Dev: true})
	ctx := context.Background()
	if err := demo.SeedAccounts(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	if err := b.Enforcer.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	const q = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
		token me { name staff { region { name } } grants { role regionCode region { name } } } } }`
	vars := map[string]any{"u": "yanta_admin", "p": demo.Password}
	_, resident := b.CreateResident(t, "13800138000")
	for _, caller := range []struct{ name, token string }{{"anonymous", ""}, {"another session", resident}} {
		data := b.Do(t, caller.token, q, vars).MustData(t)
		me := data["login"].(map[string]any)["me"].(map[string]any)
		grants := me["grants"].([]any)
		if len(grants) != 1 {
			t.Fatalf("%s: grants %v", caller.name, grants)
		}
		g := grants[0].(map[string]any)
		region, _ := g["region"].(map[string]any)
		staffRegion, _ := me["staff"].(map[string]any)["region"].(map[string]any)
		if g["regionCode"] != "610113" || region["name"] != "雁塔区" || staffRegion["name"] != "雁塔区" {
			t.Errorf("%s: login payload %v, want the grant's and the account's region 雁塔区", caller.name, me)
		}
		// The token is the new session's.
		token := data["login"].(map[string]any)["token"].(string)
		who := b.Do(t, token, `query { me { name } }`, nil).MustData(t)
		if who["me"].(map[string]any)["name"] != "yanta_admin" {
			t.Errorf("%s: the new token belongs to %v", caller.name, who)
		}
	}

	// A resident's SMS login: the payload describes the resident.
	if r := b.Do(t, "", `mutation { requestSmsCode(phone: "13900139000") }`, nil); len(r.Errors) > 0 {
		t.Fatalf("requestSmsCode: %+v", r.Errors)
	}
	b.DeliverSMS(t)
	msgs := b.Do(t, "", `query { devMessages(phone: "13900139000") { body sentAt } }`, nil).MustData(t)["devMessages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("dev messages: %v", msgs)
	}
	code := regexp.MustCompile(`\d{6}`).FindString(msgs[0].(map[string]any)["body"].(string))
	data := b.Do(t, staffToken(t, b), `mutation($c: String!) { loginResident(phone: "13900139000", code: $c) { token me { kind name staff { username } grants { regionCode } } } }`,
		map[string]any{"c": code}).MustData(t)
	me := data["loginResident"].(map[string]any)["me"].(map[string]any)
	if me["kind"] != "RESIDENT" || me["staff"] != nil || len(me["grants"].([]any)) != 0 || me["name"] == "yanta_admin" {
		t.Errorf("resident login payload as a staff caller: %v, want the resident", me)
	}
}

func staffToken(t *testing.T, b *apitest.Bundle) string {
	t.Helper()
	return login(t, b, "admin", demo.Password)
}
