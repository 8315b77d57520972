package healthcode

import (
	"context"
	"time"
)

// JointMeetingMember is one member of a joint meeting (联席会议).
type JointMeetingMember struct {
	Department string
	Name       string
	Role       string
	Contact    string // a phone, masked when listed to others
}

// JointMeetingList is a city's or county's submitted list.
type JointMeetingList struct {
	ID          int64
	RegionCode  string
	Members     []JointMeetingMember
	SubmittedBy string
	SubmittedAt time.Time
	DueAt       time.Time
	OnTime      bool
}

// SupervisionService holds the supervision duties of cities and counties.
type SupervisionService interface {
	// SubmitJointMeetingList records the joint meeting list of a city or
	// county (administrators of that region, report.submit). Submitted before
	// the deadline counts as on time; a later resubmission keeps the first
	// on-time status. Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
	SubmitJointMeetingList(ctx context.Context, region string, members []JointMeetingMember) (*JointMeetingList, error)
	// JointMeetingLists returns the latest list of each city and county
	// inside region that the caller may see (administrators, supervisors),
	// with the regions that have not submitted as lists without members.
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
	JointMeetingLists(ctx context.Context, region string) ([]*JointMeetingList, error)
}
