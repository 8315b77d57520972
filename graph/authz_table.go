package graph

// AuthzRow declares who may call one operation of the schema (issue 12 §6):
// the callers without a role (anonymous, a resident, a staff account without
// any grant) and, for the operations of staff, the permissions that let a
// role call it inside and outside the object's region.
//
// The role columns are not written out by hand: a role may call an operation
// with Perms when rbac/policy.csv gives the role one of them (docs/roles.md),
// and then only inside the region of its grant (the region subtree of the
// grant; an object outside it is refused with FORBIDDEN or hidden with
// NOT_FOUND). Province rows are checked at the province (61) only: the role
// must be granted there, and a grant anywhere below the province never
// suffices. graph_test.authzRoles derives the role → "in"/"-" column from
// Perms and the policy, so that the table follows a change of the policy.
type AuthzRow struct {
	// Anonymous: a caller without a session may call it.
	Anonymous bool
	// Resident: a resident's session may call it (for a resident, always
	// about their own persons, or public reference data).
	Resident bool
	// Ungranted: a staff account holding no grant may call it (about itself,
	// or public reference data); every role may then call it too.
	Ungranted bool
	// Dev: the operation exists in dev mode only.
	Dev bool
	// Perms lists the permissions ("object.action" of rbac/policy.csv), any
	// one of which lets a staff account call the operation inside the
	// region of the grant that holds it; the service checks it through
	// postgres/authz.go. Empty for an operation no role opens (residents'
	// and public operations). The ticket lifecycle operations name the
	// permissions that make a ticket visible to its operator, handler or
	// supervisor; which of them may take which step is the hotline state
	// machine's (hotline/rules.go, docs/hotline.md).
	Perms []string
	// Province: the operation is province-wide (rule sets, the trust list,
	// the response level, ranking reports, national pushes): it has no
	// object region, and the permission counts only when granted at 61.
	Province bool
}

