package healthcode

// Role is a named set of permissions. A staff member holds roles through
// grants, each at a region; the role's permissions apply inside that region.
type Role string

// The roles of SPEC §1–§7. The administrator of each of the six levels is the
// one role ADMIN granted at a region of that level.
const (
	RoleAdmin            Role = "ADMIN"             // 六级管理员: province, city, county, street, community or compound
	RoleInstitutionAdmin Role = "INSTITUTION_ADMIN" // 机构管理员 (non-six-level)
	RoleInspector        Role = "INSPECTOR"         // 防疫员 of an institution
	RoleHealthOfficer    Role = "HEALTH_OFFICER"    // enters medical events, area risk, designations
	RoleOperator         Role = "OPERATOR"          // 12320 hotline operator
	RoleHandler          Role = "HANDLER"           // handling unit staff for tickets
	RoleSupervisor       Role = "SUPERVISOR"        // 督导: aggregates only
	RoleRuleAdmin        Role = "RULE_ADMIN"        // publishes rule sets
	RoleAuditor          Role = "AUDITOR"           // reads the audit log
	RoleSubsystem        Role = "SUBSYSTEM"         // a city sub-system's machine client
	RoleMedicalClient    Role = "MEDICAL_CLIENT"    // a medical institution's machine client (API key)
	RoleResident         Role = "RESIDENT"          // a resident account (implicit, province-wide)
)

// StaffRoles lists the roles that may be granted to staff accounts.
var StaffRoles = []Role{
	RoleAdmin, RoleInstitutionAdmin, RoleInspector, RoleHealthOfficer, RoleOperator,
	RoleHandler, RoleSupervisor, RoleRuleAdmin, RoleAuditor,
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleInstitutionAdmin, RoleInspector, RoleHealthOfficer, RoleOperator,
		RoleHandler, RoleSupervisor, RoleRuleAdmin, RoleAuditor, RoleSubsystem, RoleMedicalClient, RoleResident:
		return true
	}
	return false
}

// Label is the role's Chinese name for the user interface.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "六级管理员"
	case RoleInstitutionAdmin:
		return "机构管理员"
	case RoleInspector:
		return "防疫员"
	case RoleHealthOfficer:
		return "卫生健康人员"
	case RoleOperator:
		return "12320话务员"
	case RoleHandler:
		return "承办人员"
	case RoleSupervisor:
		return "督导人员"
	case RoleRuleAdmin:
		return "规则管理员"
	case RoleAuditor:
		return "审计员"
	case RoleSubsystem:
		return "市级子系统"
	case RoleMedicalClient:
		return "医疗机构接口"
	case RoleResident:
		return "居民"
	}
	return string(r)
}

// Permission is an (object, action) pair of the casbin policy.
type Permission struct {
	Object string
	Action string
}

// String renders the permission as "object.action".
func (p Permission) String() string { return p.Object + "." + p.Action }

// Permissions checked by the services. The role → permission policy lives in
// rbac/policy.csv; every permission named here appears there.
var (
	PermRegionRead       = Permission{"region", "read"}
	PermCompoundCreate   = Permission{"region", "create_compound"}
	PermStaffRead        = Permission{"staff", "read"}
	PermStaffCreate      = Permission{"staff", "create"}
	PermGrantManage      = Permission{"grant", "manage"}
	PermAuditRead        = Permission{"audit", "read"}
	PermAPIKeyManage     = Permission{"apikey", "manage"}
	PermPersonRead       = Permission{"person", "read"}
	PermPersonUnmask     = Permission{"person", "unmask"}
	PermPersonDeclare    = Permission{"person", "declare"}
	PermFactWrite        = Permission{"fact", "write"}
	PermAreaRiskWrite    = Permission{"area_risk", "write"}
	PermDesignate        = Permission{"designation", "write"}
	PermDesignateApprove = Permission{"designation", "approve"}
	PermColourApprove    = Permission{"colour", "approve"}
	PermRuleSetRead      = Permission{"ruleset", "read"}
	PermRuleSetWrite     = Permission{"ruleset", "write"}
	PermRuleSetApprove   = Permission{"ruleset", "approve"}
	PermInstitutionRead  = Permission{"institution", "read"}
	PermInstitutionAdmin = Permission{"institution", "manage"}
	PermInspectorManage  = Permission{"inspector", "manage"}
	PermScanRecord       = Permission{"scan", "record"}
	PermScanRead         = Permission{"scan", "read"}
	PermFeverRead        = Permission{"fever", "read"}
	PermFeverHandle      = Permission{"fever", "handle"}
	PermPassCardReview   = Permission{"passcard", "review"}
	PermTicketCreate     = Permission{"ticket", "create"}
	PermTicketRead       = Permission{"ticket", "read"}
	PermTicketDispatch   = Permission{"ticket", "dispatch"}
	PermTicketHandle     = Permission{"ticket", "handle"}
	PermTicketSupervise  = Permission{"ticket", "supervise"}
	PermIndicatorRead    = Permission{"indicator", "read"}
	PermRankingRead      = Permission{"ranking", "read"}
	PermRankingGenerate  = Permission{"ranking", "generate"}
	PermReportSubmit     = Permission{"report", "submit"}
	PermExchangePush     = Permission{"exchange", "push"}
	PermMedicalRecord    = Permission{"medical", "record"}
	PermDeviationRead    = Permission{"deviation", "read"}
	PermTrustManage      = Permission{"trust", "manage"}
	PermResponseLevel    = Permission{"response_level", "write"}
)
