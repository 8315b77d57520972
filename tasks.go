package healthcode

// Background tasks: every task type (`area:verb`) with its payload, in one
// place. The services write the outbox tasks in the transaction of the change
// that causes them (package postgres, Tx.Outbox); a relay hands them to the
// job queue; the scheduler enqueues the periodic ones, one per time slot; the
// handlers of package workers run them all.

// Outbox tasks: written by a service's transaction, relayed to the queue with
// the task id "outbox:<id>".
const (
	// TaskNotifySMS sends one text message. Payload SealedSMS.
	TaskNotifySMS = "notify:sms"
	// TaskFanOutArea splits the persons affected by an area designation into
	// batches of TaskReevaluateBatch (and, with Late, the late pass).
	// Payload FanOutAreaPayload.
	TaskFanOutArea = "codes:fanout_area"
	// TaskFanOutAll splits every person into id ranges of
	// TaskReevaluateRange after a rule set is published. Payload
	// FanOutAllPayload.
	TaskFanOutAll = "codes:fanout_all"
	// TaskReevaluateBatch re-evaluates listed persons. Payload BatchPayload.
	TaskReevaluateBatch = "codes:reevaluate"
	// TaskReevaluateRange re-evaluates the persons of an id range. Payload
	// RangePayload.
	TaskReevaluateRange = "codes:reevaluate_range"
)

// Periodic tasks: enqueued by the scheduler with the time slot in the task
// id ("<type>:<slot>"), so that several schedulers enqueue a slot once.
const (
	// TaskPurgeAuth deletes expired sessions, SMS codes and lockouts.
	// Payload SlotPayload (the hour).
	TaskPurgeAuth = "maintenance:purge_auth"
	// TaskPurgeData enforces the retention periods of personal data
	// (docs/privacy.md#retention). Payload SlotPayload (the day).
	TaskPurgeData = "maintenance:purge_data"
	// TaskReevaluateDue re-evaluates the codes whose reevaluate_at has
	// passed. Payload SlotPayload (the minute).
	TaskReevaluateDue = "codes:reevaluate_due"
	// TaskTicketDeadlines warns units at 80 % of a deadline and supervises
	// (督办) overdue tickets. Payload SlotPayload (the minute).
	TaskTicketDeadlines = "hotline:deadlines"
	// TaskAuditAnchor signs the audit chain's head and publishes it outside
	// the database (AuditAnchorer). Payload SlotPayload (the minute).
	TaskAuditAnchor = "audit:anchor"
	// TaskIndicatorsRecompute marks today and yesterday dirty and recomputes
	// the dirty days of the supervision indicators. Payload SlotPayload.
	TaskIndicatorsRecompute = "indicators:recompute"
	// TaskWeeklyDrafts generates the drafts of the cities' weekly usage
	// reports (上周健康码使用情况). Payload DayPayload.
	TaskWeeklyDrafts = "supervision:weekly_drafts"
	// TaskRankingReports generates the ranking reports (排名通报) of the
	// previous Monday–Sunday. Payload DayPayload.
	TaskRankingReports = "supervision:ranking_reports"
	// TaskNationalPush sends the previous day's new and changed codes to the
	// national platform. Payload DayPayload (the day pushed).
	TaskNationalPush = "exchange:national_push"
	// TaskNationalCheck alerts the province administrators when the previous
	// day's push is not acknowledged yet. Payload DayPayload.
	TaskNationalCheck = "exchange:national_check"
)

// TaskType describes a task type for the documentation.
type TaskType struct {
	Type string
	// Periodic is set for the scheduler's tasks, clear for outbox tasks.
	Periodic bool
	// Doc says what a run does, in a sentence.
	Doc string
}

// Tasks lists every task type, for the documentation.
var Tasks = []TaskType{
	{TaskNotifySMS, false, "sends one text message (sealed: the outbox and the queue never hold the phone in clear)"},
	{TaskFanOutArea, false, "splits the persons affected by an area designation into batches of at most 1,000; a late pass a minute later"},
	{TaskFanOutAll, false, "splits every person into id ranges of 1,000 after a rule set is published"},
	{TaskReevaluateBatch, false, "re-evaluates a batch of persons"},
	{TaskReevaluateRange, false, "re-evaluates the persons of an id range"},
	{TaskPurgeAuth, true, "deletes expired sessions, SMS codes and lockouts"},
	{TaskPurgeData, true, "deletes, drops (scan partitions) or anonymises personal data past its retention period"},
	{TaskReevaluateDue, true, "re-evaluates the codes whose reevaluate_at has passed"},
	{TaskTicketDeadlines, true, "warns handling units at 80 % of a deadline and supervises overdue tickets"},
	{TaskAuditAnchor, true, "signs the audit chain's head and publishes it with the keys (audit-checkpoints.json)"},
	{TaskIndicatorsRecompute, true, "recomputes the supervision indicators of the days whose data changed"},
	{TaskWeeklyDrafts, true, "drafts every city's weekly usage report"},
	{TaskRankingReports, true, "generates the ranking reports of the previous week"},
	{TaskNationalPush, true, "pushes the previous day's new and changed codes to the national platform (when configured)"},
	{TaskNationalCheck, true, "alerts the province administrators when the previous day's push is not acknowledged (when configured)"},
}

// SealedSMS is the payload of notify:sms: the JSON of an SMSMessage,
// encrypted with the personal-data key.
type SealedSMS struct {
	Sealed []byte `json:"sealed"`
}

// FanOutAreaPayload is the payload of codes:fanout_area.
type FanOutAreaPayload struct {
	AreaRiskID int64 `json:"areaRiskId"`
	// Late marks the second pass a minute later (the persons whose stays or
	// scans were recorded since shortly before the designation).
	Late bool `json:"late,omitempty"`
}

// FanOutAllPayload is the payload of codes:fanout_all.
type FanOutAllPayload struct {
	Cause string `json:"cause"`
}

// ReevaluateBatchSize is the largest number of persons one re-evaluation
// task (and transaction) touches.
const ReevaluateBatchSize = 1000

// BatchPayload is the payload of codes:reevaluate: at most
// ReevaluateBatchSize person ids.
type BatchPayload struct {
	IDs   []int64 `json:"ids"`
	Cause string  `json:"cause"`
}

// RangePayload is the payload of codes:reevaluate_range: the persons with
// From <= id < To, at most ReevaluateBatchSize of them.
type RangePayload struct {
	From  int64  `json:"from"`
	To    int64  `json:"to"`
	Cause string `json:"cause"`
}

// SlotPayload is the payload of a periodic task of an hour or a minute: the
// slot it was scheduled for (informational).
type SlotPayload struct {
	Slot string `json:"slot"`
}

// DayPayload is the payload of a periodic task of a day: the day,
// YYYY-MM-DD in China Standard Time.
type DayPayload struct {
	Day string `json:"day"`
}
