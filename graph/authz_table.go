package graph

// AuthzRow declares who may call one operation of the schema (issue 12 §6):
// the callers without a role (anonymous, a resident, a staff account without
// any grant), and — to be completed — each role inside and outside the
// object's region.
type AuthzRow struct {
	// Anonymous: a caller without a session may call it.
	Anonymous bool
	// Resident: a resident's session may call it (for a resident, always
	// about their own persons, or public reference data).
	Resident bool
	// Ungranted: a staff account holding no grant may call it (about itself,
	// or public reference data).
	Ungranted bool
	// Dev: the operation exists in dev mode only.
	Dev bool
	// Roles maps a role to whether it may act inside and outside the
	// object's region ("in", "out", "in+out"); nil while not yet declared.
	// TODO(issue 12 §6): the lead adds the rows of the two-person,
	// guardianship, privacy and institution-approval operations and the
	// role columns at merge.
	Roles map[string]string
}

// AuthzTable is the authorization table: one row per query, mutation and
// subscription, keyed "Query.name", "Mutation.name", "Subscription.name".
// graph_test.TestAuthorizationTableCoversSchema fails when the schema and the
// table disagree and prints the rows to add; TestAuthorizationTableDenials
// calls every operation as every caller the table denies and fails on any
// answer but a refusal (UNAUTHENTICATED, FORBIDDEN, or NOT_FOUND for a staff
// account without jurisdiction). docs/security.md explains it.
var AuthzTable = map[string]AuthzRow{
	"Mutation.approveColourRequest":   {},
	"Mutation.approveGrant":           {},
	"Mutation.rejectColourRequest":    {},
	"Mutation.verifyStaffPhone":       {Ungranted: true},
	"Query.colourRequests":            {},
	"Mutation.bindGuardian":           {},
	"Mutation.claimOwnCode":           {Resident: true},
	"Mutation.requestCodeReview":      {Resident: true},
	"Mutation.unbindGuardian":         {},
	"Query.guardianships":             {Resident: true},
	"Query.myAccessLog":               {Resident: true},
	"Query.myData":                    {Resident: true},
	"Mutation.addTrustedIssuer":       {},
	"Mutation.applyPassCard":          {Resident: true},
	"Mutation.approveInstitution":     {},
	"Mutation.approveDesignation":     {},
	"Mutation.approveRuleSet":         {},
	"Mutation.checkIn":                {Resident: true},
	"Mutation.closeTicket":            {},
	"Mutation.correctPersonInfo":      {Resident: true},
	"Mutation.correctTicketPlace":     {},
	"Mutation.createApiKey":           {},
	"Mutation.createCompound":         {},
	"Mutation.createHandlingUnit":     {},
	"Mutation.createInspector":        {},
	"Mutation.createStaff":            {},
	"Mutation.createTicket":           {},
	"Mutation.createVenue":            {},
	"Mutation.decideExtension":        {},
	"Mutation.designatePerson":        {},
	"Mutation.devAdvanceClock":        {Anonymous: true, Resident: true, Ungranted: true, Dev: true},
	"Mutation.devSetClock":            {Anonymous: true, Resident: true, Ungranted: true, Dev: true},
	"Mutation.dispatchTicket":         {},
	"Mutation.escalateTicket":         {},
	"Mutation.fileAppeal":             {Resident: true},
	"Mutation.generateRankingReport":  {},
	"Mutation.generateWeeklyDrafts":   {},
	"Mutation.grantRole":              {},
	"Mutation.handleFeverReport":      {},
	"Mutation.issuePaperCode":         {},
	"Mutation.login":                  {Anonymous: true, Resident: true, Ungranted: true},
	"Mutation.loginResident":          {Anonymous: true, Resident: true, Ungranted: true},
	"Mutation.logout":                 {Resident: true, Ungranted: true},
	"Mutation.mergeTickets":           {},
	"Mutation.noteTicket":             {},
	"Mutation.publishRuleSet":         {},
	"Mutation.pushSubsystemRecords":   {},
	"Mutation.rateTicket":             {Resident: true},
	"Mutation.recordCallback":         {},
	"Mutation.recordMedicalEvent":     {},
	"Mutation.recordScans":            {},
	"Mutation.redispatchTicket":       {},
	"Mutation.registerInstitution":    {Anonymous: true},
	"Mutation.rejectInstitution":      {},
	"Mutation.rejectAppeal":           {},
	"Mutation.removeInspector":        {},
	"Mutation.reopenTicket":           {},
	"Mutation.replyTicket":            {},
	"Mutation.requestExtension":       {},
	"Mutation.requestSmsCode":         {Anonymous: true, Resident: true, Ungranted: true},
	"Mutation.resolveAppeal":          {},
	"Mutation.retireTrustedIssuer":    {},
	"Mutation.retractFact":            {},
	"Mutation.returnTicket":           {},
	"Mutation.reviewPassCard":         {},
	"Mutation.revokeRole":             {},
	"Mutation.setAreaRisk":            {},
	"Mutation.setResponseLevel":       {},
	"Mutation.signTicket":             {},
	"Mutation.startTicket":            {},
	"Mutation.submitDeclaration":      {Resident: true},
	"Mutation.submitJointMeetingList": {},
	"Mutation.submitWeeklyReport":     {},
	"Mutation.superviseTicket":        {},
	"Mutation.suspendInstitution":     {},
	"Mutation.suspendVenue":           {},
	"Mutation.unmaskPerson":           {},
	"Query.appealView":                {},
	"Query.areaRisks":                 {Resident: true},
	"Query.auditLog":                  {},
	"Query.alerts":                    {},
	"Mutation.acknowledgeAlert":       {},
	"Query.codeHistory":               {Resident: true},
	"Query.currentResponseLevel":      {Anonymous: true, Resident: true, Ungranted: true},
	"Query.devMessages":               {Anonymous: true, Resident: true, Ungranted: true, Dev: true},
	"Query.deviationSummary":          {},
	"Query.deviations":                {},
	"Query.feverReports":              {},
	"Query.findPersons":               {},
	"Query.handlingUnits":             {Ungranted: true},
	"Query.indicatorSeries":           {Ungranted: true},
	"Query.inspectors":                {Resident: true},
	"Query.institutions":              {},
	"Query.jointMeetingLists":         {},
	"Query.knowledge":                 {Ungranted: true},
	"Query.me":                        {Anonymous: true, Resident: true, Ungranted: true},
	"Query.myAppeals":                 {Resident: true, Ungranted: true},
	"Query.myCode":                    {Resident: true},
	"Query.myCredential":              {Resident: true},
	"Query.myDependents":              {Resident: true, Ungranted: true},
	"Query.myFacts":                   {Resident: true},
	"Query.nationalPushes":            {},
	"Query.passCardApplications":      {},
	"Query.person":                    {},
	"Query.personFacts":               {},
	"Query.persons":                   {},
	"Query.previewRuleSet":            {},
	"Query.ranking":                   {Ungranted: true},
	"Query.rankingReports":            {},
	"Query.rankings":                  {Ungranted: true},
	"Query.region":                    {Resident: true, Ungranted: true},
	"Query.regions":                   {Resident: true},
	"Query.registeredCheckpointTypes": {Resident: true, Ungranted: true},
	"Query.requiredCheckpointTypes":   {Anonymous: true, Resident: true, Ungranted: true},
	"Query.responseLevels":            {Resident: true, Ungranted: true},
	"Query.ruleSets":                  {},
	"Query.scans":                     {},
	"Query.staff":                     {},
	"Query.ticket":                    {Resident: true},
	"Query.ticketNotices":             {},
	"Query.tickets":                   {},
	"Query.trustedIssuers":            {Ungranted: true},
	"Query.unitStats":                 {},
	"Query.venueStats":                {Ungranted: true},
	"Query.venues":                    {},
	"Query.verifyCode":                {Anonymous: true, Resident: true, Ungranted: true},
	"Query.weeklyReports":             {},
	"Query.workCalendar":              {Anonymous: true, Resident: true, Ungranted: true},
	"Query.workingHours":              {Anonymous: true, Resident: true, Ungranted: true},
	"Subscription.ticketQueue":        {},
}
