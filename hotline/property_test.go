package hotline

import (
	"slices"
	"testing"

	"healthcode"
	"pgregory.net/rapid"
)

var staffRoles = []Role{Operator, Handler, UnitSupervisor, Province, System}

var units = []string{"", "610113", "610104", "610113001"}

// drawInput draws any input, valid or not.
func drawInput(rt *rapid.T) Input {
	text := rapid.SampledFrom([]string{"", "  ", "已核实", "答复内容"}).Draw(rt, "text")
	reason := rapid.SampledFrom([]string{"", "\t", "辖区不符", "需现场核查"}).Draw(rt, "reason")
	return Input{
		Text:         text,
		Reason:       reason,
		Satisfaction: rapid.SampledFrom([]Satisfaction{"", Satisfied, BasicallySatisfied, Dissatisfied, "BAD"}).Draw(rt, "satisfaction"),
		Decision:     rapid.SampledFrom([]Decision{"", Approve, Reject, "MAYBE"}).Draw(rt, "decision"),
		TargetUnit:   rapid.SampledFrom(units).Draw(rt, "unit"),
		TargetTicket: rapid.Int64Range(-1, 3).Draw(rt, "target"),
		Place:        rapid.SampledFrom([]string{"", " ", "610103001001"}).Draw(rt, "place"),
	}
}

// drawValidInput draws an input that satisfies every need.
func drawValidInput(rt *rapid.T) Input {
	return Input{
		Text:         "答复内容",
		Reason:       "原因",
		Satisfaction: rapid.SampledFrom(Satisfactions).Draw(rt, "satisfaction"),
		Decision:     rapid.SampledFrom([]Decision{Approve, Reject}).Draw(rt, "decision"),
		TargetUnit:   rapid.SampledFrom(units[1:]).Draw(rt, "unit"),
		TargetTicket: rapid.Int64Range(2, 9).Draw(rt, "target"),
		Place:        "610103001001",
	}
}

// TestPropertyRandomWalks walks from ACCEPTED through random allowed
// actions, interleaving arbitrary attempts (any action, any role, any
// input), and checks the invariants of the machine after every step.
func TestPropertyRandomWalks(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		tk := Ticket{ID: 1, Kind: rapid.SampledFrom(Kinds).Draw(rt, "kind"), State: Accepted}
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			// An arbitrary attempt: whatever happens must agree with
			// AllowedActions, and a resident never gets through.
			a := rapid.SampledFrom(Actions).Draw(rt, "anyAction")
			role := rapid.SampledFrom(Roles).Draw(rt, "anyRole")
			st, err := Apply(tk, a, role, drawInput(rt))
			allowed := slices.Contains(AllowedActions(tk, role), a)
			code := healthcode.ErrorCode(err)
			switch {
			case role == Resident && code != healthcode.EFORBIDDEN:
				rt.Fatalf("resident %s on %s: %v", a, tk.State, err)
			case !allowed && code != healthcode.ECONFLICT && code != healthcode.EFORBIDDEN:
				rt.Fatalf("%s by %s on %s not allowed, but error %v", a, role, tk.State, err)
			case allowed && err != nil && code != healthcode.EINVALID:
				rt.Fatalf("%s by %s on %s allowed, but error %v", a, role, tk.State, err)
			}
			if err == nil && rapid.Bool().Draw(rt, "takeArbitrary") {
				checkStep(rt, tk, st)
				tk = st.Next
				continue
			}

			// A step chosen among the allowed ones, with valid input.
			var choices []struct {
				r Role
				a Action
			}
			for _, r := range staffRoles {
				for _, a := range AllowedActions(tk, r) {
					choices = append(choices, struct {
						r Role
						a Action
					}{r, a})
				}
			}
			if AllowedActions(tk, Resident) != nil {
				rt.Fatalf("actions offered to a resident on %s", tk.State)
			}
			if len(choices) == 0 {
				if tk.State != Merged {
					rt.Fatalf("no action possible in %s", tk.State)
				}
				return
			}
			c := rapid.SampledFrom(choices).Draw(rt, "choice")
			in := drawValidInput(rt)
			st, err = Apply(tk, c.a, c.r, in)
			if err != nil {
				rt.Fatalf("%s by %s on %+v with valid input: %v", c.a, c.r, tk, err)
			}
			checkStep(rt, tk, st)
			tk = st.Next
		}
	})
}

// checkStep asserts the invariants of one successful step from prev.
func checkStep(rt *rapid.T, prev Ticket, st Step) {
	n := st.Next
	switch {
	case !n.State.Valid():
		rt.Fatalf("unknown state %q", n.State)
	case st.From != prev.State || st.To != n.State:
		rt.Fatalf("step %s → %s, ticket %s → %s", st.From, st.To, prev.State, n.State)
	case st.Role == Resident:
		rt.Fatalf("a resident changed the ticket: %+v", st)
	case (prev.State == Closed || prev.State == Merged) && !(prev.State == Closed && st.Action == Reopen):
		rt.Fatalf("%s left terminal state %s", st.Action, prev.State)
	case (st.Visibility == Internal) != slices.Contains(internalActions, st.Action):
		rt.Fatalf("%s has visibility %s", st.Action, st.Visibility)
	case st.Visibility == Internal && slices.Contains(st.Effects, NotifyResident):
		rt.Fatalf("internal step %s notifies the resident", st.Action)
	case slices.Contains(stayActions, st.Action) && n.State != prev.State:
		rt.Fatalf("%s changed the state", st.Action)
	case !slices.Contains(stayActions, st.Action) && st.Action != Redispatch && n.State == prev.State:
		rt.Fatalf("%s left the state unchanged", st.Action)
	case n.ExtensionPending && n.State != Signed && n.State != InProgress:
		rt.Fatalf("extension pending in %s", n.State)
	case (n.MergedInto != 0) != (n.State == Merged):
		rt.Fatalf("merged into %d in %s", n.MergedInto, n.State)
	case n.MergedInto == n.ID && n.ID != 0:
		rt.Fatalf("merged into itself")
	case n.Unit == "" && slices.Contains([]State{Dispatched, Signed, InProgress, Replied}, n.State):
		rt.Fatalf("no unit in %s", n.State)
	case n.Kind != prev.Kind || n.ID != prev.ID:
		rt.Fatalf("kind or id changed")
	case n.State == Dispatched && !slices.Contains(stayActions, st.Action) && (n.Supervised || !slices.Contains(st.Effects, StartSignClock)):
		rt.Fatalf("entering DISPATCHED did not start a fresh round: %+v", st)
	}
	reopened := st.Action == Reopen || (st.Action == Callback && n.State == Dispatched)
	want := prev.ReopenCount
	if reopened {
		want++
	}
	if n.ReopenCount != want || reopened != slices.Contains(st.Effects, IncrementReopen) {
		rt.Fatalf("%s: reopen count %d → %d", st.Action, prev.ReopenCount, n.ReopenCount)
	}
}
