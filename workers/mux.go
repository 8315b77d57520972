package workers

import (
	"log/slog"

	"github.com/hibiken/asynq"

	"healthcode"
)

// Deps are the services the task handlers call: interfaces of the root
// package, which the binary (cmd/healthcode) wires to their implementations.
// A handler whose service is nil is not registered, except notify:sms,
// the maintenance:* and codes:* tasks, whose handlers fail on a
// nil service.
type Deps struct {
	// SMS and Sender run notify:sms.
	SMS    healthcode.SMSOutbox
	Sender healthcode.SMSSender
	Logger *slog.Logger
	// Purger runs maintenance:purge_auth.
	Purger healthcode.AuthPurger
	// DataPurger runs maintenance:purge_data with Retention (zero:
	// healthcode.DefaultRetention).
	DataPurger healthcode.DataPurger
	Retention  healthcode.Retention
	// Codes runs the codes:* tasks.
	Codes healthcode.Reevaluator
	// Supervision drafts the weekly reports (supervision:weekly_drafts).
	Supervision healthcode.SupervisionService
	// Rankings generates the Friday ranking reports.
	Rankings healthcode.RankingGenerator
	// Tickets watches the hotline's deadlines (hotline:deadlines).
	Tickets healthcode.DeadlineProcessor
	// Indicators recomputes the indicators (indicators:recompute).
	Indicators healthcode.IndicatorRecomputer
	// Anchors signs and publishes the audit chain's head (audit:anchor).
	Anchors healthcode.AuditAnchorer
	// National pushes codes to the national platform; nil when not
	// configured.
	National healthcode.NationalPusher
}

// NewMux returns the one mux that registers every task type's handler. Run
// uses it; tests and other servers (e.g. the dev command's in-process
// worker) may too.
func NewMux(deps Deps) *asynq.ServeMux {
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	mux := asynq.NewServeMux()
	mux.Handle(healthcode.TaskNotifySMS, &NotifySMSHandler{DB: deps.SMS, Sender: deps.Sender})
	mux.Handle(healthcode.TaskPurgeAuth, &PurgeAuthHandler{Purger: deps.Purger, Logger: logger})
	mux.Handle(healthcode.TaskPurgeData, &PurgeDataHandler{Purger: deps.DataPurger, Retention: deps.Retention, Logger: logger})
	codes := &CodesHandler{DB: deps.Codes, Logger: logger}
	for _, t := range []string{healthcode.TaskFanOutArea, healthcode.TaskFanOutAll, healthcode.TaskReevaluateBatch,
		healthcode.TaskReevaluateRange, healthcode.TaskReevaluateDue} {
		mux.Handle(t, codes)
	}
	if deps.National != nil {
		h := &NationalHandler{Push: deps.National}
		mux.Handle(healthcode.TaskNationalPush, h)
		mux.Handle(healthcode.TaskNationalCheck, h)
	}
	if deps.Supervision != nil {
		mux.Handle(healthcode.TaskWeeklyDrafts, &WeeklyDraftsHandler{Supervision: deps.Supervision})
	}
	if deps.Rankings != nil {
		mux.Handle(healthcode.TaskRankingReports, &RankingReportsHandler{Rankings: deps.Rankings})
	}
	if deps.Tickets != nil {
		mux.Handle(healthcode.TaskTicketDeadlines, &TicketDeadlinesHandler{Tickets: deps.Tickets, Logger: logger})
	}
	if deps.Anchors != nil {
		mux.Handle(healthcode.TaskAuditAnchor, &AuditAnchorHandler{Anchorer: deps.Anchors, Logger: logger})
	}
	if deps.Indicators != nil {
		mux.Handle(healthcode.TaskIndicatorsRecompute, &IndicatorsHandler{Indicators: deps.Indicators, Logger: logger})
	}
	return mux
}
