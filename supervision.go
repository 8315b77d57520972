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

// WeeklyFigures are the figures of a city's weekly usage report, computed
// from the data for the previous week (Monday to Sunday).
type WeeklyFigures struct {
	PeriodFrom    time.Time
	PeriodTo      time.Time
	Persons       int // persons with a code living in the city
	Green         int
	Yellow        int
	Red           int
	NewPersons    int // persons who declared for the first time in the period
	Scans         int // scans at the city's venues in the period
	FeverReports  int
	TicketsOpened int
	TicketsClosed int
}

// WeeklyReport is a city's weekly usage report (上周健康码使用情况).
type WeeklyReport struct {
	ID          int64
	RegionCode  string
	WeekStart   time.Time // Monday of the week the report is due in
	Figures     WeeklyFigures
	Comments    string
	Status      string // DRAFT, SUBMITTED, or MISSING in lists
	GeneratedAt time.Time
	SubmittedBy string
	SubmittedAt *time.Time
	OnTime      bool
	DueAt       time.Time // Friday 16:00 of the week
}

// NationalPushDay is the state of one day's push to the national platform
// (docs/exchange.md): its batches, when the last was acknowledged, and
// whether that was after 10:00 of the next day.
type NationalPushDay struct {
	Day       time.Time // midnight CST of the pushed day
	Batches   int
	Records   int
	StartedAt time.Time
	AckedAt   *time.Time // nil until every batch is acknowledged
	Late      bool
	AlertedAt *time.Time // the 09:30 alert, when one was sent
	// DueAt is 10:00 of the next day.
	DueAt time.Time
	// Status is ON_TIME, LATE, PENDING (not acknowledged yet, before DueAt)
	// or FAILED (not acknowledged after DueAt).
	Status         string
	BatchList      []NationalPushBatch
	FailedAttempts int // attempts of the day's batches that failed
}

// NationalPushBatch is one batch of a day's push with its receipt.
type NationalPushBatch struct {
	Seq       int
	BatchID   string
	Records   int
	Attempts  int
	LastError string
	Receipt   string // empty until acknowledged
	AckedAt   *time.Time
}

// SupervisionService holds the supervision duties of cities and counties.
type SupervisionService interface {
	// GenerateWeeklyDrafts computes the draft of every city's report for the
	// week that contains at (the scheduler, Friday morning; idempotent: a
	// draft is refreshed, a submitted report kept). Callers: the system and
	// province administrators. Errors: FORBIDDEN.
	GenerateWeeklyDrafts(ctx context.Context, at time.Time) (int, error)
	// SubmitWeeklyReport adds the comments and submits a city's report of the
	// week that contains at (administrators of the city, report.submit); on
	// time before Friday 16:00. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND
	// (no draft yet), INVALID, CONFLICT (already submitted).
	SubmitWeeklyReport(ctx context.Context, city string, at time.Time, comments string) (*WeeklyReport, error)
	// WeeklyReports lists the reports of every city for the week that
	// contains at, with MISSING ones, for supervisors and administrators.
	// Errors: UNAUTHENTICATED, FORBIDDEN.
	WeeklyReports(ctx context.Context, at time.Time) ([]*WeeklyReport, error)
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
	// NationalPushes returns the days from..to (both included, at most 366)
	// of the daily national push that have started, newest first, with their
	// batches and receipts (supervisors and province administrators:
	// indicator.read at the province). Errors: UNAUTHENTICATED, FORBIDDEN,
	// INVALID.
	NationalPushes(ctx context.Context, from, to time.Time) ([]*NationalPushDay, error)
}
