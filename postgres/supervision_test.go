package postgres_test

import (
	"context"
	"testing"
	"time"

	"healthcode"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// A list submitted before the deadline is on time, after it late; a late
// resubmission keeps an earlier on-time status.
func TestJointMeetingDeadline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &healthcode.OffsetClock{}
	db := &postgres.DB{Pool: pgtest.New(t), Clock: clock}
	enforcer, err := rbac.New(func(context.Context) ([]healthcode.Grant, error) {
		return []healthcode.Grant{{ID: 1, StaffID: 1, Role: healthcode.RoleAdmin, RegionCode: "6101"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Authz = enforcer
	due := time.Date(2026, 12, 1, 17, 0, 0, 0, time.FixedZone("CST", 8*3600))
	svc := &postgres.SupervisionService{DB: db, JointMeetingDue: due}
	actx := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: 1, Name: "xian_admin"})
	members := []healthcode.JointMeetingMember{{Department: "市卫健委", Name: "王主任", Role: "召集人", Contact: "029-86780000"}}
	clock.Set(due.Add(-time.Hour))
	if l, err := svc.SubmitJointMeetingList(actx, "6101", members); err != nil || !l.OnTime {
		t.Fatalf("before the deadline: %+v, %v", l, err)
	}
	clock.Set(due.Add(time.Hour))
	if l, err := svc.SubmitJointMeetingList(actx, "6101", members); err != nil || !l.OnTime {
		t.Fatalf("resubmitted after an on-time list: %+v, %v", l, err)
	}
	if l, err := svc.SubmitJointMeetingList(actx, "610113", members); err != nil || l.OnTime {
		t.Fatalf("first list after the deadline: %+v, %v", l, err)
	}
}
