package hotline_test

import (
	"fmt"

	"healthcode"
	"healthcode/hotline"
)

// A complaint is dispatched, signed, answered and closed after a satisfied
// callback; a resident cannot change anything.
func Example() {
	t := hotline.Ticket{ID: 7, Kind: hotline.Complaint, State: hotline.Accepted}
	steps := []struct {
		a    hotline.Action
		role hotline.Role
		in   hotline.Input
	}{
		{hotline.Dispatch, hotline.Operator, hotline.Input{TargetUnit: "610113"}},
		{hotline.Sign, hotline.Handler, hotline.Input{}},
		{hotline.Reply, hotline.Handler, hotline.Input{Text: "已责令该小区规范查验"}},
		{hotline.Callback, hotline.Operator, hotline.Input{Satisfaction: hotline.Satisfied}},
	}
	for _, s := range steps {
		st, err := hotline.Apply(t, s.a, s.role, s.in)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s → %s %s %v\n", st.Action.Label(), st.To.Label(), st.Visibility, st.Effects)
		t = st.Next
	}
	_, err := hotline.Apply(t, hotline.Reopen, hotline.Resident, hotline.Input{Reason: "再次投诉"})
	fmt.Println(healthcode.ErrorCode(err), healthcode.ErrorMessage(err))
	_, err = hotline.Apply(t, hotline.Dispatch, hotline.Operator, hotline.Input{TargetUnit: "610113"})
	fmt.Println(healthcode.ErrorCode(err), healthcode.ErrorMessage(err))
	fmt.Println(hotline.AllowedActions(t, hotline.Operator))
	// Output:
	// 派单 → 已派单 PUBLIC [START_SIGN_CLOCK START_REPLY_CLOCK NOTIFY_UNIT]
	// 签收 → 已签收 PUBLIC [STOP_SIGN_CLOCK]
	// 答复 → 已答复 PUBLIC [STOP_CLOCKS START_CALLBACK_CLOCK NOTIFY_RESIDENT]
	// 回访 → 已办结 PUBLIC [STOP_CLOCKS RECORD_SATISFACTION]
	// FORBIDDEN 居民无权执行「重办」
	// CONFLICT 当前状态（已办结）不能执行「派单」
	// [REOPEN]
}