// AuthzTable is the authorization table: one row per query, mutation and
// subscription, keyed "Query.name", "Mutation.name", "Subscription.name".
// graph_test.TestAuthorizationTableCoversSchema fails when the schema and the
// table disagree and prints the rows to add; TestAuthorizationTableDenials
// calls every operation as every caller the table denies and fails on any
// answer but a refusal (UNAUTHENTICATED, FORBIDDEN, or NOT_FOUND for a staff
// account without jurisdiction). docs/security.md explains it.
var AuthzTable = map[string]AuthzRow{
	"Mutation.acknowledgeAlert":       {Perms: []string{"audit.read"}},
	"Mutation.revokePaperCode":        {Perms: []string{"person.declare"}},
	"Query.alerts":                    {Perms: []string{"audit.read"}},
	"Query.areaRiskOutcome":           {Perms: []string{"area_risk.write"}},
	"Query.auditVerification":         {Perms: []string{"audit.read"}, Province: true},
	"Query.previewAreaRisk":           {Perms: []string{"area_risk.write"}},
	"Mutation.approveColourRequest":   {Perms: []string{"colour.approve"}},
	"Mutation.approveGrant":           {Perms: []string{"grant.manage"}},
	"Mutation.rejectColourRequest":    {Perms: []string{"colour.approve"}},
	"Mutation.verifyStaffPhone":       {Ungranted: true},
	"Query.colourRequests":            {Perms: []string{"person.read", "colour.approve"}},
	"Mutation.bindGuardian":           {Perms: []string{"person.declare"}},
	"Mutation.claimOwnCode":           {Resident: true},
	"Mutation.requestCodeReview":      {Resident: true},
	"Mutation.unbindGuardian":         {Perms: []string{"person.declare"}},
	"Query.guardianships":             {Resident: true, Perms: []string{"person.read"}},
	"Query.myAccessLog":               {Resident: true},
	"Query.myData":                    {Resident: true},
	"Mutation.addTrustedIssuer":       {Perms: []string{"trust.manage"}, Province: true},
	"Mutation.applyPassCard":          {Resident: true},
	"Mutation.approveInstitution":     {Perms: []string{"institution.manage"}},
	"Mutation.approveDesignation":     {Perms: []string{"designation.approve"}},
	"Mutation.approveRuleSet":         {Perms: []string{"ruleset.approve"}, Province: true},
	"Mutation.checkIn":                {Resident: true},
	"Mutation.closeTicket":            {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.correctPersonInfo":      {Resident: true},
	"Mutation.correctTicketPlace":     {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.createApiKey":           {Perms: []string{"apikey.manage"}},
	"Mutation.createMachineClientKey": {Perms: []string{"apikey.manage"}},
	"Mutation.approveApiKey":          {Perms: []string{"apikey.manage"}},
	"Mutation.revokeApiKey":           {Perms: []string{"apikey.manage"}},
	"Query.apiKeys":                   {Perms: []string{"apikey.manage"}},
	"Mutation.createCompound":         {Perms: []string{"region.create_compound"}},
	"Mutation.createHandlingUnit":     {Perms: []string{"staff.create"}},
	"Mutation.createInspector":        {Perms: []string{"inspector.manage"}},
	"Mutation.createStaff":            {Perms: []string{"staff.create"}},
	"Mutation.createTicket":           {Perms: []string{"ticket.create"}},
	"Mutation.createVenue":            {Perms: []string{"institution.manage"}},
	"Mutation.decideExtension":        {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.designatePerson":        {Perms: []string{"designation.write"}},
	"Mutation.devAdvanceClock":        {Anonymous: true, Resident: true, Ungranted: true, Dev: true},
	"Mutation.devSetClock":            {Anonymous: true, Resident: true, Ungranted: true, Dev: true},
	"Mutation.dispatchTicket":         {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.escalateTicket":         {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.fileAppeal":             {Resident: true},
	"Mutation.generateRankingReport":  {Perms: []string{"ranking.generate"}, Province: true},
	"Mutation.generateWeeklyDrafts":   {Perms: []string{"report.submit"}, Province: true},
	"Mutation.grantRole":              {Perms: []string{"grant.manage"}},
	"Mutation.handleFeverReport":      {Perms: []string{"fever.handle"}},
	"Mutation.issuePaperCode":         {Perms: []string{"person.declare"}},
	"Mutation.login":                  {Anonymous: true, Resident: true, Ungranted: true},
	"Mutation.loginResident":          {Anonymous: true, Resident: true, Ungranted: true},
	"Mutation.logout":                 {Resident: true, Ungranted: true},
	"Mutation.mergeTickets":           {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.noteTicket":             {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.publishRuleSet":         {Perms: []string{"ruleset.write"}, Province: true},
	"Mutation.pushSubsystemRecords":   {Perms: []string{"exchange.push"}},
	"Mutation.rateTicket":             {Resident: true},
	"Mutation.recordCallback":         {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.recordMedicalEvent":     {Perms: []string{"fact.write"}},
	"Mutation.recordScans":            {Perms: []string{"scan.record"}},
	"Mutation.redispatchTicket":       {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.registerInstitution":    {Anonymous: true},
	"Mutation.rejectInstitution":      {Perms: []string{"institution.manage"}},
	"Mutation.rejectAppeal":           {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.removeInspector":        {Perms: []string{"inspector.manage"}},
	"Mutation.reopenTicket":           {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.replyTicket":            {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.requestExtension":       {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.requestSmsCode":         {Anonymous: true, Resident: true, Ungranted: true},
	"Mutation.resolveAppeal":          {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.retireTrustedIssuer":    {Perms: []string{"trust.manage"}, Province: true},
	"Mutation.retractFact":            {Perms: []string{"fact.write"}},
	"Mutation.returnTicket":           {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.reviewPassCard":         {Perms: []string{"passcard.review"}},
	"Mutation.revokeRole":             {Perms: []string{"grant.manage"}},
	"Mutation.setAreaRisk":            {Perms: []string{"area_risk.write"}},
	"Mutation.setResponseLevel":       {Perms: []string{"response_level.write"}, Province: true},
	"Mutation.signTicket":             {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.startTicket":            {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.submitDeclaration":      {Resident: true},
	"Mutation.submitJointMeetingList": {Perms: []string{"report.submit"}},
	"Mutation.submitWeeklyReport":     {Perms: []string{"report.submit"}},
	"Mutation.superviseTicket":        {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Mutation.suspendInstitution":     {Perms: []string{"institution.manage"}},
	"Mutation.suspendVenue":           {Perms: []string{"institution.manage"}},
	"Mutation.unmaskPerson":           {Perms: []string{"person.unmask"}},
	"Query.appealView":                {Perms: []string{"person.read"}},
	"Query.areaRisks":                 {Resident: true, Perms: []string{"region.read"}},
	"Query.auditLog":                  {Perms: []string{"audit.read"}},
	"Query.codeHistory":               {Resident: true, Perms: []string{"person.read"}},
	"Query.currentResponseLevel":      {Anonymous: true, Resident: true, Ungranted: true},
	"Query.devMessages":               {Anonymous: true, Resident: true, Ungranted: true, Dev: true},
	"Query.deviationSummary":          {Perms: []string{"deviation.read"}},
	"Query.deviations":                {Perms: []string{"deviation.read"}},
	"Query.feverReports":              {Perms: []string{"fever.read"}},
	"Query.findPersons":               {Perms: []string{"person.read"}},
	"Query.handlingUnits":             {Ungranted: true},
	"Query.indicatorSeries":           {Ungranted: true},
	"Query.inspectors":                {Resident: true, Perms: []string{"inspector.manage"}},
	"Query.institutions":              {Perms: []string{"institution.read", "institution.manage"}},
	"Query.jointMeetingLists":         {Perms: []string{"indicator.read", "report.submit"}},
	"Query.knowledge":                 {Ungranted: true},
	"Query.me":                        {Anonymous: true, Resident: true, Ungranted: true},
	"Query.myAppeals":                 {Resident: true, Ungranted: true},
	"Query.myCode":                    {Resident: true},
	"Query.myCredential":              {Resident: true},
	"Query.myDependents":              {Resident: true, Ungranted: true},
	"Query.myFacts":                   {Resident: true},
	"Query.nationalPushes":            {Perms: []string{"indicator.read"}, Province: true},
	"Query.passCardApplications":      {Perms: []string{"passcard.review"}},
	"Query.person":                    {Perms: []string{"person.read"}},
	"Query.personFacts":               {Perms: []string{"person.read"}},
	"Query.persons":                   {Perms: []string{"person.read"}},
	"Query.previewRuleSet":            {Perms: []string{"ruleset.write"}, Province: true},
	"Query.ranking":                   {Ungranted: true},
	"Query.rankingReports":            {Perms: []string{"ranking.read"}},
	"Query.rankings":                  {Ungranted: true},
	"Query.region":                    {Resident: true, Ungranted: true},
	"Query.regions":                   {Resident: true, Perms: []string{"region.read"}},
	"Query.publicRegions":             {Anonymous: true, Resident: true, Ungranted: true},
	"Query.registeredCheckpointTypes": {Resident: true, Ungranted: true},
	"Query.requiredCheckpointTypes":   {Anonymous: true, Resident: true, Ungranted: true},
	"Query.responseLevels":            {Resident: true, Ungranted: true},
	"Query.ruleSets":                  {Perms: []string{"ruleset.read"}, Province: true},
	"Query.scans":                     {Perms: []string{"scan.read"}},
	"Query.staff":                     {Perms: []string{"staff.read"}},
	"Query.pendingGrants":             {Perms: []string{"grant.manage"}},
	"Query.ticket":                    {Resident: true, Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Query.ticketNotices":             {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Query.tickets":                   {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Query.trustedIssuers":            {Ungranted: true},
	"Query.unitStats":                 {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
	"Query.venueStats":                {Ungranted: true},
	"Query.venues":                    {Perms: []string{"institution.read", "institution.manage"}},
	"Query.verifyCode":                {Anonymous: true, Resident: true, Ungranted: true},
	"Query.weeklyReports":             {Perms: []string{"indicator.read", "report.submit"}},
	"Query.workCalendar":              {Anonymous: true, Resident: true, Ungranted: true},
	"Query.workingHours":              {Anonymous: true, Resident: true, Ungranted: true},
	"Subscription.ticketQueue":        {Perms: []string{"ticket.dispatch", "ticket.handle", "ticket.supervise"}},
}
