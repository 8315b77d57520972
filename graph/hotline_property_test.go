package graph_test

import (
	"context"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"healthcode/graph/apitest"
)

// For random tickets in Yanta and Beilin and random actions by a Yanta
// handler and by operators: the handler never sees or acts on a Beilin
// ticket; nobody gets an unmasked ID without an open ticket of that person
// they work on; every unmasked view has its audit record.
func TestPropertyHotlineJurisdiction(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, root := s.CreateStaff(t, "root_admin", "61", apitest.G("ADMIN@61"))
	for _, c := range []string{"610113", "610103"} {
		s.Do(t, root, `mutation($r: String!) { createHandlingUnit(region: $r, name: "承办中心") { id } }`, map[string]any{"r": c}).MustData(t)
	}
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, yantaHandler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, beilinOperator := s.CreateStaff(t, "beilin_operator", "610103", apitest.G("OPERATOR@610103"))
	type ticket struct {
		id     string
		county string
	}
	var tickets []ticket
	for i, county := range []string{"610113", "610103", "610113", "610103", "610113", "610103"} {
		phone := fmt.Sprintf("1360000000%d", i)
		_, res := s.CreateResident(t, phone)
		s.declare(res, declaration("居民", idNumber(fmt.Sprintf("6101131980010100%d", i)), phone, s.community(county), nil))
		id := s.Do(t, res, `mutation { fileAppeal(input: {reason: "申诉"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)
		tickets = append(tickets, ticket{id, county})
	}
	var unmasked int
	rapid.Check(t, func(rt *rapid.T) {
		tk := rapid.SampledFrom(tickets).Draw(rt, "ticket")
		action := rapid.SampledFrom([]string{"dispatch", "sign", "read", "unmask_handler", "unmask_beilin_operator", "close"}).Draw(rt, "action")
		vars := map[string]any{"id": tk.id}
		var r *apitest.Response
		switch action {
		case "dispatch":
			r = s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, vars)
		case "sign":
			r = s.Do(t, yantaHandler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, vars)
			if tk.county == "610103" && r.Code() != "NOT_FOUND" {
				rt.Fatalf("yanta handler signing beilin ticket %s: %q", tk.id, r.Code())
			}
		case "read":
			r = s.Do(t, yantaHandler, `query($id: ID!) { ticket(id: $id) { id regionCode } }`, vars)
			if tk.county == "610103" && r.Code() != "NOT_FOUND" {
				rt.Fatalf("yanta handler reading beilin ticket %s: %q %v", tk.id, r.Code(), r.Data)
			}
		case "unmask_handler", "unmask_beilin_operator":
			token := yantaHandler
			if action == "unmask_beilin_operator" {
				token = beilinOperator
			}
			r = s.Do(t, token, `mutation($id: ID!) { unmaskPerson(ticketId: $id, reason: "核实身份") { docNumber } }`, vars)
			if r.Code() == "" {
				unmasked++
				// Allowed only for an open ticket the caller works on.
				st := s.Do(t, operator, `query($id: ID!) { ticket(id: $id) { state unit { regionCode } } }`, vars).MustData(t)["ticket"].(map[string]any)
				if st["state"] == "CLOSED" || st["state"] == "MERGED" {
					rt.Fatalf("unmasked on a %s ticket", st["state"])
				}
				if action == "unmask_handler" && (tk.county != "610113" || st["unit"] == nil) {
					rt.Fatalf("yanta handler unmasked ticket %s of %s", tk.id, tk.county)
				}
				if action == "unmask_beilin_operator" && tk.county != "610103" {
					rt.Fatalf("beilin operator unmasked a ticket of %s", tk.county)
				}
			}
		case "close":
			r = s.Do(t, yantaHandler, `query { tickets(first: 100) { nodes { id regionCode } } }`, nil)
			for _, n := range r.MustData(t)["tickets"].(map[string]any)["nodes"].([]any) {
				if code := n.(map[string]any)["regionCode"].(string); code[:6] != "610113" {
					rt.Fatalf("yanta handler's queue holds a ticket of %s", code)
				}
			}
		}
		var audited int
		s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'person.unmask'").Scan(&audited)
		if audited != unmasked {
			rt.Fatalf("%d unmasked views, %d audit records", unmasked, audited)
		}
	})
}
