//go:build faults

package faults_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/graph/apitest"
)

// Two serve replicas and two workers on one PostgreSQL and one Redis behave
// as one process (issue 17, deliver 4), with nothing failing: a ticket
// subscriber on replica 1 sees the changes made on replica 2; a grant
// revoked on replica 1 is refused on replica 2 at the very next request; the
// every-minute periodic slots are written once each (one outbox row per
// slot whichever scheduler got there first), handed over to the queue once
// and run once, by one of the two workers; and every other outbox row too.
func (s *scenarios) twoReplicas(t *testing.T) {
	h := s.h
	h.t = t
	began := time.Now()
	var county string
	if err := h.db.Pool.QueryRow(h.ctx, `SELECT left(residence_code, 6) c FROM persons GROUP BY c ORDER BY count(*) DESC LIMIT 1`).
		Scan(&county); err != nil {
		t.Fatal(err)
	}
	_, countyAdmin := h.api.CreateStaff(t, "replica_county_admin", county, apitest.G("ADMIN@"+county))
	_, handler := h.api.CreateStaff(t, "replica_handler", county, apitest.G("HANDLER@"+county))
	_, operator := h.api.CreateStaff(t, "replica_operator", "61", apitest.G("OPERATOR@61"))
	revokedID, revoked := h.api.CreateStaff(t, "replica_revoked", county, apitest.G("ADMIN@"+county))
	if _, err := h.db.Pool.Exec(h.ctx, "SELECT pg_notify('grants_changed', '')"); err != nil {
		t.Fatal(err)
	}

	// Subscriptions: the handler subscribed on replica 1, the tickets made
	// and dispatched on replica 2.
	h.mustRetry(s.serve2.addr, countyAdmin, `mutation($r: String!) { createHandlingUnit(region: $r, name: "双副本承办单位") { id } }`,
		map[string]any{"r": county})
	sub := h.subscribe(s.serve1.addr, handler)
	rows, err := h.db.Pool.Query(h.ctx, `SELECT id FROM persons WHERE residence_code LIKE $1 || '%' ORDER BY id DESC LIMIT 4`, county)
	if err != nil {
		t.Fatal(err)
	}
	persons, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	var tickets []string
	for _, p := range persons {
		d := h.must(s.serve2.addr, operator, `mutation($p: ID!) { createTicket(input: {kind: COMPLAINT, personId: $p, subject: "双副本", description: "双副本工单"}) { id } }`,
			map[string]any{"p": fmt.Sprint(p)})
		id := d["createTicket"].(map[string]any)["id"].(string)
		tickets = append(tickets, id)
		h.must(s.serve2.addr, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id})
	}
	seen := h.waitUntil("the subscriber on replica 1 to see the dispatches made on replica 2", 30*time.Second, func() bool {
		return len(sub.missing(tickets, "DISPATCHED")) == 0
	})
	t.Logf("subscription on replica 1: the %d dispatches made on replica 2 seen within %s", len(tickets), seen.Round(time.Millisecond))

	// Revocation: allowed on replica 2, revoked on replica 1, refused on
	// replica 2 at the next request.
	check := `query($r: String!) { persons(region: $r, first: 1) { nodes { id } } }`
	h.must(s.serve2.addr, revoked, check, map[string]any{"r": county})
	var grantID int64
	if err := h.db.Pool.QueryRow(h.ctx, "SELECT id FROM grants WHERE staff_id = $1", revokedID).Scan(&grantID); err != nil {
		t.Fatal(err)
	}
	h.must(s.serve1.addr, s.admin, `mutation($g: ID!) { revokeRole(grantId: $g) }`, map[string]any{"g": fmt.Sprint(grantID)})
	if r := gql(s.serve2.addr, revoked, check, map[string]any{"r": county}); r.Err != nil || r.Status != http.StatusOK ||
		(r.Code != healthcode.EFORBIDDEN && r.Code != healthcode.ENOTFOUND) {
		t.Errorf("the first request on replica 2 after the revocation on replica 1: status %d code %q err %v, want FORBIDDEN",
			r.Status, r.Code, r.Err)
	} else {
		t.Logf("grant revoked on replica 1: the next request on replica 2 refused (%s)", r.Code)
	}

	// Periodic slots and the outbox: wait until two every-minute slots
	// written since the workers started are done, then check every slot and
	// every row since.
	since := s.workersStarted
	minute := func(task string) int {
		return h.count(`SELECT count(*) FROM outbox WHERE task_type = $1 AND created_at >= $2 AND done_at IS NOT NULL`, task, since)
	}
	// The schedulers catch up the current minute's slot when they start, so
	// two slots may be done a few seconds after the start; the outbox check
	// below looks at rows older than 30 s, so wait past that too (else it
	// finds none whenever the workers started late in a minute).
	h.waitUntil("two every-minute slots run and rows older than 30 s", 3*time.Minute, func() bool {
		return minute(healthcode.TaskTicketDeadlines) >= 2 && minute(healthcode.TaskReevaluateDue) >= 2 &&
			time.Since(since) > 35*time.Second
	})
	for _, task := range []string{healthcode.TaskTicketDeadlines, healthcode.TaskReevaluateDue} {
		// One row per minute slot: no slot twice, none missed between the
		// first and the last.
		var rows, slots int
		var first, last time.Time
		if err := h.db.Pool.QueryRow(h.ctx, `SELECT count(*), count(DISTINCT (payload->>'slot')::timestamptz),
				min((payload->>'slot')::timestamptz), max((payload->>'slot')::timestamptz)
			FROM outbox WHERE task_type = $1 AND created_at >= $2`, task, since).Scan(&rows, &slots, &first, &last); err != nil {
			t.Fatal(err)
		}
		if want := int(last.Sub(first)/time.Minute) + 1; rows != slots || slots != want {
			t.Errorf("%s: %d rows for %d distinct slots from %s to %s, want one row for each of %d", task, rows, slots,
				first.Format("15:04"), last.Format("15:04"), want)
		}
		t.Logf("%s: %d minute slots written once each by the two schedulers", task, slots)
	}
	// Every row since the workers started: handed over once (attempts 1),
	// never taken over from a worker (generation 0), done without failing.
	var total, again, failed, open int
	if err := h.db.Pool.QueryRow(h.ctx, `SELECT count(*), count(*) FILTER (WHERE attempts > 1 OR generation > 0),
			count(*) FILTER (WHERE failed_at IS NOT NULL), count(*) FILTER (WHERE done_at IS NULL)
		FROM outbox WHERE created_at >= $1 AND created_at < now() - interval '30 seconds'`, since).
		Scan(&total, &again, &failed, &open); err != nil {
		t.Fatal(err)
	}
	if total == 0 || again > 0 || failed > 0 || open > 0 {
		t.Errorf("outbox rows since the workers started (older than 30 s): %d, handed over more than once %d, failed %d, not done %d",
			total, again, failed, open)
	}
	t.Logf("outbox: %d rows since the workers started, each handed over once and done; two replicas and two workers checked in %s",
		total, time.Since(began).Round(time.Second))
}
