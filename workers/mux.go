package workers

import (
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
	"healthcode/postgres"
)

// Deps are what the task handlers need.
type Deps struct {
	DB     *postgres.DB
	Sender healthcode.SMSSender
	Logger *slog.Logger
	// Purger runs maintenance:purge_auth; nil means DB.
	Purger AuthPurger
	// National pushes codes to the national platform; nil when not configured.
	National *postgres.NationalPush
	// RankingPolicy scores the Friday ranking reports; zero: the default.
	RankingPolicy healthcode.RankingPolicy
	// JointMeetingDue is the deadline of joint meeting lists for the
	// indicators; zero means postgres.DefaultJointMeetingDue.
	JointMeetingDue time.Time
}

var _ AuthPurger = (*postgres.DB)(nil)

// NewMux returns the one mux that registers every task type's handler. Run
// uses it; tests and other servers (e.g. the dev command's in-process
// worker) may too.
func NewMux(deps Deps) *asynq.ServeMux {
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	purger := deps.Purger
	if purger == nil && deps.DB != nil {
		purger = deps.DB
	}
	mux := asynq.NewServeMux()
	mux.Handle(healthcode.TaskNotifySMS, &NotifySMSHandler{DB: deps.DB, Sender: deps.Sender})
	mux.Handle(healthcode.TaskPurgeAuth, &PurgeAuthHandler{Purger: purger, Logger: logger})
	codes := &CodesHandler{DB: deps.DB, Logger: logger}
	for _, t := range []string{healthcode.TaskFanOutArea, healthcode.TaskFanOutAll, healthcode.TaskReevaluateBatch, healthcode.TaskReevaluateRange, healthcode.TaskReevaluateDue} {
		mux.Handle(t, codes)
	}
	if deps.National != nil {
		h := &NationalHandler{Push: deps.National}
		mux.Handle(healthcode.TaskNationalPush, h)
		mux.Handle(healthcode.TaskNationalCheck, h)
	}
	if deps.DB != nil {
		mux.Handle(healthcode.TaskWeeklyDrafts, &WeeklyDraftsHandler{Supervision: &postgres.SupervisionService{DB: deps.DB}})
		mux.Handle(healthcode.TaskRankingReports, &RankingReportsHandler{Rankings: &postgres.RankingService{DB: deps.DB, Policy: deps.RankingPolicy}})
		mux.Handle(healthcode.TaskTicketDeadlines, &TicketDeadlinesHandler{Tickets: postgres.NewTicketService(deps.DB), Logger: logger})
		mux.Handle(healthcode.TaskIndicatorsRecompute, &IndicatorsHandler{
			Indicators: &postgres.IndicatorService{DB: deps.DB, JointMeetingDue: deps.JointMeetingDue}, Logger: logger})
	}
	return mux
}
